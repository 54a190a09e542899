"""Encoder throughput, same inputs, same run: frozen features on torch fp32, torch bf16
(autocast), ONNX Runtime fp32 and int8; fine-tuning steps as before this issue (random batches,
AdamW's per-tensor loop), with length-grouped batches and fused AdamW (fp32), and the same in
bf16 autocast.

Inputs: N seeded reviews of the shipped example (default 500), the bundled MiniLM-L6, batches of
32 (features, best of 2 passes after a warm-up batch) and 16 (fine-tuning: STEPS optimiser steps
of lr 1e-4, after one warm-up step). Figures are real word pieces (padding not counted) per
second. On a CPU without bf16 matrix units torch emulates bf16 (slow): the rows say so, and
``auto`` keeps fp32 there (``machine.precision_auto``).

    .venv/bin/python benchmarks/encoder_throughput.py [N] [STEPS]

Writes benchmarks/results/encoder_throughput.json.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import results_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "movie_reviews.jsonl"
RESULTS = ROOT / "benchmarks" / "results" / "encoder_throughput.json"


def features(n: int) -> tuple[dict, list]:
    from embedding_advisor_server.core.backends.bundled import default_encoder_path
    from embedding_advisor_server.core.backends.onnx_encoder import OnnxEncoder
    from embedding_advisor_server.core.backends.precision import resolve
    from embedding_advisor_server.core.backends.torch_encoder import Encoder
    from embedding_advisor_server.core.data.parse import parse_jsonl
    from embedding_advisor_server.core.data.sampling import sample
    from embedding_advisor_server.core.schema import Precision

    data = sample(parse_jsonl(EXAMPLE.read_bytes(), "example"), n, seed=0)
    texts = data.inputs
    path = default_encoder_path()
    cache = Path(tempfile.mkdtemp(prefix="advisor-onnx-"))
    torch_encoder = Encoder(path)
    runs = {
        "torch fp32": (torch_encoder, resolve(Precision.FP32, "cpu")),
        "torch bf16": (torch_encoder, resolve(Precision.BF16, "cpu")),
        "onnxruntime fp32": (OnnxEncoder(path, cache), resolve(Precision.FP32, "cpu")),
        "onnxruntime int8": (
            OnnxEncoder(path, cache, quantize=True),
            resolve(Precision.FP32, "cpu"),
        ),
    }
    pieces = int(
        sum(
            np.sum(torch_encoder._encode([t[0] for t in texts[i : i + 256]])["attention_mask"])
            for i in range(0, len(texts), 256)
        )
    )
    rows = {}
    for label, (enc, precision) in runs.items():
        with precision.autocast():
            enc.sentence_features(texts[:32], lambda: None)  # warm-up
            best = min(_featurise(enc, texts) for _ in range(2))
        rows[label] = {"seconds": round(best, 3), "pieces_per_second": round(pieces / best)}
    base = rows["torch fp32"]["pieces_per_second"]
    for label, row in rows.items():
        row["speedup_vs_torch_fp32"] = round(row["pieces_per_second"] / base, 2)
        print(
            f"features  {label:18s} {row['pieces_per_second']:>8,} pieces/s  "
            f"{row['speedup_vs_torch_fp32']:.2f}x"
        )
    return {"sentences": len(texts), "pieces": pieces, "batch_size": 32, "rows": rows}, list(texts)


def fine_tuning(texts: list, steps: int) -> dict:
    import torch

    from embedding_advisor_server.core.backends.cache import ResourceCache
    from embedding_advisor_server.core.backends.precision import resolve
    from embedding_advisor_server.core.pilots.heads.finetune import _Model, adamw, grouped_batches
    from embedding_advisor_server.core.schema import Precision

    encoder = ResourceCache().encoder(None)
    configs = {
        "fp32, random batches, AdamW loop (before)": ("random", False, Precision.FP32),
        "fp32, length-grouped, fused AdamW": ("grouped", True, Precision.FP32),
        "bf16, length-grouped, fused AdamW": ("grouped", True, Precision.BF16),
    }
    rows = {}
    for label, (order, fused, precision) in configs.items():
        torch.manual_seed(0)
        model = _Model(encoder, ["neg", "pos"], False, resolve(precision, "cpu"))
        lengths = model.lengths(texts, 128)
        rng = np.random.default_rng(0)
        if order == "grouped":
            batches = grouped_batches(lengths, 16, rng)
        else:
            perm = rng.permutation(len(texts))
            batches = [perm[i : i + 16] for i in range(0, len(perm), 16)]
        opt = (
            adamw(model.parameters(), 1e-4)
            if fused
            else torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
        )
        loss_fn = torch.nn.CrossEntropyLoss()
        tokens, elapsed = 0, 0.0
        for k, idx in enumerate(batches[: steps + 1]):
            enc = model.encode([texts[i] for i in idx], 128)
            y = torch.tensor([i % 2 for i in idx])
            t0 = time.perf_counter()
            loss = loss_fn(model.logits(enc), y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if k:  # the first step warms up
                elapsed += time.perf_counter() - t0
                tokens += int(enc["attention_mask"].sum())
        rows[label] = {
            "steps": steps,
            "seconds": round(elapsed, 2),
            "pieces_per_second": round(tokens / elapsed),
        }
    base = rows["fp32, random batches, AdamW loop (before)"]["pieces_per_second"]
    for label, row in rows.items():
        row["speedup_vs_before"] = round(row["pieces_per_second"] / base, 2)
        print(
            f"fine-tune {label:42s} {row['pieces_per_second']:>6,} pieces/s  "
            f"{row['speedup_vs_before']:.2f}x"
        )
    return {"batch_size": 16, "rows": rows}


def _featurise(enc, texts) -> float:
    t0 = time.perf_counter()
    enc.sentence_features(texts, lambda: None)
    return time.perf_counter() - t0


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    n, steps = (args + [500, 20][len(args) :])[:2]
    frozen, texts = features(n)
    tuned = fine_tuning(texts, steps)
    results_file.write(
        RESULTS, {"model": "all-MiniLM-L6-v2 (bundled)", "features": frozen, "fine_tuning": tuned}
    )
