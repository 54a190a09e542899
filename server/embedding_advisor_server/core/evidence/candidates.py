"""From pilot runs to candidates: each option's expected score at the decision size, the basis it
rests on, and its bootstrap replicates there (paired across options), for the decision rule.

The decision size is ``--target-size`` when given, else the full training size. An option's
expected score there (``basis``): its fitted learning curve (``fitted``; with exactly two sizes,
as fine-tuning has under a small budget, ``two-size fit``: the exponent is assumed and the
interval spans its plausible range, ``curves.py``); its pilot score when the pilot already
trained on that many examples (``measured``); for an arm with a single size that names another
arm to borrow from (the fine-tuned encoder borrows the frozen encoder's), its pilot score plus the
gain the other arm's fitted curve makes between its pilot size and the decision size
(``borrowed``; fine-tuning gained at least as much from more data as frozen features did in what
the project measured); otherwise its pilot score, flagged ``measured``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..schema import Adaptation, Embedding, Extrapolation, Interval, PilotResult
from . import curves
from .evidence import as_model
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
    # "fitted", "two-size fit", "borrowed" (another arm's curve shape), "not rising" (its curve
    # stopped rising: its largest size's score) or "measured" (its pilot score, no curve)
    basis: str
    examples_per_second: float
    train_seconds: float
    samples: np.ndarray = field(repr=False)  # bootstrap replicates of the pilot score (paired)
    # Replicates of the expected score at the decision size (paired); None: use ``samples``.
    expected_samples: np.ndarray | None = field(default=None, repr=False)
    # The inference throughput's 95% interval (equal to the rate where only one was measured).
    speed_low: float = 0.0
    speed_high: float = 0.0

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
) -> tuple[Extrapolation, str, np.ndarray]:
    """The option's expected score at ``size``, its basis, and its bootstrap samples there
    (paired with the other options' over the held-out replicates ``curve_weights``)."""
    at = predicted.get(size)
    if at is not None and at.fitted:
        two = curves.two_point_c([r.size for r in run.curve]) is not None
        return as_model(at), "two-size fit" if two else "fitted", at.samples
    if at is not None and at.falling:  # its largest size's score, with its training noise
        return as_model(at), "not rising", at.samples
    pilot_samples = run.evaluation.resampled(curve_weights)
    measured = Extrapolation(size=size, score=pilot.score, interval=pilot.interval, fitted=False)
    if size > run.num_train and borrowed_gain is not None:
        gain, gain_samples = borrowed_gain
        score = float(np.clip(pilot.score + gain, 0.0, 1.0))
        samples = np.clip(pilot_samples + gain_samples, 0.0, 1.0)
        low, high = interval(samples)
        iv = Interval(low=min(low, score), high=max(high, score))
        return (
            Extrapolation(size=size, score=score, interval=iv, fitted=False),
            "borrowed",
            samples,
        )
    return measured, "measured", pilot_samples


def borrowed_gain(source: ArmRun | None, predicted: Predictions, size: int) -> Gain | None:
    """``source``'s fitted gain from its pilot size to ``size``, with its bootstrap samples (the
    difference of the two predictions, replicate by replicate); None without a fit."""
    if source is None or size not in predicted or not predicted[size].fitted:
        return None
    at_pool, at_size = predicted[source.num_train], predicted[size]
    return at_size.score - at_pool.score, at_size.samples - at_pool.samples


def candidates(
    runs: list[ArmRun],
    pilots: dict[str, PilotResult],
    predicted: dict[str, Predictions],
    size: int,
    pool: int,
    weights: np.ndarray,
    curve_weights: np.ndarray,
) -> list[tuple[Candidate, Extrapolation]]:
    """One candidate per option run, with its expected score at ``size`` as the wire shows it.
    Borrowing happens only beyond ``pool``, the largest pilot pool."""
    by_arm = {r.arm: r for r in runs}
    out = []
    for run in runs:
        gain = None
        if run.borrows_curve_of and size > pool:
            source = by_arm.get(run.borrows_curve_of)
            gain = borrowed_gain(source, predicted.get(run.borrows_curve_of, {}), size)
        expected, basis, at_size = expected_score(
            run, pilots[run.arm], predicted[run.arm], size, curve_weights, gain
        )
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
            samples=run.evaluation.resampled(weights),
            expected_samples=at_size,
        )
        out.append((c, expected))
    return out
