"""Masked-LM training throughput: what the continued-pretraining recipe's hours rest on.

The advice prices a full-scale TAPT/DAPT run twice (``core/decision/recipes.py``): on this machine
at the pilot's measured pieces per second, and on one GPU as a projection, the run's operations
(counted by torch on the pilot's first step) over an H100's bf16 peak at an assumed 10-40% of it
busy. This script measures both inputs on whatever machine runs it, for the bundled encoder (or
``--encoder DIR``): one epoch of the pilot's masked-LM training (``adapt/continued.py``) over the
first N training texts of a shared dataset, at the pilot's batch of 32 and the full recipe's 256,
in the job's automatic precision on the job's device (CUDA when torch sees a GPU). It prints and
writes, per batch size, the pieces per second, the counted operations per piece and the achieved
TFLOP/s; on a GPU also the share of ``--peak-tflops`` (default 989, an H100 SXM's dense bf16)
that was kept busy: the figure that checks the projection's assumed 10-40%.

    .venv/bin/python benchmarks/mlm_throughput.py [--texts N] [--dataset NAME]
        [--encoder DIR] [--peak-tflops T] [--out NAME]

Writes benchmarks/results/OUT.json (default ``mlm_throughput``, with ``_cuda`` on a GPU).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import results_file
from advise_walltime import RESULTS, SHARED, _commit

from embedding_advisor_server.core.adapt.continued import MLMRecipe, continue_pretraining
from embedding_advisor_server.core.adapt.masking import texts_of
from embedding_advisor_server.core.backends.bundled import ENCODER_NAME, default_encoder_path
from embedding_advisor_server.core.backends.mlm import MLMProbe
from embedding_advisor_server.core.backends.precision import resolve
from embedding_advisor_server.core.data.parse import parse_jsonl
from embedding_advisor_server.core.decision.recipes import REFERENCE_GPU
from embedding_advisor_server.core.enums import TaskType
from embedding_advisor_server.core.progress import no_check
from embedding_advisor_server.core.schema import Precision


def texts(name: str, count: int) -> list[tuple[str, ...]]:
    """The first ``count`` training inputs of a shared dataset as the masked LM reads them
    (parsed and checked like any dataset; a tagged sentence's words joined)."""
    path = SHARED / name / "train.jsonl"
    data = parse_jsonl(path.read_bytes(), path.name)
    return texts_of(data.inputs[:count], data.task is TaskType.TOKEN_TAGGING)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=1024)
    parser.add_argument("--dataset", default="aclsum_sentences")
    parser.add_argument("--encoder", type=Path, default=None)
    parser.add_argument("--peak-tflops", type=float, default=REFERENCE_GPU.peak_flops / 1e12)
    parser.add_argument("--batches", default="32,256")
    parser.add_argument("--out", default="mlm_throughput")
    args = parser.parse_args()
    encoder = args.encoder or default_encoder_path()
    precision = resolve(Precision.AUTO)
    inputs = texts(args.dataset, args.texts)
    with tempfile.TemporaryDirectory() as cache:
        probe = MLMProbe(encoder, Path(cache))
    rows = []
    for batch in (int(b) for b in args.batches.split(",")):
        recipe = MLMRecipe(batch_size=batch, max_epochs=1)
        t0 = time.perf_counter()
        adapted = continue_pretraining(
            probe.model, probe.tokenizer, inputs, recipe, precision, 0, no_check
        )
        wall = time.perf_counter() - t0
        # The pieces trained per second over the whole call, as the recipe's rate counts them
        # (tokenising and the dev slice's loss included).
        rate = adapted.pieces * adapted.epochs_run / adapted.seconds
        achieved = rate * adapted.flops_per_piece
        row = {
            "batch_size": batch,
            "texts": adapted.texts,
            "steps": adapted.steps,
            "pieces": adapted.pieces,
            "seconds": round(adapted.seconds, 2),
            "wall_seconds": round(wall, 2),
            "pieces_per_second": round(rate, 1),
            "flops_per_piece": round(adapted.flops_per_piece),
            "achieved_tflops": round(achieved / 1e12, 4),
        }
        if precision.device.startswith("cuda"):
            row["share_of_peak"] = round(achieved / (args.peak_tflops * 1e12), 4)
        rows.append(row)
        print(
            f"batch {batch:4d}: {rate:,.0f} pieces/s, {adapted.flops_per_piece / 1e6:,.1f} "
            f"MFLOP/piece, {achieved / 1e12:.3f} TFLOP/s achieved"
            + (f", {row['share_of_peak']:.1%} of peak" if "share_of_peak" in row else "")
        )
    out = args.out + ("_cuda" if precision.device.startswith("cuda") else "")
    results_file.write(
        RESULTS.with_name(out + ".json"),
        {
            "encoder": str(args.encoder) if args.encoder else ENCODER_NAME,
            "dataset": args.dataset,
            "device": precision.device,
            "precision": precision.describe(),
            "peak_tflops": args.peak_tflops,
            "runs": rows,
            "commit": _commit(),
        },
    )


if __name__ == "__main__":
    main()
