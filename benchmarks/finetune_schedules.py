"""How long to fine-tune, and with which schedule: dev and test scores after every epoch.

Each configuration fine-tunes the bundled MiniLM with the pilots' own training
(``FineTuneHead``'s model, batches, optimiser, schedule and dev slice; seed 0) on a seeded sample of a shared dataset's training split
and scores a seeded 1,000-example sample of its test split after every epoch. The schedule is
``decayE``: warm-up over 6% of the steps, then linear decay to 0 at epoch E; the run trains
``epochs`` epochs (fewer than E: stopped part-way down the schedule, as early stopping would).
From a ``decay8`` row, "early stopping" is the epoch with the best dev score. Minutes on 2 cores.

    .venv/bin/python benchmarks/finetune_schedules.py [--only NAME]

Writes benchmarks/results/finetune_schedules.json.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import results_file

from embedding_advisor_server.core.backends.cache import ResourceCache
from embedding_advisor_server.core.backends.precision import resolve
from embedding_advisor_server.core.data.parse import parse_jsonl
from embedding_advisor_server.core.data.sampling import sample
from embedding_advisor_server.core.evidence.metrics import ENTITY_F1, MACRO_F1, evaluate
from embedding_advisor_server.core.pilots.heads.base import dev_split
from embedding_advisor_server.core.pilots.heads.finetune import (
    FineTuneHead,
    FineTuneRecipe,
    _classes,
)
from embedding_advisor_server.core.progress import no_check
from embedding_advisor_server.core.schema import Precision

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "finetune_schedules.json"
# (dataset, training examples, learning rate, decay epochs E, epochs run)
CONFIGS = [
    ("aclsum_sentences", 2000, 1e-4, 4, 4),
    ("aclsum_sentences", 2000, 1e-4, 8, 6),
    ("aclsum_sentences", 2000, 2e-4, 4, 4),
    ("wnut16", 1900, 1e-4, 4, 4),
    ("wnut16", 1900, 2e-4, 4, 4),
    ("aclsum_sentences", 500, 1e-4, 8, 8),
    ("aclsum_sentences", 500, 2e-4, 8, 8),
]


def run(name: str, n: int, lr: float, decay: int, epochs: int, encoder, precision) -> dict:
    folder = SHARED / name
    train = sample(parse_jsonl((folder / "train.jsonl").read_bytes(), "train"), n, 0)
    test = sample(parse_jsonl((folder / "test.jsonl").read_bytes(), "test"), 1000, 0)
    metric = ENTITY_F1 if train.is_tagging else MACRO_F1
    x, y = train.inputs, train.targets
    fit_idx, dev_idx = dev_split(len(x), 0)
    data = (
        [x[i] for i in fit_idx],
        [y[i] for i in fit_idx],
        [x[i] for i in dev_idx],
        [y[i] for i in dev_idx],
    )
    recipe = FineTuneRecipe((lr,))
    head = FineTuneHead(encoder, train.is_tagging, metric, 0, recipe, precision=precision)
    # The head's own training: its model, batches, optimiser and schedule decaying over ``decay``
    # epochs, stopped after ``epochs`` of them; its dev score after each epoch.
    model = head._run(
        _classes(y, train.is_tagging), lr, recipe.batch(len(data[0])), decay, data, no_check
    )
    rows, t0 = [], time.perf_counter()
    for _ in range(epochs):
        epoch, dev = next(model.epochs)
        predicted = model.model.predict(test.inputs, recipe.batch_size, recipe.max_length, no_check)
        rows.append(
            {
                "epoch": epoch,
                "dev": round(dev, 4),
                "test": round(evaluate(metric, test.targets, predicted).score(), 4),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
        print(f"{name} {n} lr {lr:g} decay{decay} epoch {epoch}: {rows[-1]}", flush=True)
    best = max(rows, key=lambda r: (r["dev"], -r["epoch"]))
    return {
        "dataset": name,
        "examples": n,
        "metric": metric,
        "learning_rate": lr,
        "schedule": f"decay{decay}",
        "epochs": rows,
        "at_best_dev_epoch": best,
        "at_last_epoch": rows[-1],
    }


def main(only: str = "") -> None:
    encoder = ResourceCache().encoder(None)
    precision = resolve(Precision.AUTO)
    out = []
    for name, n, lr, decay, epochs in CONFIGS:
        if only and name != only:
            continue
        out.append(run(name, n, lr, decay, epochs, encoder, precision))
        results_file.write(RESULTS, {"precision": precision.describe(), "runs": out})


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[args.index("--only") + 1] if "--only" in args else "")
