"""The decision rule on synthetic evidence: each branch, with known per-example outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from embedding_advisor_server.core.metrics import accuracy, bootstrap_weights
from embedding_advisor_server.core.models import DatasetProfile, Embedding, LengthStats, TaskType
from embedding_advisor_server.core.pilots import ENCODER_FROZEN, MAJORITY, STATIC_MEAN, ArmRun
from embedding_advisor_server.core.recommend import recommend

N = 400
TRUTH = np.array(["pos"] * 200 + ["neg"] * 200)


def predictions(correct: int, seed: int) -> np.ndarray:
    """Predictions right on exactly ``correct`` of the N examples."""
    rng = np.random.default_rng(seed)
    right = np.zeros(N, bool)
    right[rng.choice(N, correct, replace=False)] = True
    return np.where(right, TRUTH, np.where(TRUTH == "pos", "neg", "pos"))


def run(arm: str, embedding: Embedding, correct: int, seed: int, speed: float) -> ArmRun:
    return ArmRun(
        arm, embedding, arm, accuracy(TRUTH, predictions(correct, seed)), 1000, N, 1.0, 0.1, speed
    )


def advise(encoder_correct: int, static_correct: int):
    profile = DatasetProfile(
        task=TaskType.TEXT_CLASSIFICATION,
        num_train=1000,
        num_test=N,
        test_split_made=True,
        labels=[],
        imbalance_ratio=1.0,
        length_words=LengthStats(mean=10, median=10, p95=20, max=30),
        vectors_oov_rate=0.02,
        vectors_oov_type_rate=0.1,
        vectors_name="GloVe",
    )
    runs = [
        ArmRun(MAJORITY, Embedding.UNSPECIFIED, "majority", accuracy(TRUTH, ["pos"] * N), 1000, N),
        run(STATIC_MEAN, Embedding.STATIC, static_correct, 1, 20000.0),
        run(ENCODER_FROZEN, Embedding.CONTEXTUAL, encoder_correct, 2, 100.0),
    ]
    return recommend(profile, runs, "accuracy", bootstrap_weights(N, 1000, 0), "MiniLM", "GloVe")


def test_clear_encoder_win_advises_the_encoder():
    rec = advise(encoder_correct=340, static_correct=280)
    assert rec.embedding is Embedding.CONTEXTUAL and rec.anything_learned
    assert rec.gap == pytest.approx(0.15) and rec.gap_interval.low > 0
    assert "beats GloVe by 15.0" in rec.headline


def test_gap_within_noise_advises_the_cheaper_static_vectors():
    rec = advise(encoder_correct=300, static_correct=296)
    assert rec.embedding is Embedding.STATIC
    assert rec.gap_interval.low < 0 < rec.gap_interval.high
    assert "within noise" in rec.headline and "200x cheaper" in rec.headline


def test_static_win_advises_static():
    rec = advise(encoder_correct=260, static_correct=320)
    assert rec.embedding is Embedding.STATIC and rec.gap_interval.high < 0
    assert "beats the encoder" in rec.headline


def test_nothing_learned_advises_nothing():
    rec = advise(encoder_correct=204, static_correct=202)
    assert rec.embedding is Embedding.UNSPECIFIED and not rec.anything_learned
    assert "majority-class baseline" in rec.headline
    assert {p.arm for p in rec.pilots} == {MAJORITY, STATIC_MEAN, ENCODER_FROZEN}
