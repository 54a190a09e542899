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


C_GRID = np.round(np.arange(0.05, 2.0001, 0.05), 2)


def fit_curve(sizes: Sequence[float], scores: Sequence[float]) -> Fit:
    """Least-squares fit of ``a - b * n^-c`` with a in [0, 1], b >= 0, c on a 0.05-step grid
    in [0.05, 2]: for a fixed c the model is linear in (a, b), solved in closed form (fast
    enough to refit every bootstrap replicate)."""
    x = np.asarray(sizes, dtype=float)
    y = np.asarray(scores, dtype=float)
    largest = x == x.max()
    flat = Fit(float(y[largest].mean()), 0.0, 0.0, fitted=False)
    if len(np.unique(x)) < 3 or not np.all(np.isfinite(y)):
        return flat
    best: tuple[float, Fit] | None = None
    for c in C_GRID:
        z = x ** (-c)
        zc = z - z.mean()
        b = max(0.0, -float((zc * (y - y.mean())).sum() / (zc * zc).sum()))
        a = float(y.mean() + b * z.mean())
        if a > 1.0:  # the asymptote cannot pass a perfect score
            a = 1.0
            b = max(0.0, float(((1.0 - y) * z).sum() / (z * z).sum()))
        if a < 0.0:
            continue
        sse = float(((y - (a - b * z)) ** 2).sum())
        if best is None or sse < best[0] - 1e-15:
            best = (sse, Fit(a, b, float(c), fitted=True))
    return best[1] if best else flat


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
