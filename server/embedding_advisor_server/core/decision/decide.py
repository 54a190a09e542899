"""The decision rule: from each option's expected score and cost to one pick, its runner-up and a
confidence. Pure: it sees numbers, not models, so it is unit-tested on synthetic evidence.

An option is a pilot arm a user could deploy (fine-tuned encoder, frozen encoder + a head, static
vectors + a head, random vectors + a head). Its *expected* score is at the decision size (the full
training size, or ``--target-size``): from its fitted learning curve, or, without one, its pilot
score (see ``evidence/candidates.py`` for how each is obtained). Its **cost** is the CPU time on
this machine to train it at the decision size and then score the deployment's examples:
``train_seconds_at_decision + inference_volume / examples_per_second`` (training time projected
linearly from the pilot's; throughput batched, with its measured interval; ``inference_volume``
the examples the deployment will score, ``DEFAULT_VOLUME`` unless the user says). A large volume
makes inference dominate; a small one lets fine-tuning's minutes of training count against an
option with the same encoder at inference. One request's latency (an example alone,
``pilots/deployed.py``) is a bound only.

The rule, in order:

1. **Did anything learn?** If no option beats the majority-class baseline beyond noise (the low
   end of the paired 95% bootstrap interval of option minus majority, at the pilot size, is not
   above zero), nothing is advised. (Setting aside each option that does not was tried: on a
   240-example pilot scored on 60 examples it left one option, and fine-tuning, judged at the
   decision size, can rise past one that gated it out at the pilot size.) Each option is then
   checked where the advice is for: one whose expected score at the decision size does not beat
   the baseline beyond noise (the low end of the paired interval of its replicates there minus
   the majority's) is set aside, so the pick itself always does. If none does there, the options
   that did at the pilot size stay, and a note says so.
2. **Inference bounds.** Options slower than ``min_examples_per_second``, or whose one request
   takes longer than ``max_latency_ms`` at the 95th percentile, are out (an option whose latency
   was not measured is not held to that bound). If that leaves none, the fastest option is the
   only one left (by latency when a latency bound is set, else by throughput), and a note says the
   bound cannot be met.
3. **Random vectors are a floor.** They stay in only if they are truly as good: their expected
   score at least that of the best other option.
4. **Best.** The option with the highest expected score.
5. **Priority.** Among the options whose expected score is within the tolerance of the best
   (``accuracy``: 0 points, ``balanced``: 1, ``cost``: 3; ``tolerance`` overrides), pick the one
   with the lowest cost; options within 25% of that cost, or whose cost interval overlaps its
   interval (the difference is inside the throughput's measurement noise: encoder options share
   one timed encoder, ``pilots/cost.py``), count as equally cheap, and the one among them with the
   highest expected score is picked (then the lowest cost). Accuracy is traded for cost only with
   at least medium confidence: an option other than the best counts as within the tolerance only
   when at least ``TRADE_SUPPORT`` (70%) of the paired replicates at the decision size put it
   there; a cheaper option passed over for this is named in a note. (Without this, the evaluation
   found the cheap static + logistic-regression option picked at low confidence, within the point
   estimate's tolerance, and measured 2.7 points below the best on BBC News at 500 examples.)
6. **Runner-up.** If the pick is not the best, the best (what more accuracy would cost). Otherwise
   the next option by expected score, preferring one that is a different choice (another embedding
   or the other side of fine-tune / freeze) over another head for the same choice.
7. **Confidence.** The share of paired bootstrap replicates of the expected scores at the decision
   size (held-out examples resampled, curves refitted with training noise; see ``curves.py``) in
   which the pick scores no worse than the runner-up less the tolerance: high from 0.9, medium
   from 0.7, else low. Candidates without such replicates are compared at the pilot size. With
   no runner-up (one option left), the comparison is with the majority baseline, the only other
   answer. At most medium when the decision size is more than four times the pilot size (it
   rests on extrapolation; ``capped``, which the per-question confidences share), and at most
   medium when no option meets the inference bound (the pick is forced, not chosen).
8. **Too wide to tell.** When the pick's or the runner-up's interval at the decision size spans
   more than ``WIDEST`` (30 points) and the two overlap, the pilots could not tell them apart
   within the budget (fine-tuning from two sizes once spanned [22.0, 89.1]): confidence is low,
   and a note says so and what would narrow it. The runner measures a third fine-tuning size
   before it comes to this (``pilots/tuning.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np

from ..evidence.candidates import Candidate
from ..schema import Confidence, Embedding, Priority

DEFAULT_TOLERANCE = {Priority.ACCURACY: 0.0, Priority.BALANCED: 1.0, Priority.COST: 3.0}
EQUALLY_CHEAP = 1.25
HIGH, MEDIUM = 0.9, 0.7
EXTRAPOLATION_FACTOR = 4
DEFAULT_VOLUME = 1_000_000  # examples a deployment scores, unless the user says
WIDEST = 0.30  # an interval wider than this (a fraction) cannot settle an overlap
TRADE_SUPPORT = MEDIUM  # the replicates' share that must put a cheaper pick within the tolerance


@dataclass(frozen=True)
class Preferences:
    priority: Priority = Priority.BALANCED
    tolerance_points: float | None = None  # None: the priority's default
    min_examples_per_second: float = 0.0
    max_latency_ms: float = 0.0  # one request, 95th percentile
    inference_volume: int = 0  # examples the deployment will score; 0: ``DEFAULT_VOLUME``

    @property
    def volume(self) -> int:
        return self.inference_volume or DEFAULT_VOLUME

    @property
    def tolerance(self) -> float:
        """The tolerance as a fraction (scores are fractions)."""
        if self.tolerance_points is not None:
            return self.tolerance_points / 100
        priority = self.priority if self.priority is not Priority.UNSPECIFIED else Priority.BALANCED
        return DEFAULT_TOLERANCE[priority] / 100


@dataclass
class Verdict:
    learned: bool
    pick: Candidate | None = None
    best: Candidate | None = None
    runner_up: Candidate | None = None
    confidence: Confidence = Confidence.UNSPECIFIED
    support: float = 0.0  # share of replicates behind the confidence
    excluded: dict[str, str] = field(default_factory=dict)  # arm -> why
    notes: list[str] = field(default_factory=list)


def confidence_level(support: float) -> Confidence:
    """High from ``HIGH`` of the replicates, medium from ``MEDIUM``, else low."""
    if support >= HIGH:
        return Confidence.HIGH
    return Confidence.MEDIUM if support >= MEDIUM else Confidence.LOW


def paired_difference(a: Candidate, b: Candidate) -> np.ndarray:
    """Replicates of ``a - b``: at the decision size when both carry them, else at the pilot."""
    if a.expected_samples is not None and b.expected_samples is not None:
        return a.expected_samples - b.expected_samples
    return a.samples - b.samples


def cost(c: Candidate, volume: float) -> tuple[float, float, float]:
    """``c``'s cost in CPU seconds here (module docstring): the point, and its low and high ends
    from the throughput's interval (the training time is one measurement, a point)."""

    def scoring(rate: float) -> float:
        return volume / rate if rate > 0 else float("inf")

    train, rate = c.train_seconds_at_decision, c.examples_per_second
    return (
        train + scoring(rate),
        train + scoring(c.speed_high or rate),
        train + scoring(c.speed_low or rate),
    )


def price_of(c: Candidate, volume: float) -> float:
    """``c``'s cost point (``cost``): what the rule compares options' costs by."""
    return cost(c, volume)[0]


def equally_cheap(c: Candidate, cheapest: Candidate, volume: float) -> bool:
    """``c`` costs no more than ``cheapest`` beyond the 25% band or the measurement noise (its
    cost interval reaches down to the top of ``cheapest``'s)."""
    point, low, _ = cost(c, volume)
    least, _, top = cost(cheapest, volume)
    return point <= least * EQUALLY_CHEAP or low <= top


def lift_low(samples: np.ndarray, baseline: np.ndarray) -> float:
    """The low end of the paired 95% interval of ``samples - baseline``."""
    return float(np.quantile(samples - baseline, 0.025))


def capped(level: Confidence, decision_size: int, pilot_size: int) -> Confidence:
    """``level``, at most medium when the decision size is more than ``EXTRAPOLATION_FACTOR``
    times the pilot size."""
    if (
        level is Confidence.HIGH
        and pilot_size
        and decision_size > EXTRAPOLATION_FACTOR * pilot_size
    ):
        return Confidence.MEDIUM
    return level


def decide(
    candidates: list[Candidate],
    majority: np.ndarray,
    prefs: Preferences,
    decision_size: int = 0,
    pilot_size: int = 0,
) -> Verdict:
    """Apply the rule (module docstring) to ``candidates``; ``majority`` holds the baseline's
    bootstrap replicates, paired with the candidates' ``samples``."""
    if not candidates or not any(lift_low(c.samples, majority) > 0 for c in candidates):
        return Verdict(learned=False)
    verdict = Verdict(learned=True)
    eligible = _above_majority(candidates, majority, verdict)
    forced = False
    if prefs.min_examples_per_second > 0 or prefs.max_latency_ms > 0:
        eligible, forced = _within_bounds(eligible, prefs, verdict)
    others = [c for c in eligible if c.embedding is not Embedding.RANDOM]
    if others:
        top = max(c.expected for c in others)
        for c in eligible:
            if c.embedding is Embedding.RANDOM and c.expected < top:
                verdict.excluded[c.arm] = "random vectors are the floor, and not as good"
        eligible = [c for c in eligible if c.arm not in verdict.excluded]

    tol, volume = prefs.tolerance, prefs.volume
    price = partial(price_of, volume=volume)
    best = max(eligible, key=lambda c: (c.expected, -price(c)))
    pick = _priced(eligible, best, tol, volume, verdict)
    rest = sorted((c for c in eligible if c is not pick), key=lambda c: -c.expected)
    if pick is not best:
        runner_up = best
    else:
        different = [c for c in rest if c.choice != pick.choice]
        runner_up = (different or rest or [None])[0]
    verdict.pick, verdict.best, verdict.runner_up = pick, best, runner_up
    if runner_up is None:  # one option left: the other answer is to advise nothing
        support = float(np.mean(pick.samples - majority > 0))
    else:
        support = within_support(pick, runner_up, tol)
    verdict.support = support
    verdict.confidence = capped(confidence_level(support), decision_size, pilot_size)
    if verdict.confidence is not confidence_level(support):
        verdict.notes.append(
            f"Confidence capped at medium: the decision size ({decision_size:,}) is more than "
            f"{EXTRAPOLATION_FACTOR}x the pilot size ({pilot_size:,}), so it rests on extrapolation."
        )
    if forced and verdict.confidence is Confidence.HIGH:
        verdict.confidence = Confidence.MEDIUM
        verdict.notes.append("Confidence capped at medium: no option meets the inference bound.")
    wide = too_wide(pick, runner_up)
    if wide:
        verdict.confidence = Confidence.LOW
        verdict.notes.append(wide)
    return verdict


def within_support(c: Candidate, other: Candidate, tol: float) -> float:
    """The share of paired replicates in which ``c`` scores no worse than ``other`` less ``tol``
    (the confidence's support, and the trade bar's)."""
    return share_within(paired_difference(c, other), tol)


def share_within(diff: np.ndarray, tol: float) -> float:
    """The share of the paired differences ``diff`` no worse than ``-tol``."""
    return float(np.mean(diff >= -tol - 1e-12))


def _priced(
    eligible: list[Candidate], best: Candidate, tol: float, volume: float, verdict: Verdict
) -> Candidate:
    """Step 5 of the rule: the cheapest option surely enough within ``tol`` of ``best`` (the
    best-scoring of the equally cheap); a cheaper option left out as not sure enough is noted."""
    price = partial(price_of, volume=volume)
    within = [c for c in eligible if best.expected - c.expected <= tol + 1e-12]
    support = {c.arm: 1.0 if c is best else within_support(c, best, tol) for c in within}
    sure = [c for c in within if support[c.arm] >= TRADE_SUPPORT]
    cheapest = min(sure, key=price)
    cheap = [c for c in sure if equally_cheap(c, cheapest, volume)]
    pick = max(cheap, key=lambda c: (c.expected, -price(c)))
    unsure = [c for c in within if c not in sure and price(c) < price(pick)]
    band = f"{100 * tol:g} point" + ("" if abs(100 * tol - 1) < 1e-9 else "s")
    for c in sorted(unsure, key=price):
        verdict.notes.append(
            f"{c.arm} is expected within {band} of the best ({best.arm}) at less "
            f"cost, but only {100 * support[c.arm]:.0f}% of the paired replicates put it there "
            f"({100 * TRADE_SUPPORT:.0f}% needed to trade accuracy for cost)."
        )
    return pick


def too_wide(pick: Candidate, runner_up: Candidate | None) -> str:
    """Why the pick cannot be told from the runner-up ("" when it can): one of their intervals
    at the decision size spans more than ``WIDEST`` and the two overlap."""
    if runner_up is None or runner_up.high < pick.low or pick.high < runner_up.low:
        return ""
    wide = max((pick, runner_up), key=lambda c: c.high - c.low)
    if wide.high - wide.low <= WIDEST:
        return ""
    return (
        f"Could not tell {pick.arm} from {runner_up.arm} within this budget: {wide.arm}'s "
        f"expected score at the decision size spans {100 * (wide.high - wide.low):.0f} points, "
        "and the two intervals overlap. A larger --budget (standard and thorough measure "
        "fine-tuning at more sizes and seeds and probe more learning rates) or more pilot "
        "examples (--max-train) would narrow it."
    )


def _expected(c: Candidate) -> np.ndarray:
    """``c``'s replicates at the decision size (its pilot's when it has none)."""
    return c.expected_samples if c.expected_samples is not None else c.samples


def _above_majority(
    candidates: list[Candidate], majority: np.ndarray, verdict: Verdict
) -> list[Candidate]:
    """The options that beat the majority baseline beyond noise at the decision size (the
    others excluded in ``verdict``), or, when none does, those that did at the pilot size.
    Replicates at the decision size come from the first rows of the held-out weights that the
    pilot's replicates use (``recommend``), so they pair with the majority's first rows."""

    def above_there(c: Candidate) -> bool:
        e = _expected(c)
        return lift_low(e, majority[: len(e)]) > 0

    above = [c for c in candidates if above_there(c)]
    if not above:
        verdict.notes.append(
            "No option's expected score at the decision size beats the majority baseline beyond "
            "noise; the options that did at the pilot size are weighed."
        )
        return [c for c in candidates if lift_low(c.samples, majority) > 0]
    for c in candidates:
        if c not in above:
            verdict.excluded[c.arm] = (
                "not above the majority baseline beyond noise at the decision size"
            )
    return above


def _misses(c: Candidate, prefs: Preferences) -> str:
    """Why ``c`` misses the inference bounds, in words ("" when it meets them)."""
    why = []
    rate, bound = c.examples_per_second, prefs.min_examples_per_second
    if bound > 0 and rate < bound:
        why.append(f"{rate:,.0f} examples/s is below the bound of {bound:,.0f}")
    latency, most = c.latency_p95_ms, prefs.max_latency_ms
    if most > 0 and latency > most:
        why.append(
            f"one request takes {latency:,.1f} ms (95th percentile), over the bound of {most:g} ms"
        )
    return "; ".join(why)


def _within_bounds(
    eligible: list[Candidate], prefs: Preferences, verdict: Verdict
) -> tuple[list[Candidate], bool]:
    """The options that meet the inference bounds (the others excluded in ``verdict``), or the
    fastest alone with a note when none does; and whether that happened."""
    misses = {c.arm: _misses(c, prefs) for c in eligible}
    fast = [c for c in eligible if not misses[c.arm]]
    forced = not fast
    if forced:
        if prefs.max_latency_ms > 0:
            fastest = min(eligible, key=lambda c: c.latency_p95_ms or float("inf"))
            speed = f"{fastest.latency_p95_ms:,.1f} ms a request"
        else:
            fastest = max(eligible, key=lambda c: c.examples_per_second)
            speed = f"{fastest.examples_per_second:,.0f}/s"
        verdict.notes.append(
            "No option meets the inference bounds on this machine; the fastest "
            f"({fastest.arm}, {speed}) is advised."
        )
        fast = [fastest]
    for c in eligible:
        if c not in fast:
            verdict.excluded[c.arm] = misses[c.arm]
    return fast, forced
