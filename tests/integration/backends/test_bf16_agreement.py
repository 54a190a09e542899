"""bf16 and fp32 pilots on a real dataset (the shipped movie reviews) with the real MiniLM: the
same recipe, seed and batches in either precision score within each other's intervals and mostly
agree example by example. On a CPU without bf16 units bf16 is emulated (slow), so the slices are
small; where bf16 is fast, ``auto`` picks it and this is what guards its quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from synthetic import dataset

from conftest import read_jsonl
from embedding_advisor_server.core.backends.cache import ResourceCache
from embedding_advisor_server.core.backends.precision import resolve
from embedding_advisor_server.core.evidence.metrics import (
    ACCURACY,
    bootstrap_weights,
    evaluate,
    interval,
)
from embedding_advisor_server.core.pilots.heads.finetune import FineTuneHead, FineTuneRecipe
from embedding_advisor_server.core.pilots.heads.linear import LinearHead
from embedding_advisor_server.core.schema import Precision

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "movie_reviews.jsonl"


def _none() -> None:
    return None


def _splits(n_train: int, n_eval: int):
    rows = read_jsonl(EXAMPLE, seed=3)
    return (
        dataset(rows[:n_train], "movie_reviews.jsonl"),
        dataset(rows[n_train : n_train + n_eval], "movie_reviews.jsonl"),
    )


def _agree(targets, fp32: list, bf16: list) -> None:
    """Scores within each other's 95% intervals, and most predictions the same."""
    weights = bootstrap_weights(len(targets), 500, 0)
    a, b = evaluate(ACCURACY, targets, fp32), evaluate(ACCURACY, targets, bf16)
    lo_a, hi_a = interval(a.resampled(weights))
    lo_b, hi_b = interval(b.resampled(weights))
    assert lo_a <= b.score() <= hi_a and lo_b <= a.score() <= hi_b, (a.score(), b.score())
    same = np.mean([x == y for x, y in zip(fp32, bf16, strict=True)])
    assert same >= 0.85, same


def test_fine_tuning_in_bf16_matches_fp32():
    encoder = ResourceCache().encoder(None)
    train, held_out = _splits(120, 80)
    predictions, descriptions = {}, {}
    for precision in (Precision.FP32, Precision.BF16):
        head = FineTuneHead(
            encoder,
            False,
            ACCURACY,
            0,
            FineTuneRecipe((1e-4,), max_epochs=1),
            precision=resolve(precision, "cpu"),
        )
        run = head.fit(train.inputs, train.targets, _none)
        predictions[precision] = run.predict(held_out.inputs)
        descriptions[precision] = run.description
    assert "cpu, bf16" in descriptions[Precision.BF16]
    assert "cpu, fp32" in descriptions[Precision.FP32]
    _agree(held_out.targets, predictions[Precision.FP32], predictions[Precision.BF16])
    # It learned something in both precisions: better than the majority class.
    majority = max(held_out.label_counts().values()) / len(held_out)
    assert evaluate(ACCURACY, held_out.targets, predictions[Precision.FP32]).score() > majority


def test_frozen_features_in_bf16_match_fp32():
    encoder = ResourceCache().encoder(None)
    train, held_out = _splits(300, 150)
    features = {}
    for precision in (Precision.FP32, Precision.BF16):
        with resolve(precision, "cpu").autocast():
            features[precision] = [
                encoder.sentence_features(d.inputs, _none) for d in (train, held_out)
            ]
    a, b = features[Precision.FP32][1], features[Precision.BF16][1]
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() > 0.98 and b.dtype == np.float32
    predictions = {}
    for precision, (x_train, x_eval) in features.items():
        run = LinearHead(False, ACCURACY, 0).fit(x_train, train.targets, _none)
        predictions[precision] = run.predict(x_eval)
    _agree(held_out.targets, predictions[Precision.FP32], predictions[Precision.BF16])
