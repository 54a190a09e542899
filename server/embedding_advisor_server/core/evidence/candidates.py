"""From pilot runs to candidates: each option's expected score at the decision size, the basis it
rests on, and its bootstrap replicates there (paired across options), for the decision rule.

The decision size is ``--target-size`` when given, else the full training size. An option's
expected score there (``basis``):
- ``measured``: its pilot score, when the pilot trained on that many examples. Every option
  measured at the decision size is taken this way, fitted curve or not, so that options at one
  size are compared alike (a curve's smoothed value there is not set against another's raw run);
- ``fitted``: its learning curve's prediction (``two-size fit`` with exactly two sizes, as
  fine-tuning has under a small budget: the exponent is assumed and the interval spans its
  plausible range, ``curves.py``);
- ``not rising``: its learning curve has no rise to fit: flat at its largest size's mean score,
  with the interval of its refitted replicates (which may rise, ``curves.py``), its top raised
  like ``not extrapolated``'s: a curve that did not rise at the pilot sizes says no more about
  its rise beyond them than no curve does (MRPC's frozen+LR fell from 250 to 500 examples and
  rose 5.6 points by 2,000);
- ``borrowed``: for an arm with a single size that names another arm to borrow from (the
  fine-tuned encoder borrows the frozen encoder's), its pilot score plus the gain the other arm's
  fitted curve makes from the borrower's own pilot size to the decision size (fine-tuning gained
  at least as much from more data as frozen features did in what the project measured);
- ``not extrapolated``: otherwise (no curve, and the decision size beyond the pilot), its pilot
  score, with an interval whose top is raised by the largest gain any fitted option makes from
  its pilot to the decision size: it may gain as much, and nothing measured says it will not.

A pilot still improving at its epoch cap (``convergence.py``) is judged at convergence by epoch
extrapolation: its expected score is raised by the gain more epochs are expected to add, its
replicates by a draw from none of that gain to twice it, its interval's top by twice it.

Every expected score carries the same two kinds of uncertainty in its replicates: the held-out
examples resampled (paired across options) and training noise. A curve's replicates carry the
latter (``curves.py``); a pilot score's get one run's training noise drawn at its size, from the
arm's own seeds where it ran two at one size, else the largest seed noise any arm measured (the
fallback the curves use), else its own evaluation spread. Two intervals are given: the expected
score's (``mean_interval``: the replicates' 95%, the uncertainty of what a run at the decision size
scores on average), and one run's (``interval``), which adds one more run's noise (the user's
run), as the curves' prediction intervals do. Both reach the point, and both tops are raised
alike (``not extrapolated``, ``not rising``, epoch extrapolation).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from ..schema import Adaptation, Embedding, Extrapolation, Interval, PilotResult
from . import curves
from .evidence import as_model, mean_interval, spanning
from .metrics import interval
from .runs import ArmRun

Predictions = dict[int, curves.Prediction]  # training size -> the curve's prediction there


@dataclass(frozen=True)
class Candidate:
    arm: str
    embedding: Embedding
    finetuned: bool
    expected: float  # score at the decision size
    low: float
    high: float
    # "fitted", "two-size fit", "not rising" (flat at its largest size: no rise fits), "borrowed"
    # (another arm's curve shape), "measured" (its pilot score at the decision size) or "not
    # extrapolated" (its pilot score, no curve, from fewer)
    basis: str
    examples_per_second: float
    train_seconds: float
    samples: np.ndarray = field(repr=False)  # bootstrap replicates of the pilot score (paired)
    # Replicates of the expected score at the decision size (paired); None: use ``samples``.
    expected_samples: np.ndarray | None = field(default=None, repr=False)
    # The inference throughput's 95% interval (equal to the rate where only one was measured).
    speed_low: float = 0.0
    speed_high: float = 0.0
    # One request's latency (an example alone), median and 95th percentile, ms; 0: not measured.
    latency_ms: float = 0.0
    latency_p95_ms: float = 0.0
    # Training time at the decision size: the pilot's, scaled by the decision size over its
    # training examples (same recipe, linear in examples).
    train_seconds_at_decision: float = 0.0
    # How its pilot's training was judged (``convergence.py``), and the dev gain more epochs are
    # expected to add (by epoch extrapolation; in ``expected``).
    convergence: str = ""
    epoch_gain: float = 0.0

    @property
    def choice(self) -> tuple[Embedding, bool]:
        return self.embedding, self.finetuned


Gain = tuple[float, np.ndarray]  # a gain in score and its bootstrap replicates


def expected_score(
    run: ArmRun,
    pilot: PilotResult,
    predicted: Predictions,
    size: int,
    curve_weights: np.ndarray,
    borrowed_gain: Gain | None,
    noise: curves.Noise | None = None,
    widen: float = 0.0,
) -> tuple[Extrapolation, str, np.ndarray]:
    """The option's expected score at ``size``, its basis, and its bootstrap samples there
    (paired with the other options' over the held-out replicates ``curve_weights``; see the
    module's notes). ``noise``: the fallback training noise; ``widen``: how far a score that is
    not extrapolated may still rise by ``size``."""
    at = predicted.get(size)
    if size != run.num_train and at is not None and at.fitted:
        two = curves.two_point_c([r.size for r in run.curve]) is not None
        return as_model(at), "two-size fit" if two else "fitted", at.samples
    if size != run.num_train and at is not None and at.not_rising:
        e = as_model(at)  # its replicates may rise, and so may it: as far as a fitted option
        top = min(e.interval.high + max(widen, 0.0), 1.0)
        mean = mean_interval(at.samples, e.score, widen)
        update = {
            "interval": spanning(Interval(low=e.interval.low, high=top), mean),
            "mean_interval": mean,
        }
        return e.model_copy(update=update), "not rising", at.samples
    pilot_samples = run.evaluation.resampled(curve_weights)
    rng = np.random.default_rng(zlib.crc32(f"{run.arm}:{size}".encode()))
    spread = _run_noise(run, noise, pilot_samples)
    expected = pilot_samples + rng.normal(size=len(pilot_samples)) * spread
    score, basis, top = pilot.score, "measured", 0.0
    if size > run.num_train and borrowed_gain is not None:
        gain, gain_samples = borrowed_gain
        score, basis = pilot.score + gain, "borrowed"
        expected = expected + gain_samples
    elif size > run.num_train:
        basis, top = "not extrapolated", max(widen, 0.0)
    expected = np.clip(expected, 0.0, 1.0)
    one_more = np.clip(expected + rng.normal(size=len(expected)) * spread, 0.0, 1.0)
    low, high = interval(one_more)
    score = float(np.clip(score, 0.0, 1.0))
    iv = Interval(low=min(low, score), high=min(max(high, score) + top, 1.0))
    mean = mean_interval(expected, score, top)
    return (
        Extrapolation(
            size=size, score=score, interval=spanning(iv, mean), fitted=False, mean_interval=mean
        ),
        basis,
        expected,
    )


def with_epoch_gain(
    e: Extrapolation, samples: np.ndarray, gain: float, arm: str
) -> tuple[Extrapolation, np.ndarray]:
    """``e`` and its replicates raised by what more epochs are expected to add (``gain``, by
    epoch extrapolation): the point by ``gain``, each replicate by a draw from 0 to twice it, the
    intervals' tops by twice it (the extrapolation's uncertainty)."""
    rng = np.random.default_rng(zlib.crc32(f"{arm}:epochs".encode()))
    raised = np.clip(samples + rng.uniform(0.0, 2 * gain, len(samples)), 0.0, 1.0)
    update: dict[str, object] = {
        "score": min(e.score + gain, 1.0),
        "interval": _raised(e.interval, 2 * gain),
    }
    if e.mean_interval is not None:
        update["mean_interval"] = _raised(e.mean_interval, 2 * gain)
    return e.model_copy(update=update), raised


def _raised(iv: Interval, by: float) -> Interval:
    return Interval(low=iv.low, high=min(iv.high + by, 1.0))


def _run_noise(run: ArmRun, fallback: curves.Noise | None, samples: np.ndarray) -> float:
    """One run's training noise at the run's size: the arm's own seeds, else ``fallback``, else
    its evaluation spread (as ``curves.extrapolate`` takes it)."""
    own = curves.seed_noise([r.size for r in run.curve], [r.evaluation.score() for r in run.curve])
    noise = own or fallback
    if noise is None:
        return float(samples.std())
    return float(noise.spread(run.num_train))


def borrowed_gain(
    source: ArmRun | None, predicted: Predictions, size: int, start: int
) -> Gain | None:
    """``source``'s fitted gain from ``start`` (the borrower's pilot size) to ``size``, with its
    bootstrap samples (the difference of the two predictions, replicate by replicate); None
    without a fit."""
    if source is None or size not in predicted or not predicted[size].fitted:
        return None
    if start not in predicted:
        return None
    at_start, at_size = predicted[start], predicted[size]
    return at_size.score - at_start.score, at_size.samples - at_start.samples


def largest_gain(runs: list[ArmRun], predicted: dict[str, Predictions], size: int) -> float:
    """The largest gain a fitted curve makes from its arm's pilot size to ``size`` (0: none)."""
    gains = [
        predicted[r.arm][size].score - predicted[r.arm][r.num_train].score
        for r in runs
        if size in predicted.get(r.arm, {})
        and predicted[r.arm][size].fitted
        and r.num_train in predicted[r.arm]
    ]
    return max(gains, default=0.0)


def candidates(
    runs: list[ArmRun],
    pilots: dict[str, PilotResult],
    predicted: dict[str, Predictions],
    size: int,
    weights: np.ndarray,
    curve_weights: np.ndarray,
    noise: curves.Noise | None = None,
) -> list[tuple[Candidate, Extrapolation]]:
    """One candidate per option run, with its expected score at ``size`` as the wire shows it
    (``noise``: the fallback training noise). ``predicted`` must hold each arm's curve at every
    arm's pilot size, where a borrowed gain starts."""
    by_arm = {r.arm: r for r in runs}
    widen = largest_gain(runs, predicted, size)
    out = []
    for run in runs:
        gain = None
        if run.borrows_curve_of and size > run.num_train:
            source = by_arm.get(run.borrows_curve_of)
            gain = borrowed_gain(
                source, predicted.get(run.borrows_curve_of, {}), size, run.num_train
            )
        expected, basis, at_size = expected_score(
            run, pilots[run.arm], predicted[run.arm], size, curve_weights, gain, noise, widen
        )
        if run.convergence.gain > 0:
            expected, at_size = with_epoch_gain(expected, at_size, run.convergence.gain, run.arm)
        c = Candidate(
            arm=run.arm,
            embedding=run.embedding,
            finetuned=run.adaptation is Adaptation.FINE_TUNE,
            expected=expected.score,
            low=expected.interval.low,
            high=expected.interval.high,
            basis=basis,
            examples_per_second=run.examples_per_second,
            train_seconds=run.train_seconds,
            speed_low=run.examples_per_second_low or run.examples_per_second,
            speed_high=run.examples_per_second_high or run.examples_per_second,
            latency_ms=run.latency_ms,
            latency_p95_ms=run.latency_p95_ms,
            train_seconds_at_decision=run.train_seconds * size / max(run.num_train, 1),
            convergence=run.convergence.verdict,
            epoch_gain=run.convergence.gain,
            samples=run.evaluation.resampled(weights),
            expected_samples=at_size,
        )
        out.append((c, expected))
    return out
