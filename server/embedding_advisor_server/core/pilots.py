"""The pilots' arms: how each turns examples into features, and the head fitted on them.

The comparison arms share one sequence head (``heads.py``, a BiLSTM), as in Arora et al. 2020:
the frozen encoder (its word-piece states), static vectors (GloVe by default, one vector per word)
and random vectors of the static vectors' dimension (the floor). Two cheap deployment options ride
along: logistic regression (C by 3-fold CV) on mean-pooled static vectors and on the frozen
encoder's mean-pooled states. And the majority-class baseline. A pair: the encoder reads both sides
jointly; static and random vectors give the sides separately (the BiLSTM reads each side, logistic
regression gets ``[u, v, |u-v|, u*v]`` of the means). Token tagging uses one vector per word and
scores entity-level F1. The runner (``runner.py``) trains each arm at several sizes and seeds.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .dataset import Dataset, words
from .metrics import Evaluation, evaluate
from .models import Embedding
from .resources import StaticVectors

Report = Callable[[float, str], None]  # (fraction of this stage, message)

MAJORITY = "majority"
STATIC = "static_bilstm"
RANDOM = "random_bilstm"
ENCODER_FROZEN = "encoder_frozen_bilstm"
STATIC_LOGREG = "static_logreg"
ENCODER_LOGREG = "encoder_frozen_logreg"
ENCODER_FINETUNED = "encoder_finetuned"


@dataclass
class CurveRun:
    """One training of an arm's head: ``size`` examples drawn with ``seed``."""

    size: int
    seed: int
    evaluation: Evaluation
    train_seconds: float


@dataclass
class ArmRun:
    arm: str
    embedding: Embedding
    description: str
    evaluation: Evaluation  # the head trained on the whole pilot pool (seed 0)
    num_train: int
    num_eval: int
    featurize_seconds: float = 0.0
    train_seconds: float = 0.0
    examples_per_second: float = 0.0
    curve: list[CurveRun] = field(default_factory=list)
    peak_memory_mib: float = 0.0
    logme: float = math.nan  # LogME of the arm's pooled frozen features on the pool's labels


def random_vectors(datasets: Sequence[Dataset], dim: int, seed: int) -> StaticVectors:
    """One fixed random Gaussian vector per distinct word (lower case) of ``datasets``."""
    vocab = sorted({w.lower() for d in datasets for ws in words(d.inputs, d.task) for w in ws})
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((len(vocab), dim)).astype(np.float32) / np.sqrt(dim)
    return StaticVectors(f"random {dim}d vectors", vocab, matrix)


def pooled_features(sequences: Sequence[tuple[np.ndarray, ...]]) -> np.ndarray:
    """One vector per example for logistic regression: the mean of each side's known vectors
    (all-zero rows, unknown words, left out; zeros for a side with none); two sides are combined
    as ``[u, v, |u-v|, u*v]``."""

    def mean(a: np.ndarray) -> np.ndarray:
        known = a[np.any(a != 0, axis=1)]
        if not len(known):
            return np.zeros(a.shape[1], np.float32)
        return known.mean(axis=0, dtype=np.float32)

    sides = [np.stack([mean(e[k]) for e in sequences]) for k in range(len(sequences[0]))]
    if len(sides) == 1:
        return sides[0]
    u, v = sides
    return np.concatenate([u, v, np.abs(u - v), u * v], axis=1)


def _word_vectors(vectors: StaticVectors, tokens: Sequence[str]) -> np.ndarray:
    """One row per word; zeros for a word the vectors do not know."""
    idx = np.asarray([vectors.lookup(w) for w in tokens], dtype=np.int64)
    feats = np.zeros((len(tokens), vectors.dim), dtype=np.float32)
    feats[idx >= 0] = vectors.matrix[idx[idx >= 0]]
    return feats


def static_word_features(vectors: StaticVectors, dataset: Dataset) -> list[np.ndarray]:
    return [_word_vectors(vectors, tokens) for tokens in words(dataset.inputs, dataset.task)]


def static_sequences(vectors: StaticVectors, dataset: Dataset) -> list[tuple[np.ndarray, ...]]:
    """The sequence head's input: per example, one ``(words, dim)`` array per side, a row per
    word, zeros for a word the vectors do not know (the BiLSTM still sees that a word stands
    there: on tweets, 2,000 examples, keeping those rows lifted macro-F1 from .553 to .620)."""
    from .text import tokenize

    if dataset.is_tagging:
        return [(f,) for f in static_word_features(vectors, dataset)]
    return [
        tuple(_word_vectors(vectors, tokenize(text)) for text in example)
        for example in dataset.inputs
    ]


C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
CV_FOLDS = 3


def _fit_predict(
    x_train: np.ndarray, y_train: Sequence, x_eval: np.ndarray, seed: int, scoring: str | None
) -> tuple[np.ndarray, str, float]:
    """Standardise, fit logistic regression, predict. With ``scoring``, C comes from a 3-fold grid
    search (frozen features overfit easily: on 2k short reviews C=0.003 beat C=1 by 4 points).
    Returns the predictions, the head's description and the training seconds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(y_train)
    head = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
    t0 = time.perf_counter()
    if scoring is not None and min(Counter(y.tolist()).values()) >= CV_FOLDS:
        search = GridSearchCV(
            head,
            {"logisticregression__C": list(C_GRID)},
            scoring=scoring,
            cv=StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed),
        )
        search.fit(x_train, y)
        c = search.best_params_["logisticregression__C"]
        seconds = time.perf_counter() - t0
        return (
            search.predict(x_eval),
            f"logistic regression (C={c:g} by {CV_FOLDS}-fold CV)",
            seconds,
        )
    head.fit(x_train, y)
    return head.predict(x_eval), "logistic regression (C=1)", time.perf_counter() - t0


def fit_predict(
    x_train, y_train: Sequence, x_eval, tagging: bool, metric_scoring: str | None, seed: int
) -> tuple[list, str, float]:
    """Fit logistic regression on ``x_train`` and predict ``x_eval``; for tagging both are lists of
    per-sentence arrays and ``y_train`` their tag sequences. Also returns the training seconds."""
    if tagging:
        flat_y = [tag for tags in y_train for tag in tags]
        flat, head, seconds = _fit_predict(
            np.concatenate(x_train), flat_y, np.concatenate(x_eval), seed, None
        )
        out, start = [], 0
        for sentence in x_eval:
            out.append(list(flat[start : start + len(sentence)]))
            start += len(sentence)
        return out, head, seconds
    predicted, head, seconds = _fit_predict(x_train, y_train, x_eval, seed, metric_scoring)
    return list(predicted), head, seconds


def majority_baseline(train: Dataset, held_out: Dataset, metric: str) -> ArmRun:
    if train.is_tagging:
        predictions = [["O"] * len(tags) for tags in held_out.targets]
        description = "Tags every word O (no entities)"
    else:
        label = Counter(train.targets).most_common(1)[0][0]
        predictions = [label] * len(held_out)
        description = f"Always predicts the most frequent label ({label!r})"
    return ArmRun(
        arm=MAJORITY,
        embedding=Embedding.UNSPECIFIED,
        description=description,
        evaluation=evaluate(metric, held_out.targets, predictions),
        num_train=len(train),
        num_eval=len(held_out),
    )
