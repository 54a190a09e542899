"""Pilot runs -> the evidence the advice cites: learning-curve points, extrapolations, and the gaps
on the halves of each per-example profile metric (Arora et al. 2020's median split)."""

from __future__ import annotations

import zlib

import numpy as np

from ..schema import (
    BucketedGap,
    BucketGap,
    CurveFit,
    CurvePoint,
    ExampleMetrics,
    Extrapolation,
    Interval,
    PilotResult,
)
from . import curves
from .curves import Noise, seed_noise
from .metrics import Evaluation, bootstrap_weights, interval
from .runs import ArmRun

CURVE_ROUNDS = 200
PROFILE_METRICS = ("complexity", "ambiguity", "unseen_prevalence")


def curve_points(run: ArmRun, weights: np.ndarray) -> list[CurvePoint]:
    """Mean score per size over its seeds; the interval resamples held-out examples and seeds."""
    out = []
    for size in sorted({r.size for r in run.curve}):
        evals = [r.evaluation for r in run.curve if r.size == size]
        samples = np.mean([e.resampled(weights) for e in evals], axis=0)
        low, high = interval(samples)
        out.append(
            CurvePoint(
                size=size,
                score=float(np.mean([e.score() for e in evals])),
                interval=Interval(low=low, high=high),
                seeds=len(evals),
            )
        )
    return out


def training_noise(runs: list[ArmRun]) -> Noise | None:
    """The largest seed-to-seed noise any arm measured (its scale, see ``curves.Noise``): the
    training noise assumed for an arm that ran one seed per size (fine-tuning under a small
    budget). None when none measured."""
    spreads = [
        seed_noise([r.size for r in run.curve], [r.evaluation.score() for r in run.curve])
        for run in runs
    ]
    return max((s for s in spreads if s is not None), key=lambda s: s.scale, default=None)


def extrapolations(
    run: ArmRun,
    weights: np.ndarray,
    sizes: list[int],
    fallback_noise: Noise | None = None,
    seed: int = 0,
) -> dict[int, curves.Prediction]:
    """The run's curve extrapolated to each of ``sizes`` (empty without a curve), with the
    bootstrap predictions. Each arm draws its own training noise (seeded by its name), while the
    held-out replicates (``weights``) are shared, so two arms' samples stay paired."""
    if not run.curve:
        return {}
    fitted = curves.extrapolate(
        [r.size for r in run.curve],
        [r.evaluation for r in run.curve],
        sizes,
        weights,
        fallback_noise=fallback_noise,
        seed=zlib.crc32(f"{seed}:{run.arm}".encode()),
    )
    return {e.size: e for e in fitted}


def as_model(e: curves.Prediction) -> Extrapolation:
    """The wire form of a prediction: one run's interval, and the expected score's from the
    refitted curves' replicates (each reaching the point, as the one-run interval does)."""
    run = Interval(low=e.low, high=e.high)
    mean = mean_interval(e.samples, e.score) if len(e.samples) else None
    return Extrapolation(
        size=e.size,
        score=e.score,
        interval=spanning(run, mean),
        fitted=e.fitted,
        mean_interval=mean,
    )


def spanning(run: Interval, mean: Interval | None) -> Interval:
    """One run's interval widened to hold the mean's: one more run's noise can only widen it,
    but the two are percentiles of separate draws and may cross by the draws' noise."""
    if mean is None:
        return run
    return Interval(low=min(run.low, mean.low), high=max(run.high, mean.high))


def mean_interval(samples: np.ndarray, point: float, raise_top: float = 0.0) -> Interval:
    """The 95% interval of the expected score from its replicates, stretched to reach ``point``,
    its top raised by ``raise_top`` (what may still be gained beyond the replicates), within
    [0, 1]."""
    low, high = interval(samples)
    return Interval(low=min(low, point), high=min(max(high, point) + max(raise_top, 0.0), 1.0))


def pilot_result(
    run: ArmRun,
    weights: np.ndarray,
    predicted: dict[int, curves.Prediction],
    full_size: int = 0,
    target_size: int = 0,
) -> PilotResult:
    """The wire form of one arm's pilot: its score and interval, curve, fit and extrapolations."""
    low, high = interval(run.evaluation.resampled(weights))
    fit = None
    if run.curve:
        sizes = [r.size for r in run.curve]
        f = curves.fit_curve(
            sizes, [r.evaluation.score() for r in run.curve], curves.two_point_c(sizes)
        )
        fit = CurveFit(a=f.a, b=f.b, c=f.c, fitted=f.fitted)

    def at(size: int) -> Extrapolation | None:
        return as_model(predicted[size]) if size and size in predicted else None

    return PilotResult(
        fit=fit,
        curve=curve_points(run, weights) if run.curve else [],
        at_full_size=at(full_size),
        at_target_size=at(target_size),
        peak_memory_mib=run.peak_memory_mib,
        logme=run.logme,
        arm=run.arm,
        label=run.label,
        short_label=run.short_label,
        embedding=run.embedding,
        description=run.description,
        score=run.evaluation.score(),
        interval=Interval(low=low, high=high),
        num_train=run.num_train,
        num_eval=run.num_eval,
        featurize_seconds=run.featurize_seconds,
        train_seconds=run.train_seconds,
        examples_per_second=run.examples_per_second,
        examples_per_second_interval=speed_interval(run),
        latency_ms=run.latency_ms,
        latency_p95_ms=run.latency_p95_ms,
    )


def speed_interval(run: ArmRun) -> Interval | None:
    """The 95% interval of the run's inference throughput; None where it was not measured."""
    if (
        run.examples_per_second_high <= 0
        or run.examples_per_second_low == run.examples_per_second_high
    ):
        return None
    return Interval(low=run.examples_per_second_low, high=run.examples_per_second_high)


def _subset(e: Evaluation, idx: np.ndarray) -> Evaluation:
    return Evaluation(e.stats[idx], e.reduce)


def _gap(a: Evaluation, b: Evaluation, idx: np.ndarray, seed: int) -> BucketGap:
    sa, sb = _subset(a, idx), _subset(b, idx)
    w = bootstrap_weights(len(idx), CURVE_ROUNDS, seed)
    low, high = interval(sa.resampled(w) - sb.resampled(w))
    return BucketGap(
        gap=sa.score() - sb.score(), interval=Interval(low=low, high=high), examples=len(idx)
    )


def bucketed_gaps(
    examples: ExampleMetrics | None,
    lines: list[int],
    contextual: ArmRun,
    others: list[ArmRun],
    seed: int,
) -> list[BucketedGap]:
    """Gaps on the low (<= median) and high halves of each metric. ``lines`` are the held-out
    examples' lines in the order the runs scored them; examples with no value are left out."""
    if examples is None or not examples.lines:
        return []
    position = {line: i for i, line in enumerate(examples.lines)}
    order = [position.get(line) for line in lines]
    if any(i is None for i in order):
        return []  # the profile describes other examples: nothing to split
    out = []
    for name in PROFILE_METRICS:
        values = np.asarray(getattr(examples, name), dtype=float)[order]
        defined = np.flatnonzero(~np.isnan(values))
        if len(defined) < 4:
            continue
        median = float(np.median(values[defined]))
        low = defined[values[defined] <= median]
        high = defined[values[defined] > median]
        if len(low) < 2 or len(high) < 2:
            continue
        for other in others:
            out.append(
                BucketedGap(
                    profile_metric=name,
                    versus=other.arm,
                    median=median,
                    low=_gap(contextual.evaluation, other.evaluation, low, seed),
                    high=_gap(contextual.evaluation, other.evaluation, high, seed),
                )
            )
    return out
