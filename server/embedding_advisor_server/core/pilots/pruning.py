"""Successive halving across arms: spend pilot effort only where it can change the decision.

Every arm first trains once at the pool size; the learning curve's smaller sizes (and their
seeds) then run round by round, largest first. Before each round an arm whose upper 95% bound at
the decision size is below the leader's lower bound there is dropped from the rest: more points
on its curve cannot make it the pick. Bounds at the decision size (``bounds``):
- the decision size is the pool: the headline run's interval (held-out examples resampled);
- beyond the pool, with two or more sizes: the curve's extrapolation interval there;
- beyond the pool, one size: the headline's lower bound (more data is taken not to hurt, which
  only keeps a leader's bound low) and no upper bound (nothing can be dropped yet).
Below the pool size (``--target-size`` smaller than the pool) nothing is dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..evidence.curves import Noise
from ..evidence.evidence import extrapolations
from ..evidence.metrics import interval
from ..evidence.runs import ArmRun


@dataclass(frozen=True)
class Bounds:
    low: float
    high: float  # inf: unknown


def bounds(
    run: ArmRun, decision_size: int, weights: np.ndarray, seed: int = 0, noise: Noise | None = None
) -> Bounds:
    """``run``'s 95% bounds at ``decision_size`` from what it has measured so far; ``noise``: the
    training noise of an arm with one seed per size (None: none assumed)."""
    low, high = interval(run.evaluation.resampled(weights))
    if decision_size <= run.num_train:
        return Bounds(low, high)
    if len({r.size for r in run.curve}) >= 2:
        at = extrapolations(run, weights, [decision_size], noise, seed).get(decision_size)
        if at is not None and (at.fitted or at.not_rising):
            return Bounds(at.low, at.high)
    return Bounds(low, math.inf)


def dominated(
    arms: dict[str, Bounds], candidates: list[str], decision_size: int, pool: int
) -> dict[str, str]:
    """Those of ``candidates`` whose upper bound is below the leader's lower bound, each with why
    (in words); the leader is the arm (of all in ``arms``) with the highest lower bound."""
    if decision_size < pool or not arms:
        return {}
    leader, best = max(arms.items(), key=lambda item: item[1].low)
    return {
        arm: (
            f"its upper bound at {decision_size:,} examples ({100 * arms[arm].high:.1f}) is "
            f"below {leader}'s lower bound ({100 * best.low:.1f})"
        )
        for arm in candidates
        if arm != leader and arms[arm].high < best.low
    }


def settled(arm: str, arms: dict[str, Bounds]) -> str:
    """Why more runs of ``arm`` cannot change the pick ("" when they can): its upper bound is below
    another arm's lower bound, or its lower bound is above every other arm's upper bound."""
    own = arms[arm]
    others = {a: b for a, b in arms.items() if a != arm}
    if not others:
        return ""
    leader, best = max(others.items(), key=lambda item: item[1].low)
    if own.high < best.low:
        return f"its upper bound ({100 * own.high:.1f}) is below {leader}'s lower bound"
    rival, top = max(others.items(), key=lambda item: item[1].high)
    if own.low > top.high:
        return (
            f"its lower bound ({100 * own.low:.1f}) is above every other option's upper bound "
            f"({rival}: {100 * top.high:.1f})"
        )
    return ""
