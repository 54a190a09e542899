"""Is a cross-fitted pilot's miss the advisor's or the sample's? One option's head on one
evaluation sample, scored two ways: cross-validated on the sample itself (what the advisor can
see: the advisor's own split and folds, and a plain stratified 5-fold CV), and trained on
seeded subsets of the sample, scored on the dataset's test split (what the sweep measures).

Found by ``advise eval`` at 500 with cross-fitted pilots: tweets_sentiment's frozen encoder +
logistic regression was expected at 59.8 [55.3, 65.3] and measured 66.8 by the sweep.

    .venv/bin/python benchmarks/cv_vs_test.py [--dataset tweets_sentiment]
        [--arm encoder_frozen_logreg] [--metric macro_f1] [--max-test 2000] [--out FILE]

Reads the dataset's 500-example sample from the evaluation's cache and its test split from
``../shared/datasets``. Writes benchmarks/results/cv_vs_test.json (or ``--out``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import results_file
from quick_pilots import quick_pilots
from results_file import DATASETS, EVAL_SAMPLES

from embedding_advisor_server.core.backends.cache import ResourceCache
from embedding_advisor_server.core.config import PipelineDefaults
from embedding_advisor_server.core.data.parse import parse_jsonl
from embedding_advisor_server.core.data.sampling import sample, split
from embedding_advisor_server.core.evidence.metrics import Evaluation, evaluate
from embedding_advisor_server.core.pilots.arms import arm
from embedding_advisor_server.core.pilots.features import rows
from embedding_advisor_server.core.pilots.folds import _fold
from embedding_advisor_server.core.progress import no_check

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "cv_vs_test.json"


class _Headline:
    """What ``folds._fold`` reads of the arm's run: its size and recipe."""

    recipe: dict = {}

    def __init__(self, num_train: int) -> None:
        self.num_train = num_train


def advisor_folds(data, spec, metric: str, resources: ResourceCache) -> dict:
    """The advisor's split and folds: the headline run on the held-out fifth, then each fold."""
    train, held = split(data, 0.2, 0)  # as the advisor splits a training file without --test
    p = quick_pilots(
        train, held, metric, resources, cross_fit=PipelineDefaults().cross_fit_examples
    )
    own = p._step(spec, len(p.pool), 0, p.context(), no_check).run.evaluation
    folds = [_fold(p, spec, _Headline(len(p.pool)), j) for j in range(len(p.folds))]
    parts = [Evaluation(own.stats[: len(held)], own.reduce).score()] + [
        Evaluation(f.stats[p.fold_rows(j)], f.reduce).score() for j, f in enumerate(folds)
    ]
    every = Evaluation(own.stats + sum(f.stats for f in folds), own.reduce)
    return {"folds": [round(x, 4) for x in parts], "all": round(every.score(), 4)}


def plain_cv(data, spec, metric: str, resources: ResourceCache) -> float:
    """A stratified 5-fold CV of the arm's head on the whole sample's features."""
    from sklearn.model_selection import StratifiedKFold

    p = quick_pilots(data, data.subset(range(10)), metric, resources, cross_fit=0)
    x, _ = p.features[spec.features].view(spec.pooled)
    y = np.asarray(data.targets)
    predicted = np.empty(len(y), dtype=object)
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y):
        head = spec.head(p.context(), 0).fit(rows(x, tr), list(y[tr]), no_check)
        predicted[te] = head.predict(rows(x, te))
    return round(evaluate(metric, list(y), list(predicted)).score(), 4)


def on_test(data, test, spec, metric: str, resources: ResourceCache, sizes, seeds) -> list:
    """The head trained on seeded subsets of the sample, scored on the test split."""
    p = quick_pilots(data, test, metric, resources, cross_fit=0)
    out = []
    for size in sizes:
        for seed in range(seeds if size < len(data) else 1):
            score = p._step(spec, size, seed, p.context(), no_check).run.evaluation.score()
            out.append({"size": size, "seed": seed, "score": round(score, 4)})
            print(f"trained on {size}, seed {seed}: {100 * score:.1f} on the test split")
    return out


def main(dataset: str, arm_id: str, metric: str, max_test: int, out: Path) -> None:
    path = next(EVAL_SAMPLES.glob(f"{dataset}-*-500-s0.jsonl"))
    data = parse_jsonl(path.read_bytes(), path.name)
    test_file = DATASETS / dataset / "test.jsonl"
    test = sample(parse_jsonl(test_file.read_bytes(), "test.jsonl"), max_test, 0)
    spec, resources = arm(arm_id), ResourceCache()
    crossed = advisor_folds(data, spec, metric, resources)
    print(f"advisor's folds: {[round(100 * x, 1) for x in crossed['folds']]}")
    print(f"all folds: {100 * crossed['all']:.1f}")
    cv = plain_cv(data, spec, metric, resources)
    print(f"plain stratified 5-fold CV: {100 * cv:.1f}")
    tested = on_test(data, test, spec, metric, resources, (400, len(data)), 3)
    results_file.write(
        out,
        {
            "dataset": dataset,
            "sample": path.name,
            "arm": arm_id,
            "metric": metric,
            "test_examples": len(test),
            "advisor_folds": crossed,
            "plain_5fold_cv": cv,
            "on_test": tested,
        },
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="tweets_sentiment")
    ap.add_argument("--arm", default="encoder_frozen_logreg")
    ap.add_argument("--metric", default="macro_f1")
    ap.add_argument("--max-test", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args()
    main(a.dataset, a.arm, a.metric, a.max_test, a.out)
