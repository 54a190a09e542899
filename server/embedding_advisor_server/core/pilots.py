"""The pilots' arms: how each turns examples into features, and the head fitted on them.

Arms: frozen encoder (contextual), static vectors (GloVe by default) and random vectors of the
static vectors' dimension (the floor, as in Arora et al. 2020), each with the same head family
(logistic regression, C by 3-fold CV), plus the majority-class baseline. Sentence tasks use one
vector per example (a pair: the encoder reads both sides jointly; static and random vectors
combine the sides as ``[u, v, |u-v|, u*v]``). Token tagging uses one vector per word and scores
entity-level F1. The runner (``runner.py``) trains each arm at several sizes and seeds.
"""

from __future__ import annotations

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
STATIC_MEAN = "static_mean_logreg"
RANDOM_MEAN = "random_mean_logreg"
ENCODER_FROZEN = "encoder_frozen_logreg"
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


def random_vectors(datasets: Sequence[Dataset], dim: int, seed: int) -> StaticVectors:
    """One fixed random Gaussian vector per distinct word (lower case) of ``datasets``."""
    vocab = sorted({w.lower() for d in datasets for ws in words(d.inputs, d.task) for w in ws})
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((len(vocab), dim)).astype(np.float32) / np.sqrt(dim)
    return StaticVectors(f"random {dim}d vectors", vocab, matrix)


def _mean_vectors(vectors: StaticVectors, tokens: Sequence[str]) -> np.ndarray:
    idx = [i for i in (vectors.lookup(w) for w in tokens) if i >= 0]
    if not idx:
        return np.zeros(vectors.dim, dtype=np.float32)
    return vectors.matrix[idx].mean(axis=0)


def static_sentence_features(vectors: StaticVectors, dataset: Dataset) -> np.ndarray:
    from .text import tokenize

    sides = [
        [_mean_vectors(vectors, tokenize(text)) for text in example] for example in dataset.inputs
    ]
    if len(dataset.inputs[0]) == 1:
        return np.asarray([s[0] for s in sides], dtype=np.float32)
    u = np.asarray([s[0] for s in sides], dtype=np.float32)
    v = np.asarray([s[1] for s in sides], dtype=np.float32)
    return np.concatenate([u, v, np.abs(u - v), u * v], axis=1)


def static_word_features(vectors: StaticVectors, dataset: Dataset) -> list[np.ndarray]:
    out = []
    for tokens in words(dataset.inputs, dataset.task):
        idx = np.asarray([vectors.lookup(w) for w in tokens])
        feats = np.zeros((len(tokens), vectors.dim), dtype=np.float32)
        feats[idx >= 0] = vectors.matrix[idx[idx >= 0]]
        out.append(feats)
    return out


C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
CV_FOLDS = 3


def _fit_predict(
    x_train: np.ndarray, y_train: Sequence, x_eval: np.ndarray, seed: int, scoring: str | None
) -> tuple[np.ndarray, str]:
    """Standardise, fit logistic regression, predict. With ``scoring``, C comes from a 3-fold grid
    search (frozen features overfit easily: on 2k short reviews C=0.003 beat C=1 by 4 points)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(y_train)
    head = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
    if scoring is not None and min(Counter(y.tolist()).values()) >= CV_FOLDS:
        search = GridSearchCV(
            head,
            {"logisticregression__C": list(C_GRID)},
            scoring=scoring,
            cv=StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed),
        )
        search.fit(x_train, y)
        c = search.best_params_["logisticregression__C"]
        return search.predict(x_eval), f"logistic regression (C={c:g} by {CV_FOLDS}-fold CV)"
    head.fit(x_train, y)
    return head.predict(x_eval), "logistic regression (C=1)"


def fit_predict(
    x_train, y_train: Sequence, x_eval, tagging: bool, metric_scoring: str | None, seed: int
) -> tuple[list, str]:
    """Fit the head on ``x_train`` and predict ``x_eval``; for tagging both are lists of
    per-sentence arrays and ``y_train`` their tag sequences."""
    if tagging:
        flat_y = [tag for tags in y_train for tag in tags]
        flat, head = _fit_predict(
            np.concatenate(x_train), flat_y, np.concatenate(x_eval), seed, None
        )
        out, start = [], 0
        for sentence in x_eval:
            out.append(list(flat[start : start + len(sentence)]))
            start += len(sentence)
        return out, head
    predicted, head = _fit_predict(x_train, y_train, x_eval, seed, metric_scoring)
    return list(predicted), head


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
