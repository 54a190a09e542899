"""How long to fine-tune, and with which schedule: dev and test scores after every epoch.

Each configuration fine-tunes the bundled MiniLM as the pilots do (``FineTuneHead``'s model,
batches, optimiser and dev slice; seed 0) on a seeded sample of a shared dataset's training split
and scores a seeded 1,000-example sample of its test split after every epoch. The schedule is
``decayE``: warm-up over 6% of the steps, then linear decay to 0 at epoch E; the run trains
``epochs`` epochs (fewer than E: stopped part-way down the schedule, as early stopping would).
From a ``decay8`` row, "early stopping" is the epoch with the best dev score. Minutes on 2 cores.

    .venv/bin/python benchmarks/finetune_schedules.py [--only NAME]

Writes benchmarks/results/finetune_schedules.json.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import results_file

from embedding_advisor_server.core.backends.cache import ResourceCache
from embedding_advisor_server.core.backends.precision import resolve
from embedding_advisor_server.core.data.parse import parse_jsonl
from embedding_advisor_server.core.data.sampling import sample
from embedding_advisor_server.core.evidence.metrics import ENTITY_F1, MACRO_F1, evaluate
from embedding_advisor_server.core.pilots.heads.base import dev_split
from embedding_advisor_server.core.pilots.heads.finetune import (
    _classes,
    _Model,
    adamw,
    grouped_batches,
)
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
    import torch

    folder = SHARED / name
    train = sample(parse_jsonl((folder / "train.jsonl").read_bytes(), "train"), n, 0)
    test = sample(parse_jsonl((folder / "test.jsonl").read_bytes(), "test"), 1000, 0)
    metric = ENTITY_F1 if train.is_tagging else MACRO_F1
    x, y = train.inputs, train.targets
    fit_idx, dev_idx = dev_split(len(x), 0)
    fx, fy = [x[i] for i in fit_idx], [y[i] for i in fit_idx]
    dx, dy = [x[i] for i in dev_idx], [y[i] for i in dev_idx]
    torch.manual_seed(0)
    model = _Model(encoder, _classes(y, train.is_tagging), train.is_tagging, precision)
    batch = 8 if len(fx) < 800 else 16
    steps = decay * math.ceil(len(fx) / batch)
    warm = max(1, int(0.06 * steps))
    opt = adamw(model.parameters(), lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(steps - warm, 1)))
    )
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    lengths, rng, classes = model.lengths(fx, 128), np.random.default_rng(0), len(model.classes)
    rows, t0 = [], time.perf_counter()
    for epoch in range(1, epochs + 1):
        for idx in grouped_batches(lengths, batch, rng):
            enc = model.encode([fx[i] for i in idx], 128)
            target = model.targets(enc, [fy[i] for i in idx])
            loss = loss_fn(model.logits(enc).reshape(-1, classes), target.reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        dev = evaluate(metric, dy, model.predict(dx, 16, 128, lambda: None)).score()
        score = evaluate(metric, test.targets, model.predict(test.inputs, 16, 128, lambda: None))
        rows.append(
            {
                "epoch": epoch,
                "dev": round(dev, 4),
                "test": round(score.score(), 4),
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
