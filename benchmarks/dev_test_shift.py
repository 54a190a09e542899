"""Do a dataset's dev and test files agree? The sweep's own runs (``advise eval``: the thorough
recipe, seed 0, the same seeded training sample) scored on the dev file and on the test split.

``advise eval`` runs the advisor as a user would, with the dataset's dev file as ``--test``, so
the advice's pilots are scored on dev while the sweep that checks them scores on test. Where an
option scores differently on the two, the advice cannot see it. Found by ``advise eval`` on MRPC
at 2,000 examples: GloVe + logistic regression expected 67.7 (pilots on dev), measured 64.0 on
test, a wrong pick (regret 3.4; the one left after the decision's trade bar).

    .venv/bin/python benchmarks/dev_test_shift.py [--datasets mrpc,aclsum_sentences]
        [--size 2000] [--options static_logreg,...] [--max-test 2000] [--out FILE]

A dataset without a dev file is compared on training examples outside the sample instead (as
many as ``--max-test``): what the advisor's own split scores its pilots on.

Writes benchmarks/results/dev_test_shift.json (or ``--out``). The default options leave out
fine-tuning (about 8 minutes a run on 2,000 pairs here); name ``encoder_finetuned`` to add it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import results_file
from results_file import DATASETS, EVAL_SAMPLES

from embedding_advisor_server.core.backends.cache import ResourceCache
from embedding_advisor_server.core.data.sampling import sample, sample_indices
from embedding_advisor_server.core.pilots.sweep import SWEPT, sweep
from embedding_advisor_server.core.progress import no_check
from embedding_advisor_server.evaluation.collection import collect

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "dev_test_shift.json"
CHEAP = "static_logreg,encoder_frozen_logreg,static_bilstm,random_bilstm,encoder_frozen_bilstm"


def shift(ds, size: int, options: list[str], max_test: int, resources: ResourceCache) -> dict:
    """Each option's sweep run on ``ds``'s seeded sample of ``size``, scored on dev and test."""
    train, _ = ds.sample(size, 0, EVAL_SAMPLES)  # the sample ``advise eval`` trains its sweep on
    test = sample(ds.test, max_test, 0)
    todo = [(spec, 0) for spec in SWEPT if spec.id in options]
    scores: dict[str, dict] = {spec.id: {} for spec, _ in todo}
    dev = ds.dev if ds.dev is not None else outside_sample(ds, size, max_test)
    for name, held in (("dev", dev), ("test", test)):
        runs, _ = sweep(
            train,
            held,
            resources.frozen_encoder(None, "onnx_fp32"),
            resources.vectors(None),
            ds.metric,
            todo,
            no_check,
        )
        for run in runs:
            scores[run.arm][name] = round(run.score, 4)
            print(f"{ds.name} at {size:,}: {run.arm} {100 * run.score:.1f} on {name}", flush=True)
    for s in scores.values():
        s["test_minus_dev_points"] = round(100 * (s["test"] - s["dev"]), 1)
    return {
        "dataset": ds.name,
        "size": size,
        "metric": ds.metric,
        "dev": "dev.jsonl" if ds.dev is not None else "training examples outside the sample",
        "dev_examples": len(dev),
        "test_examples": len(test),
        "options": scores,
    }


def outside_sample(ds, size: int, n: int):
    """A seeded ``n`` of the training examples outside the sample of ``size``: held-out examples
    from the training file's distribution, as the advisor's own split draws them when there is
    no dev file (its pilots are scored on those, the sweep on the test split)."""
    rest = np.setdiff1d(np.arange(len(ds.train)), sample_indices(ds.train, size, 0))
    if not len(rest):
        raise SystemExit(f"{ds.name}: the sample of {size:,} is all of it; no dev to compare with")
    return ds.train.subset(rest[sample_indices(ds.train.subset(rest), n, 0)])


def main(datasets: list[str], size: int, options: list[str], max_test: int, out: Path) -> None:
    resources = ResourceCache()
    found = collect(DATASETS, datasets)
    rows = [shift(ds, size, options, max_test, resources) for ds in found]
    results_file.write(out, {"seed": 0, "runs": rows})


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="mrpc,aclsum_sentences")
    ap.add_argument("--size", type=int, default=2000)
    ap.add_argument("--options", default=CHEAP)
    ap.add_argument("--max-test", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args()
    main(a.datasets.split(","), a.size, a.options.split(","), a.max_test, a.out)
