"""Successive halving's rule: bounds at the decision size from what an arm has measured, which
arms are dominated by the leader, and when fine-tuning's extra runs cannot change the pick."""

from __future__ import annotations

import math

import numpy as np

from conftest import arm_run
from embedding_advisor_server.core.evidence.metrics import ACCURACY, bootstrap_weights, evaluate
from embedding_advisor_server.core.evidence.runs import CurveRun
from embedding_advisor_server.core.pilots.arms import ENCODER_FROZEN, RANDOM, STATIC
from embedding_advisor_server.core.pilots.pruning import Bounds, bounds, dominated, settled
from embedding_advisor_server.core.schema import Embedding

N_EVAL = 400
WEIGHTS = bootstrap_weights(N_EVAL, 200, 0)


def _scored(accuracy: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    right = rng.permutation(N_EVAL) < round(accuracy * N_EVAL)
    return evaluate(ACCURACY, ["a"] * N_EVAL, np.where(right, "a", "b"))


def _run(arm: str, points: dict[int, float]):
    """An arm measured at ``points`` (size -> accuracy), its headline the largest size."""
    curve = [CurveRun(n, 0, _scored(a, n), 1.0) for n, a in sorted(points.items())]
    pool = max(points)
    return arm_run(arm, Embedding.STATIC, "", curve[-1].evaluation, pool, N_EVAL, curve=curve)


def test_at_the_pool_size_the_bounds_are_the_headline_interval():
    b = bounds(_run(STATIC, {1600: 0.70}), 1600, WEIGHTS)
    assert b.low < 0.70 < b.high and 0.03 < b.high - b.low < 0.12  # ~±4.5 points on 400


def test_beyond_the_pool_one_size_bounds_only_from_below():
    b = bounds(_run(STATIC, {500: 0.70}), 2000, WEIGHTS)
    assert b.low < 0.70 and b.high == math.inf


def test_beyond_the_pool_two_sizes_bound_by_the_extrapolation():
    rising = bounds(_run(STATIC, {250: 0.60, 500: 0.66}), 2000, WEIGHTS)
    assert math.isfinite(rising.high) and rising.high > 0.66  # the curve still rises


def test_an_arm_far_below_the_leader_is_dropped_and_a_close_one_kept():
    arms = {
        ENCODER_FROZEN: Bounds(0.72, 0.80),
        STATIC: Bounds(0.66, 0.75),  # overlaps the leader's interval: may still win
        RANDOM: Bounds(0.52, 0.61),
    }
    dropped = dominated(arms, [STATIC, RANDOM], 1600, 1600)
    assert list(dropped) == [RANDOM]
    assert dropped[RANDOM] == (
        "its upper bound at 1,600 examples (61.0) is below encoder_frozen_bilstm's lower bound (72.0)"
    )
    # Below the pool size nothing is dropped: the bounds are at the pool.
    assert dominated(arms, [STATIC, RANDOM], 800, 1600) == {}
    # An unknown upper bound (one size, beyond the pool) is never dropped.
    arms[RANDOM] = Bounds(0.52, math.inf)
    assert dominated(arms, [RANDOM], 5000, 1600) == {}


def test_fine_tunings_extra_runs_are_settled_either_way_or_needed():
    behind = {"ft": Bounds(0.50, 0.60), STATIC: Bounds(0.65, 0.75)}
    assert "below static_bilstm's lower bound" in settled("ft", behind)
    ahead = {"ft": Bounds(0.82, math.inf), STATIC: Bounds(0.65, 0.75), RANDOM: Bounds(0.5, 0.6)}
    assert "above every other option's upper bound (static_bilstm: 75.0)" in settled("ft", ahead)
    close = {"ft": Bounds(0.70, math.inf), STATIC: Bounds(0.65, 0.75)}
    assert settled("ft", close) == ""
    assert settled("ft", {"ft": Bounds(0.7, 0.8)}) == ""


def test_an_arm_with_one_seed_per_size_is_bounded_with_the_training_noise_assumed_for_it():
    from embedding_advisor_server.core.evidence.curves import Noise

    run = _run(STATIC, {250: 0.54, 500: 0.55})
    quiet = bounds(run, 2000, WEIGHTS)
    noisy = bounds(run, 2000, WEIGHTS, noise=Noise(1.0, 4))  # 6 points of noise at 250
    assert noisy.high - noisy.low > quiet.high - quiet.low + 0.05
