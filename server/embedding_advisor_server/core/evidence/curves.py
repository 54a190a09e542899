"""Learning curves: fit score(n) = a - b * n^(-c) to pilot scores and extrapolate, with intervals.

The inverse power law is the usual shape of a learning curve (Hestness et al. 2017; Figueroa et
al. 2012): rising, flattening, bounded by an asymptote ``a`` (kept within [0, 1]). Three or more
distinct sizes fit all three parameters. Two sizes cannot identify the exponent: the point
estimate takes ``c = PRIOR_C`` (the n^-1/2 rate) and each bootstrap replicate draws ``c``
log-uniformly from ``C_RANGE``, whose median is ``PRIOR_C`` (the geometric mean of 0.25 and 1),
so the interval carries that ignorance and the point sits at the centre of its replicates (a
uniform draw, median 0.625, put the point's gain from 120/240 to 5,000 examples 1.2x above the
replicates' median). With one size, or when the fit fails, the curve is flat at the mean of the
largest size: no extrapolation is claimed beyond what was measured.

A fitted exponent stays at most ``C_RANGE``'s top, 1. Learning curves in language tasks flatten
slowly: Hestness et al. (2017) measured exponents of 0.07-0.35, and the sweeps of ``advise eval``
rise as slowly (rotten_tomatoes' frozen encoder + BiLSTM: 70.4, 75.3, 79.1 at 500, 2,000 and
10,202 examples). With noisy pilots a curve that levels off between its last two sizes fitted best
with exponents up to 2, which hold it flat from the pool on: that arm's pilots (70.7, 72.2, 72.3 at
500, 1,000, 2,000) took c = 2 and expected 72.6 at 10,202, interval [69.5, 77.1]. On the
simulated slow curves of ``benchmarks/curve_coverage.py`` the cap raised coverage from 79.0% to
82.7% at 4x the pool and from 86.7% to 89.3% at 5x, the other cases within 2 points.

A curve with no rise to fit (the best fit has ``b = 0``: falling or flat throughout, such as the
random arm's 60.0, 58.1, 56.5) is not smoothed upward: the fit's flat line sat at the mean of every
size (58.2), above the latest point. It is flat at the largest size's mean instead, flagged
``not_rising`` (LCDB 1.1, Mohr et al. 2023, finds 14-15% of real learning curves non-monotone).
Each bootstrap replicate is refitted the same way, so a replicate whose noisy points do rise keeps
its rise: the interval still reaches where more data may take a curve that sits near the floor at
the pilot sizes (MRPC's fine-tuning: 53.3 at 500 examples, 66.6 measured at 2,000). Holding every
replicate flat too was tried; on the calibration benchmark it cut MRPC's coverage from 5/6 to 3/6.

Intervals are prediction intervals for one training run at the target size, from a bootstrap with
two sources of noise:
- evaluation noise: each replicate re-weights the held-out examples (the same replicate for every
  size and seed, so the points stay paired);
- training noise (which examples and seed a run got): re-weighting one held-out set moves every
  point alike and so leaves the curve's slope nearly fixed; the slope's real uncertainty comes from
  each run's own draw. Each replicate adds independent normal noise to every point, and to the
  prediction (the user's run is one more draw: Student's t on the spread's degrees of freedom).
  Its standard deviation shrinks with the training size as ``scale / sqrt(n)`` (the variance of
  what a learner fits falls as 1/n), with ``scale`` pooled from the spread between seeds at each
  size (``seed_noise``); where no size has two seeds, a given fallback (the caller's), else the
  run's own evaluation spread. A constant spread, measured at the small sizes where seeds are
  cheap, made the point at the pool as noisy as the smallest and the intervals needlessly wide:
  on the calibration benchmark's replayed pilots (rotten_tomatoes, tweets, MRPC; advice from 500
  examples for 2,000) the median interval width fell from 18.4 to 12.6 points while 17 of 18
  intervals still covered the measured score. On simulated quick pilots
  (tests/unit/evidence/test_curves.py) the intervals at 4x the pool covered a fresh run 90% of
  the time (median width 13 points).
The curve is refitted per replicate; the percentiles of the predictions form the interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .metrics import Evaluation, interval


@dataclass(frozen=True)
class Fit:
    a: float
    b: float
    c: float
    fitted: bool  # False: flat at the largest size's mean (too few sizes, no fit, no rise)
    not_rising: bool = False  # flat because no rise fits (the module's notes)

    def predict(self, n: float) -> float:
        if not self.fitted:
            return self.a
        return float(self.a - self.b * n ** (-self.c))


PRIOR_C = 0.5
C_RANGE = (0.25, 1.0)
# The exponents a fit may take: up to C_RANGE's top, the two-size prior's (module notes).
EXPONENT_GRID = np.round(np.arange(0.05, C_RANGE[1] + 1e-4, 0.05), 2)


def two_point_c(sizes: Sequence[float]) -> float | None:
    """The exponent to assume: PRIOR_C with exactly two distinct sizes, else None (fit it)."""
    return PRIOR_C if len(set(sizes)) == 2 else None


def fit_curve(
    sizes: Sequence[float], scores: Sequence[float], exponent: float | None = None
) -> Fit:
    """Least-squares fit of ``a - b * n^-c`` with a in [0, 1], b >= 0, c on a 0.05-step grid
    in [0.05, 1] (or the given ``exponent``, which two sizes suffice for): for a fixed c the model is
    linear in (a, b), solved in closed form (fast enough to refit every bootstrap replicate)."""
    x = np.asarray(sizes, dtype=float)
    y = np.asarray(scores, dtype=float)
    largest = x == x.max()
    flat = Fit(float(y[largest].mean()), 0.0, 0.0, fitted=False)
    if len(np.unique(x)) < (3 if exponent is None else 2) or not np.all(np.isfinite(y)):
        return flat
    best: tuple[float, Fit] | None = None
    for c in EXPONENT_GRID if exponent is None else [exponent]:
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
    if best is None:
        return flat
    return replace(flat, not_rising=True) if best[1].b <= 0 else best[1]


@dataclass(frozen=True)
class Prediction:
    size: int
    score: float
    low: float
    high: float
    fitted: bool
    not_rising: bool = False  # flat at the largest size: no rise fits (``Fit.not_rising``)
    # The refitted curves' predictions, one per held-out replicate (paired with other arms' on
    # the same replicate), without the one-more-run noise the interval adds: the uncertainty of
    # the expected score, which decisions between options compare.
    samples: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)


@dataclass(frozen=True)
class Noise:
    """Training noise with standard deviation ``scale / sqrt(n)`` at training size ``n``, and the
    degrees of freedom it was estimated with (0: assumed, not estimated)."""

    scale: float
    df: int = 0

    def spread(self, n: float | np.ndarray) -> np.ndarray:
        return self.scale / np.sqrt(np.asarray(n, dtype=float))

    def draw(
        self,
        rng: np.random.Generator,
        rounds: int,
        sizes: Sequence[float],
        predictive: bool = False,
    ) -> np.ndarray:
        """Noise for ``rounds`` replicates of runs at ``sizes`` (rounds x len(sizes)): normal;
        ``predictive``, one more run's noise: Student's t when the scale was estimated from few
        seeds (the scale itself is uncertain)."""
        shape = (rounds, len(sizes))
        t = predictive and self.df
        unit = rng.standard_t(self.df, size=shape) if t else rng.normal(size=shape)
        return unit * self.spread(sizes)


def seed_noise(sizes: Sequence[int], scores: Sequence[float]) -> Noise | None:
    """Training noise from the spread between seeds at one size, pooled over sizes as
    ``n * variance`` (ddof 1), or None when no size has two seeds."""
    x, y = np.asarray(sizes, dtype=float), np.asarray(scores, dtype=float)
    groups = [(n, y[x == n]) for n in np.unique(x)]
    groups = [(n, g) for n, g in groups if len(g) > 1]
    if not groups:
        return None
    squares = sum(n * float(((g - g.mean()) ** 2).sum()) for n, g in groups)
    df = sum(len(g) - 1 for _, g in groups)
    return Noise(float(np.sqrt(squares / df)), df)


def extrapolate(
    sizes: Sequence[int],
    evaluations: Sequence[Evaluation],
    targets: Sequence[int],
    weights: np.ndarray,
    level: float = 0.95,
    fallback_noise: Noise | None = None,
    seed: int = 0,
) -> list[Prediction]:
    """Fit the curve to the runs (one per size and seed) and predict each target size.

    ``weights`` are bootstrap replicates over the held-out examples (rounds x n), shared by all
    runs; each replicate gives one refitted curve (see the module's notes on noise).
    """
    scores = [e.score() for e in evaluations]
    two_sizes = two_point_c(sizes) is not None
    fit = fit_curve(sizes, scores, two_point_c(sizes))
    replicates = np.stack([e.resampled(weights) for e in evaluations], axis=1)  # rounds x runs
    noise = seed_noise(sizes, scores)
    if noise is None:
        noise = fallback_noise
    rng = np.random.default_rng(seed)
    rounds = len(replicates)
    if noise is None:  # each run's own evaluation spread, and the largest size's for the target
        spread = replicates.std(axis=0)
        replicates = replicates + rng.normal(size=replicates.shape) * spread
        at_largest = float(spread[np.asarray(sizes) == max(sizes)].mean())
        target_noise = rng.normal(size=(rounds, len(targets))) * at_largest
    else:
        replicates = replicates + noise.draw(rng, rounds, sizes)
        target_noise = noise.draw(rng, rounds, targets, predictive=True)
    draws = np.exp(rng.uniform(*np.log(C_RANGE), size=rounds))  # median PRIOR_C
    predictions = np.full((rounds, len(targets)), np.nan)
    for r, row in enumerate(replicates):
        refit = fit_curve(sizes, row, float(draws[r]) if two_sizes else None)
        predictions[r] = [refit.predict(t) for t in targets]
    expected = np.clip(predictions, 0.0, 1.0)  # the curve's uncertainty: what decisions compare
    predictions = np.clip(predictions + target_noise, 0.0, 1.0)
    out = []
    for j, target in enumerate(targets):
        low, high = interval(predictions[:, j], level)
        point = fit.predict(target)
        out.append(
            Prediction(
                int(target),
                point,
                min(low, point),
                max(high, point),
                fitted=fit.fitted,
                not_rising=fit.not_rising,
                samples=expected[:, j],
            )
        )
    return out
