"""Learning curves: fit score(n) = a - b * n^(-c) to pilot scores and extrapolate, with intervals.

The inverse power law is the usual shape of a learning curve (Hestness et al. 2017; Figueroa et
al. 2012): rising, flattening, bounded by an asymptote ``a`` (kept within [0, 1]). With fewer than
three distinct sizes, or when the fit fails, the curve is flat at the mean of the largest size: no
extrapolation is claimed beyond what was measured.

Intervals come from the bootstrap: each replicate re-weights the held-out examples (the same
replicate for every size and seed, so the points stay paired), the curve is refitted, and the
percentiles of the replicates' predictions form the interval. Seeds at one size enter as separate
points, so seed noise widens the interval too.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .metrics import Evaluation, interval


@dataclass(frozen=True)
class Fit:
    a: float
    b: float
    c: float
    fitted: bool  # False: flat at the largest size's mean (too few sizes, or no fit)

    def predict(self, n: float) -> float:
        if not self.fitted:
            return self.a
        return float(self.a - self.b * n ** (-self.c))


def _law(n, a, b, c):
    return a - b * np.power(n, -c)


def fit_curve(sizes: Sequence[float], scores: Sequence[float]) -> Fit:
    """Least-squares fit of ``a - b * n^-c`` (a in [0, 1], b >= 0, c in [0.05, 2])."""
    from scipy.optimize import curve_fit

    x = np.asarray(sizes, dtype=float)
    y = np.asarray(scores, dtype=float)
    largest = x == x.max()
    flat = Fit(float(y[largest].mean()), 0.0, 0.0, fitted=False)
    if len(np.unique(x)) < 3 or not np.all(np.isfinite(y)):
        return flat
    p0 = (
        min(1.0, float(y.max()) + 0.02),
        max(1e-3, float(y.max() - y.min())) * x.min() ** 0.5,
        0.5,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (a, b, c), _ = curve_fit(
                _law,
                x,
                y,
                p0=p0,
                bounds=([0.0, 0.0, 0.05], [1.0, np.inf, 2.0]),
                maxfev=2000,
            )
    except (RuntimeError, ValueError):
        return flat
    if not all(math.isfinite(v) for v in (a, b, c)):
        return flat
    return Fit(float(a), float(b), float(c), fitted=True)


@dataclass(frozen=True)
class Extrapolation:
    size: int
    score: float
    low: float
    high: float
    fitted: bool


def extrapolate(
    sizes: Sequence[int],
    evaluations: Sequence[Evaluation],
    targets: Sequence[int],
    weights: np.ndarray,
    level: float = 0.95,
) -> list[Extrapolation]:
    """Fit the curve to the runs (one per size and seed) and predict each target size.

    ``weights`` are bootstrap replicates over the held-out examples (rounds x n), shared by all
    runs; each replicate gives one refitted curve.
    """
    scores = [e.score() for e in evaluations]
    fit = fit_curve(sizes, scores)
    replicates = np.stack([e.resampled(weights) for e in evaluations], axis=1)  # rounds x runs
    predictions = np.full((len(weights), len(targets)), np.nan)
    for r, row in enumerate(replicates):
        refit = fit_curve(sizes, row)
        predictions[r] = [refit.predict(t) for t in targets]
    out = []
    for j, target in enumerate(targets):
        low, high = interval(predictions[:, j], level)
        point = fit.predict(target)
        out.append(
            Extrapolation(int(target), point, min(low, point), max(high, point), fitted=fit.fitted)
        )
    return out
