"""Whether a trained head had stopped improving: early stopping's verdict on a run's dev scores
per epoch, and, where the epoch cap came first, the dev curve extrapolated to its plateau.

An option is judged as the user will train it at full size, to convergence, not as a short pilot
left it (a fine-tuning pilot of 2 epochs on a 7-class relation set scored 49.6 macro-F1 where 8
epochs reach 69.0). Each epoch-trained head stops once its dev score has not improved for
``patience`` epochs, or whose best epoch is not its last: **converged**. A run whose last epoch is its best
and whose gains say more epochs would add at least ``MIN_GAIN`` is judged by **epoch
extrapolation**: the running best dev score is taken as ``c - a * r**epoch`` (a
geometric approach to a plateau ``c``: each epoch's gain a fixed share ``r`` of the previous
one's, ``r`` from the last gains, at most ``MAX_RATIO``), and ``c`` minus the best is the gain
more epochs are expected to add (at most ``MAX_GAIN``). The advice adds that gain to the option's expected score and carries its uncertainty
(from none of it to twice it) into the interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

CONVERGED, EXTRAPOLATED, CONVEX, UNJUDGED = (
    "converged",
    "epoch extrapolation",
    "convex fit",
    "not judged",
)
# A gain ratio this close to 1 says little about the plateau: the remaining gain is capped at what
# this ratio gives, and at MAX_GAIN.
MAX_RATIO = 0.8
MAX_GAIN = 0.15
# More epochs expected to add less than this (half a point) count as none: converged.
MIN_GAIN = 0.005
# Without two gains to take a ratio from, each further epoch is taken to add half the last gain.
DEFAULT_RATIO = 0.5


@dataclass(frozen=True)
class Convergence:
    """How a run's kept epoch was judged: ``verdict`` (``CONVERGED``, ``EXTRAPOLATED``, or
    ``CONVEX``/``UNJUDGED`` for heads without epochs or without a dev slice), the epoch kept,
    the epochs trained and the dev score more epochs are expected to add (0 when converged)."""

    verdict: str
    epoch: int = 0
    epochs_run: int = 0
    gain: float = 0.0


def should_stop(scores: Sequence[float], patience: int, least: int = 1) -> bool:
    """Early stopping: ``least`` epochs done and none of the last ``patience`` beat the best
    before them."""
    if len(scores) < max(least, 1) or patience < 1:
        return False
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    return len(scores) - 1 - best >= patience


def judge(scores: Sequence[float], patience: int) -> Convergence:
    """The verdict on a run's dev scores per epoch (``scores[0]`` after epoch 1): converged when
    its best epoch is not its last (it stopped improving: early stopping, or a plateau at the end
    of its schedule) or more epochs would add less than ``MIN_GAIN``; else by extrapolation.
    ``patience`` is the stopping rule's (the verdict does not depend on it)."""
    if not scores:
        return Convergence(UNJUDGED)
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    gain = remaining_gain(scores) if best == len(scores) - 1 else 0.0
    if gain < MIN_GAIN:
        return Convergence(CONVERGED, best + 1, len(scores))
    return Convergence(EXTRAPOLATED, best + 1, len(scores), gain)


def remaining_gain(scores: Sequence[float]) -> float:
    """What the running best of ``scores`` is expected still to gain: ``r`` from the gains up to
    the last epoch that gained (its and the one before's gain over the two before, square-rooted,
    as a geometric series has it; with fewer, the last over the one before; with one,
    ``DEFAULT_RATIO``), then the geometric tail of that gain ``g``: ``g * r**k / (1 - r)``, ``k``
    the epochs from it to now (1 when it was the last)."""
    running, top = [], float("-inf")
    for s in scores:
        top = max(top, s)
        running.append(top)
    g = [b - a for a, b in zip(running, running[1:], strict=False)]
    rising = [i for i, gain in enumerate(g) if gain > 0]
    if not rising:
        return 0.0
    last = rising[-1]
    upto, ratio = g[: last + 1], DEFAULT_RATIO  # the gains up to the last one that rose
    if len(upto) >= 4 and upto[-3] + upto[-4] > 0:
        ratio = math.sqrt((upto[-1] + upto[-2]) / (upto[-3] + upto[-4]))
    elif len(upto) >= 2 and upto[-2] > 0:
        ratio = upto[-1] / upto[-2]
    ratio = min(max(ratio, 0.0), MAX_RATIO)
    gain = g[last] * ratio ** (len(g) - last) / (1.0 - ratio)
    return float(min(gain, MAX_GAIN, max(1.0 - running[-1], 0.0)))
