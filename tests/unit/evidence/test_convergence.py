"""Early stopping's verdict and the epoch extrapolation of a run still improving at its cap."""

from __future__ import annotations

import pytest

from embedding_advisor_server.core.evidence.convergence import (
    CONVERGED,
    EXTRAPOLATED,
    MAX_GAIN,
    UNJUDGED,
    judge,
    remaining_gain,
    should_stop,
)


def test_early_stopping_waits_for_patience_epochs_past_the_best_and_the_least_epochs():
    assert not should_stop([0.5, 0.6, 0.55], patience=2)
    assert should_stop([0.5, 0.6, 0.55, 0.58], patience=2)
    assert not should_stop([0.6, 0.5, 0.5], patience=2, least=4)  # too few epochs yet
    # A tie is no gain: the first epoch with the best score is the best.
    assert should_stop([0.5, 0.6, 0.6, 0.6], patience=2)


def test_a_run_that_stopped_improving_is_converged_at_its_best_epoch():
    verdict = judge([0.40, 0.55, 0.61, 0.60, 0.59], patience=2)
    assert (verdict.verdict, verdict.epoch, verdict.epochs_run, verdict.gain) == (
        CONVERGED,
        3,
        5,
        0.0,
    )
    assert judge([], patience=2).verdict == UNJUDGED


def test_a_run_still_rising_at_the_cap_is_extrapolated_to_its_geometric_plateau():
    # Each epoch gains half the last one's: the plateau is 0.6, 0.0125 above the last.
    rising = [0.4, 0.5, 0.55, 0.575, 0.5875]
    verdict = judge(rising, patience=2)
    assert verdict.verdict == EXTRAPOLATED and verdict.epoch == 5
    assert verdict.gain == pytest.approx(0.0125, abs=1e-9)
    # The best one epoch back (patience not yet spent): its gain decays by one more epoch.
    assert remaining_gain([0.4, 0.5, 0.55, 0.54]) == pytest.approx(0.05 * 0.5 / 0.5 * 0.5)


def test_a_best_last_epoch_whose_gains_have_died_down_is_converged():
    # The last epoch is the best by a hair: more epochs would add under half a point.
    verdict = judge([0.40, 0.55, 0.60, 0.601], patience=2)
    assert verdict.verdict == CONVERGED and verdict.epoch == 4 and verdict.gain == 0.0


def test_the_extrapolated_gain_is_bounded_and_zero_without_a_rise():
    assert remaining_gain([0.5, 0.5, 0.5]) == 0.0
    assert remaining_gain([0.7]) == 0.0
    # A linear rise (ratio 1) would never plateau: the ratio and the gain are capped.
    assert remaining_gain([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) == pytest.approx(MAX_GAIN)
    assert remaining_gain([0.90, 0.95, 0.99]) <= 0.01 + 1e-12  # never past a perfect score
