"""Scores that can be bootstrapped: each example contributes a row of counts, a score is a
function of summed rows. Resampling examples is then one matrix product, and two arms scored on
the same resamples give a paired interval of their gap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

ACCURACY = "accuracy"
MACRO_F1 = "macro_f1"
ENTITY_F1 = "entity_f1"


@dataclass(frozen=True)
class Evaluation:
    """Per-example count rows ``stats`` (n x k) and ``reduce`` from summed rows to scores."""

    stats: np.ndarray
    reduce: Callable[[np.ndarray], np.ndarray]

    def score(self) -> float:
        return float(self.reduce(self.stats.sum(axis=0, keepdims=True))[0])

    def resampled(self, weights: np.ndarray) -> np.ndarray:
        """Scores under each row of bootstrap ``weights`` (B x n counts)."""
        return self.reduce(weights @ self.stats)

    def placed(self, rows: np.ndarray, n: int) -> Evaluation:
        """The same scores with its examples at ``rows`` of ``n`` (the others count nothing: a
        zero row), so that evaluations of different example sets share one set of replicates."""
        stats = np.zeros((n, self.stats.shape[1]))
        stats[np.asarray(rows, dtype=int)] = self.stats
        return Evaluation(stats, self.reduce)


@dataclass(frozen=True)
class Shifted:
    """``base`` moved by ``plus - minus``, each resampled with the same replicates: a run scored
    on part of the examples carried over to all of them, as two other runs scored on the part
    (``minus``) and on all (``plus``) differ (a control variate; ``pilots/folds.py``)."""

    base: Evaluation | Shifted
    plus: Evaluation
    minus: Evaluation

    def score(self) -> float:
        return self.base.score() + self.plus.score() - self.minus.score()

    def resampled(self, weights: np.ndarray) -> np.ndarray:
        return (
            self.base.resampled(weights)
            + self.plus.resampled(weights)
            - self.minus.resampled(weights)
        )


def bootstrap_weights(n: int, rounds: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=rounds).astype(np.float64)


def interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    tail = (1.0 - level) / 2 * 100
    low, high = np.nanpercentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=float), where=den > 0)


def accuracy(y_true: Sequence, y_pred: Sequence) -> Evaluation:
    correct = (np.asarray(y_true) == np.asarray(y_pred)).astype(float)
    stats = np.stack([correct, np.ones_like(correct)], axis=1)
    return Evaluation(stats, lambda s: _ratio(s[:, 0], s[:, 1]))


def macro_f1(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> Evaluation:
    """Macro-F1 over the labels that occur in the truth or the predictions of each (re)sample.
    ``labels``: the columns' labels (default: those in the truth or the predictions); give every
    label of the task so that evaluations of different examples add up (``Evaluation.placed``)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = np.union1d(y_true, y_pred) if labels is None else np.asarray(sorted(labels))
    true = (y_true[:, None] == labels[None, :]).astype(float)
    pred = (y_pred[:, None] == labels[None, :]).astype(float)
    c = len(labels)
    stats = np.concatenate([true * pred, pred, true], axis=1)

    def reduce(s: np.ndarray) -> np.ndarray:
        tp, npred, ntrue = s[:, :c], s[:, c : 2 * c], s[:, 2 * c :]
        den = npred + ntrue
        f1 = np.where(den > 0, _ratio(2 * tp, den), np.nan)
        return np.nanmean(f1, axis=1)

    return Evaluation(stats, reduce)


def entity_f1(true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]) -> Evaluation:
    """Micro entity-level F1 (exact span and type, as seqeval's default) per sentence counts."""
    from seqeval.metrics.sequence_labeling import get_entities

    rows = []
    for truth, pred in zip(true_tags, pred_tags, strict=True):
        t, p = set(get_entities(list(truth))), set(get_entities(list(pred)))
        rows.append((len(t & p), len(p), len(t)))
    stats = np.asarray(rows, dtype=float).reshape(-1, 3)
    return Evaluation(stats, lambda s: _ratio(2 * s[:, 0], s[:, 1] + s[:, 2]))


def choose_metric(task_is_tagging: bool, num_labels: int, imbalance_ratio: float) -> str:
    """Entity F1 for tagging; macro-F1 for multi-class or imbalanced sets; else accuracy."""
    if task_is_tagging:
        return ENTITY_F1
    if num_labels > 2 or imbalance_ratio > 1.5:
        return MACRO_F1
    return ACCURACY


def evaluate(
    metric: str, y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None
) -> Evaluation:
    """``metric`` on the predictions; ``labels``: every label of the task, for macro-F1's
    columns (default: those that occur), so that evaluations of other examples add up."""
    if metric == MACRO_F1:
        return macro_f1(y_true, y_pred, labels)
    return {ACCURACY: accuracy, ENTITY_F1: entity_f1}[metric](y_true, y_pred)
