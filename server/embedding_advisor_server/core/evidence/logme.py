"""LogME: the log maximum evidence of a linear model on frozen features.

You, Liu, Wang and Long, "LogME: Practical Assessment of Pre-trained Models for Transfer Learning",
ICML 2021 (arXiv:2102.11005). For features F (n x d) and one real target column y, LogME fits the
Bayesian linear model y = F w + noise with prior w ~ N(0, alpha^-1 I) and noise ~ N(0, beta^-1),
chooses alpha and beta to maximise the evidence p(y | F, alpha, beta) by the paper's fixed-point
iteration (its Algorithm 1), and reports that maximum log evidence divided by n. A classification
task is scored as the mean over its classes of the score of the class's one-hot column.

What the score means: higher means a linear model on these features explains the labels better,
i.e. the features are more transferable to the task. It is a log density per example, so it is
only comparable between feature sets (encoders) scored on the same labels; its absolute value, and
comparisons across datasets or label sets, mean nothing.

Everything is computed in float64 from one economic SVD of F, F = U diag(s) V^T with sigma = s^2:
with z = U^T y, the posterior mean m = beta (alpha I + beta F^T F)^-1 F^T y has
m^T m = sum t_i^2 z_i^2 / sigma_i and ||F m - y||^2 = ||y||^2 - ||z||^2 + sum (1 - t_i)^2 z_i^2,
where t_i = beta sigma_i / (alpha + beta sigma_i), so each iteration costs O(min(n, d)). The
d - rank eigenvalues of F^T F that are zero (all of them beyond n when d > n) add nothing to gamma
and cancel between d/2 log alpha and -1/2 log|alpha I + beta F^T F|.

Two departures from the reference implementation (github.com/thuml/LogME), neither changing what
is maximised: the evidence is evaluated with m and ||F m - y||^2 recomputed at the final alpha and
beta (the reference reuses the previous step's), so the score is exactly log p(y | F, alpha, beta)
/ n at the reported alpha and beta; and when the features explain nothing of y the iteration
drives alpha towards infinity only slowly, so the score is never below the alpha = inf limit
(w = 0), which is then reported. There is no bias term, as in the paper.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

# Stop once alpha and beta both move by less than this fraction in one step.
TOLERANCE = 1e-3
# The reference implementation stops after 11 steps; a step here costs O(rank) once the SVD is
# done, so 100 cost little and bring slow cases closer to the maximum: at 11 steps the score of a
# class that the features barely separate can still be ~1e-2 below it (alpha still climbing).
MAX_ITERATIONS = 100
# alpha and beta stay within [1 / BOUND, BOUND] so that no step overflows; beta only runs off when
# n <= d and the features fit y exactly, where the evidence tends to a finite limit.
BOUND = 1e150


@dataclass(frozen=True)
class EvidenceFit:
    """The maximised evidence of one target column and where the fixed point stopped."""

    evidence: float  # log p(y | F, alpha, beta) / n at the alpha and beta below
    alpha: float  # prior precision of the weights; inf when the maximum is at w = 0
    beta: float  # noise precision
    iterations: int  # fixed-point steps taken
    converged: bool  # alpha and beta settled, or the maximum is the alpha = inf limit


def logme(features: np.ndarray, labels: Sequence[Hashable]) -> float:
    """LogME of a classification task: the mean over classes of the maximised log evidence (per
    example) of each class's one-hot column given `features` (n x d). Higher = more transferable;
    comparable only between feature sets scored on the same labels.

    Raises ValueError for empty or non-finite features, a label count that is not n, or fewer
    than 2 distinct classes."""
    f = _features(features)
    labels = list(labels)
    if len(labels) != f.shape[0]:
        raise ValueError(
            f"LogME needs one label per feature row: {f.shape[0]} rows but {len(labels)} labels"
        )
    index: dict[Hashable, int] = {}
    codes = np.array([index.setdefault(label, len(index)) for label in labels], dtype=np.intp)
    if len(index) < 2:
        raise ValueError(f"LogME needs at least 2 classes, got {len(index)}")
    targets = np.zeros((f.shape[0], len(index)))
    targets[np.arange(f.shape[0]), codes] = 1.0
    u, sigma = _decompose(f)
    return float(np.mean([_fit(u, sigma, col).evidence for col in targets.T]))


def logme_tagging(word_features: Sequence[np.ndarray], tags: Sequence[Sequence[str]]) -> float:
    """LogME of a token-tagging task: `word_features[i]` holds one row per word of sentence i
    (len(tags[i]) x d) and `tags[i]` their tags; all words of all sentences are stacked and scored
    as one classification task, exactly as `logme` on the stacked rows and tags.

    Raises ValueError for mismatched sentence or word counts, differing feature widths, no words
    at all, or fewer than 2 distinct tags."""
    if len(word_features) != len(tags):
        raise ValueError(
            f"LogME tagging needs one feature matrix per sentence: {len(word_features)} matrices "
            f"but {len(tags)} tag sequences"
        )
    rows: list[np.ndarray] = []
    flat: list[str] = []
    for i, (words, sentence_tags) in enumerate(zip(word_features, tags, strict=True)):
        words = np.asarray(words, dtype=np.float64)
        if len(sentence_tags) == 0 and words.size == 0:
            continue
        if words.ndim != 2 or words.shape[0] != len(sentence_tags):
            raise ValueError(
                f"LogME tagging: sentence {i} has {len(sentence_tags)} tags but features of "
                f"shape {words.shape}; expected ({len(sentence_tags)}, d)"
            )
        if rows and words.shape[1] != rows[0].shape[1]:
            raise ValueError(
                f"LogME tagging: sentence {i} has {words.shape[1]} feature dimensions, "
                f"earlier sentences {rows[0].shape[1]}"
            )
        rows.append(words)
        flat.extend(sentence_tags)
    if not rows:
        raise ValueError("LogME tagging needs at least one tagged word, got none")
    return logme(np.concatenate(rows), flat)


def fit_evidence(features: np.ndarray, target: np.ndarray) -> EvidenceFit:
    """Maximise the evidence of one real-valued target column (length n) given `features` (n x d):
    the per-column step of `logme` (and LogME for a single regression target)."""
    f = _features(features)
    y = np.asarray(target, dtype=np.float64)
    if y.shape != (f.shape[0],):
        raise ValueError(f"LogME needs a target of shape ({f.shape[0]},), got {y.shape}")
    if not np.all(np.isfinite(y)) or not np.any(y):
        raise ValueError("LogME needs a finite target that is not all zeros")
    u, sigma = _decompose(f)
    return _fit(u, sigma, y)


def _features(features: np.ndarray) -> np.ndarray:
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2:
        raise ValueError(f"LogME needs a 2-D feature matrix (n x d), got shape {f.shape}")
    if f.shape[0] == 0 or f.shape[1] == 0:
        raise ValueError(f"LogME needs a non-empty feature matrix, got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("LogME needs finite features, got NaN or infinity")
    return f


def _decompose(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """U's columns and the nonzero eigenvalues sigma = s^2 of F^T F, from the economic SVD of F;
    singular values at rounding level (numpy's matrix_rank tolerance) count as zero."""
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    keep = s > s[0] * max(f.shape) * np.finfo(np.float64).eps
    return u[:, keep], s[keep] ** 2


def _fit(u: np.ndarray, sigma: np.ndarray, y: np.ndarray) -> EvidenceFit:
    n, rank = u.shape
    z2 = (u.T @ y) ** 2
    yy = float(y @ y)
    # ||y||^2 outside the column space of F: none when F has rank n.
    outside = 0.0 if rank == n else max(yy - float(z2.sum()), 0.0)

    def moments(alpha: float, beta: float) -> tuple[float, float, float, np.ndarray]:
        """gamma, m^T m and ||F m - y||^2 at (alpha, beta), and beta sigma_i / alpha."""
        ratio = beta * sigma / alpha
        t = ratio / (1.0 + ratio)  # beta sigma / (alpha + beta sigma)
        gamma = float(t.sum())
        mm = float(np.sum(t * t * z2 / sigma))
        residual = outside + float(np.sum(z2 / (1.0 + ratio) ** 2))  # 1 - t, without cancelling
        return gamma, mm, residual, ratio

    # Start from the target's scale and a prior as strong as the mean eigenvalue, so the result
    # does not depend on the units of F or y; the paper starts from alpha = beta = 1.
    beta = n / yy
    alpha = beta * max(float(sigma.sum()) / n, 1.0 / BOUND)
    converged = rank == 0
    iterations = 0
    while not converged and iterations < MAX_ITERATIONS:
        iterations += 1
        gamma, mm, residual, ratio = moments(alpha, beta)
        # n - gamma = (n - rank) + sum alpha / (alpha + beta sigma), accurate when t is near 1.
        free = (n - rank) + float(np.sum(1.0 / (1.0 + ratio)))
        new_alpha = _clip(gamma / mm if mm > 0 else BOUND)
        new_beta = _clip(free / residual if residual > 0 else BOUND)
        converged = (
            abs(new_alpha - alpha) <= TOLERANCE * alpha and abs(new_beta - beta) <= TOLERANCE * beta
        )
        alpha, beta = new_alpha, new_beta

    # The limit alpha -> infinity (w = 0, y is noise of precision n / ||y||^2) bounds the evidence
    # from the edge of the parameter space. The fixed point heads there, slowly, whenever the
    # features explain nothing of y, as for a class that random features cannot separate.
    beta_null = n / yy
    null = 0.5 * (np.log(beta_null) - np.log(2 * np.pi) - 1.0)
    if not rank:  # F = 0
        return EvidenceFit(float(null), np.inf, float(beta_null), iterations, True)
    _, mm, residual, ratio = moments(alpha, beta)
    log_det = float(np.sum(np.log1p(ratio)))  # log|alpha I + beta F^T F| - d log alpha
    evidence = (
        n / 2 * np.log(beta)
        - n / 2 * np.log(2 * np.pi)
        - beta / 2 * residual
        - alpha / 2 * mm
        - log_det / 2
    ) / n
    if null >= evidence:
        return EvidenceFit(float(null), np.inf, float(beta_null), iterations, True)
    return EvidenceFit(float(evidence), float(alpha), float(beta), iterations, converged)


def _clip(value: float) -> float:
    return min(max(value, 1.0 / BOUND), BOUND)
