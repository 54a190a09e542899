from __future__ import annotations

import numpy as np
import pytest
from seqeval.metrics import f1_score as seqeval_f1
from sklearn.metrics import accuracy_score, f1_score

from embedding_advisor_server.core.evidence.metrics import (
    ACCURACY,
    ENTITY_F1,
    MACRO_F1,
    accuracy,
    bootstrap_weights,
    choose_metric,
    entity_f1,
    interval,
    macro_f1,
)


@pytest.fixture()
def labels():
    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], size=300, p=[0.6, 0.3, 0.1])
    p = np.where(rng.random(300) < 0.7, y, rng.choice(["a", "b", "c"], size=300))
    return y, p


def test_accuracy_and_macro_f1_match_sklearn(labels):
    y, p = labels
    assert accuracy(y, p).score() == pytest.approx(accuracy_score(y, p))
    assert macro_f1(y, p).score() == pytest.approx(f1_score(y, p, average="macro"))


def test_entity_f1_matches_seqeval():
    truth = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"], ["O"]]
    pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "I-ORG"], ["B-LOC"]]
    assert entity_f1(truth, pred).score() == pytest.approx(seqeval_f1(truth, pred))


def test_bootstrap_interval_brackets_the_score_and_narrows_with_n(labels):
    y, p = labels
    ev = accuracy(y, p)
    low, high = interval(ev.resampled(bootstrap_weights(len(y), 1000, seed=1)))
    assert low < ev.score() < high
    big = accuracy(np.tile(y, 10), np.tile(p, 10))
    low_b, high_b = interval(big.resampled(bootstrap_weights(len(y) * 10, 1000, seed=1)))
    assert high_b - low_b < (high - low) / 2


def test_pairing_cancels_the_held_out_noise_two_arms_share(labels):
    """Two arms that agree on most examples: the gap of their scores on the same resamples
    centres on the real gap and is far tighter than the gap of independent resamples."""
    y, p = labels
    q = p.copy()
    q[:15] = y[:15]  # the second arm also gets 15 more examples right (some already were)
    real = accuracy(y, q).score() - accuracy(y, p).score()
    assert real > 0
    w = bootstrap_weights(len(y), 1000, seed=0)
    paired = accuracy(y, q).resampled(w) - accuracy(y, p).resampled(w)
    unpaired = accuracy(y, q).resampled(w) - accuracy(y, p).resampled(
        bootstrap_weights(len(y), 1000, seed=1)
    )
    assert abs(paired.mean() - real) < 0.005
    assert paired.std() < unpaired.std() / 3
    assert interval(paired)[0] >= 0  # never worse: it only gains examples


def test_choose_metric():
    assert choose_metric(True, 9, 1.0) == ENTITY_F1
    assert choose_metric(False, 3, 1.0) == MACRO_F1
    assert choose_metric(False, 2, 3.0) == MACRO_F1
    assert choose_metric(False, 2, 1.2) == ACCURACY
