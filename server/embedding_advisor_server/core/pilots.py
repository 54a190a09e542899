"""The first pilot: frozen-encoder features vs mean static vectors, same head, same held-out split.

Each arm turns examples into features, fits a logistic-regression head on the (sub-sampled)
training split and predicts the held-out split. Sentence tasks use one vector per example (a pair:
the encoder reads both sides jointly; static vectors combine the sides as ``[u, v, |u-v|, u*v]``).
Token tagging uses one vector per word and scores entity-level F1. The majority-class baseline is
scored alongside, so that "nothing learned" can be said.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .dataset import Dataset, words
from .metrics import MACRO_F1, Evaluation, evaluate
from .models import Embedding
from .resources import Check, Encoder, StaticVectors

Report = Callable[[float, str], None]  # (fraction of this stage, message)

MAJORITY = "majority"
STATIC_MEAN = "static_mean_logreg"
ENCODER_FROZEN = "encoder_frozen_logreg"


@dataclass
class ArmRun:
    arm: str
    embedding: Embedding
    description: str
    evaluation: Evaluation
    num_train: int
    num_eval: int
    featurize_seconds: float = 0.0
    train_seconds: float = 0.0
    examples_per_second: float = 0.0


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


def _split_rows(flat: np.ndarray, lengths: Sequence[int]) -> list[list[str]]:
    out, start = [], 0
    for n in lengths:
        out.append(list(flat[start : start + n]))
        start += n
    return out


def _run_arm(
    arm: str,
    embedding: Embedding,
    description: str,
    featurize: Callable[[Dataset], object],
    train: Dataset,
    held_out: Dataset,
    metric: str,
    seed: int,
) -> ArmRun:
    t0 = time.perf_counter()
    f_train, f_eval = featurize(train), featurize(held_out)
    featurize_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    if train.is_tagging:
        x_train = np.concatenate(f_train)
        y_train = [tag for tags in train.targets for tag in tags]
        flat, head = _fit_predict(x_train, y_train, np.concatenate(f_eval), seed, None)
        predictions = _split_rows(flat, [len(t) for t in held_out.targets])
    else:
        scoring = "f1_macro" if metric == MACRO_F1 else "accuracy"
        predicted, head = _fit_predict(f_train, train.targets, f_eval, seed, scoring)
        predictions = list(predicted)
    train_seconds = time.perf_counter() - t0
    n = len(train) + len(held_out)
    return ArmRun(
        arm=arm,
        embedding=embedding,
        description=f"{description}, {head}",
        evaluation=evaluate(metric, held_out.targets, predictions),
        num_train=len(train),
        num_eval=len(held_out),
        featurize_seconds=featurize_seconds,
        train_seconds=train_seconds,
        examples_per_second=n / featurize_seconds if featurize_seconds > 0 else 0.0,
    )


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


def run_pilots(
    train: Dataset,
    held_out: Dataset,
    encoder: Encoder,
    vectors: StaticVectors,
    metric: str,
    seed: int,
    check: Check,
    report: Report,
) -> list[ArmRun]:
    """Majority baseline, mean static vectors + logistic regression, frozen encoder + logistic regression."""
    runs = [majority_baseline(train, held_out, metric)]
    check()
    report(0.05, f"{vectors.name}: features and head")
    if train.is_tagging:
        static = static_word_features
        static_desc = f"{vectors.name} word vectors, per word"
    else:
        static = static_sentence_features
        static_desc = f"Mean of {vectors.name} word vectors"
    runs.append(
        _run_arm(
            STATIC_MEAN,
            Embedding.STATIC,
            static_desc,
            lambda d: static(vectors, d),
            train,
            held_out,
            metric,
            seed,
        )
    )
    check()
    n_all = len(train) + len(held_out)

    def featurize_encoder(d: Dataset):
        offset, part = (0, "train") if d is train else (len(train), "held-out")

        def on_batch(done: int, total: int) -> None:
            seen = offset + len(d) * done / total
            report(0.1 + 0.85 * seen / n_all, f"{encoder.name}: encoding the {part} examples")

        if d.is_tagging:
            return encoder.word_features(d.inputs, check, on_batch)
        return encoder.sentence_features(d.inputs, check, on_batch)

    encoder_desc = f"Frozen {encoder.name} ({encoder.backend}), " + (
        "first word-piece vector per word" if train.is_tagging else "mean-pooled"
    )
    runs.append(
        _run_arm(
            ENCODER_FROZEN,
            Embedding.CONTEXTUAL,
            encoder_desc,
            featurize_encoder,
            train,
            held_out,
            metric,
            seed,
        )
    )
    report(1.0, "pilots done")
    return runs
