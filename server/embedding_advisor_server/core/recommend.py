"""From pilot evidence to advice. The decision rule, in order:

1. If neither embedding beats the majority-class baseline beyond noise (the lower end of the paired
   95% bootstrap interval of best-minus-majority is not above zero), nothing is advised: the data,
   as sampled, does not teach either option.
2. If the encoder's paired gap over the static vectors is above zero beyond noise, advise the
   encoder (BERT-family).
3. Otherwise advise the static vectors: they are better, or as good within noise and far cheaper.
"""

from __future__ import annotations

import numpy as np

from . import evidence
from .metrics import interval
from .models import (
    BucketedGap,
    DatasetProfile,
    Embedding,
    Interval,
    PilotResult,
    Recommendation,
)
from .pilots import ENCODER_FROZEN, MAJORITY, RANDOM_MEAN, STATIC_MEAN, ArmRun


def _pts(x: float) -> str:
    return f"{100 * x:.1f}"


def _pilot_result(
    run: ArmRun, weights: np.ndarray, full_size: int = 0, target_size: int = 0
) -> PilotResult:
    low, high = interval(run.evaluation.resampled(weights))
    targets = [n for n in (full_size, target_size) if n]
    curve_weights = weights[: evidence.CURVE_ROUNDS]
    fitted = evidence.extrapolations(run, curve_weights, targets) if targets else []
    at = dict(zip(targets, fitted, strict=False))
    return PilotResult(
        curve=evidence.curve_points(run, weights) if run.curve else [],
        at_full_size=at.get(full_size) if full_size else None,
        at_target_size=at.get(target_size) if target_size else None,
        peak_memory_mib=run.peak_memory_mib,
        arm=run.arm,
        embedding=run.embedding,
        description=run.description,
        score=run.evaluation.score(),
        interval=Interval(low=low, high=high),
        num_train=run.num_train,
        num_eval=run.num_eval,
        featurize_seconds=run.featurize_seconds,
        train_seconds=run.train_seconds,
        examples_per_second=run.examples_per_second,
    )


def recommend(
    profile: DatasetProfile,
    runs: list[ArmRun],
    metric: str,
    weights: np.ndarray,
    encoder_name: str,
    vectors_name: str,
    *,
    target_size: int = 0,
    held_out_lines: list[int] | None = None,
    notes: list[str] | None = None,
    seed: int = 0,
) -> Recommendation:
    by_arm = {r.arm: r for r in runs}
    pilots = {
        r.arm: _pilot_result(r, weights, profile.num_train if r.curve else 0, target_size)
        for r in runs
    }
    enc, static, majority = by_arm[ENCODER_FROZEN], by_arm[STATIC_MEAN], by_arm[MAJORITY]
    p_enc, p_static, p_major = pilots[ENCODER_FROZEN], pilots[STATIC_MEAN], pilots[MAJORITY]

    gap_samples = enc.evaluation.resampled(weights) - static.evaluation.resampled(weights)
    gap = p_enc.score - p_static.score
    gap_low, gap_high = interval(gap_samples)
    best = enc if p_enc.score >= p_static.score else static
    lift_low, _ = interval(
        best.evaluation.resampled(weights) - majority.evaluation.resampled(weights)
    )
    learned = lift_low > 0

    speedup = (
        p_static.examples_per_second / p_enc.examples_per_second
        if p_enc.examples_per_second
        else 0.0
    )
    n_note = (
        f"Pilots trained on {p_enc.num_train} of {profile.num_train} training examples and scored "
        f"{p_enc.num_eval} held-out examples ({metric}, 95% bootstrap intervals)."
    )
    scores = (
        f"Frozen {encoder_name} + logistic regression scored {_pts(p_enc.score)} "
        f"[{_pts(p_enc.interval.low)}, {_pts(p_enc.interval.high)}]; mean {vectors_name} + logistic "
        f"regression scored {_pts(p_static.score)} [{_pts(p_static.interval.low)}, "
        f"{_pts(p_static.interval.high)}]; the majority-class baseline scored {_pts(p_major.score)}."
    )
    gap_text = (
        f"The encoder's gap over the static vectors is {gap * 100:+.1f} points "
        f"(95% paired interval {gap_low * 100:+.1f} to {gap_high * 100:+.1f})."
    )
    cost = (
        f"Static-vector features ran at {p_static.examples_per_second:,.0f} examples/s vs "
        f"{p_enc.examples_per_second:,.0f} for the encoder ({speedup:,.0f}x cheaper) on this machine."
    )
    oov = f"{_pts(profile.vectors_oov_rate)}% of word occurrences are missing from {vectors_name}."

    if not learned:
        embedding = Embedding.UNSPECIFIED
        headline = (
            f"No option learned beyond the majority-class baseline ({_pts(p_major.score)} {metric}): "
            "neither embedding is advised on this evidence."
        )
        reasons = [scores, "Check the labels, add data, or try fine-tuning (later pilots)."]
    elif gap_low > 0:
        embedding = Embedding.CONTEXTUAL
        headline = (
            f"Use the BERT-family encoder: it beats {vectors_name} by {gap * 100:.1f} {metric} points "
            "beyond noise."
        )
        reasons = [scores, gap_text, cost]
    else:
        embedding = Embedding.STATIC
        if gap_high < 0:
            headline = (
                f"Use {vectors_name}: it beats the encoder by {-gap * 100:.1f} {metric} points and is "
                f"{speedup:,.0f}x cheaper."
            )
        else:
            headline = (
                f"Use {vectors_name}: the encoder's {gap * 100:+.1f}-point difference is within noise, "
                f"and static vectors are {speedup:,.0f}x cheaper."
            )
        reasons = [scores, gap_text, cost]
        reasons.append(
            "The static arm mean-pools word vectors, which undersells them next to a sequence model: "
            "the margin in their favour is conservative."
        )
    reasons += [oov, n_note]
    extra = _extrapolation_reason(pilots, profile.num_train, p_enc.num_train)
    if extra:
        reasons.append(extra)
    others = [by_arm[a] for a in (STATIC_MEAN, RANDOM_MEAN) if a in by_arm]
    gaps = evidence.bucketed_gaps(profile.examples, held_out_lines or [], enc, others, seed)
    reasons.extend(_bucket_reasons(gaps))
    return Recommendation(
        bucketed_gaps=gaps,
        pilot_notes=list(notes or []),
        embedding=embedding,
        headline=headline,
        reasons=reasons,
        metric=metric,
        pilots=list(pilots.values()),
        profile=profile,
        gap=gap,
        gap_interval=Interval(low=gap_low, high=gap_high),
        encoder=encoder_name,
        vectors=vectors_name,
        anything_learned=learned,
    )


def _extrapolation_reason(pilots: dict[str, PilotResult], full: int, pool: int) -> str:
    enc, static = pilots.get(ENCODER_FROZEN), pilots.get(STATIC_MEAN)
    if full <= pool or not enc or not static or not enc.at_full_size or not static.at_full_size:
        return ""
    e, g = enc.at_full_size, static.at_full_size
    if not (e.fitted and g.fitted):
        return ""
    return (
        f"Extrapolated to all {full} training examples, the fitted learning curves put the encoder "
        f"at {_pts(e.score)} [{_pts(e.interval.low)}, {_pts(e.interval.high)}] and the static "
        f"vectors at {_pts(g.score)} [{_pts(g.interval.low)}, {_pts(g.interval.high)}]."
    )


_METRIC_WORDS = {
    "complexity": ("structurally simpler", "more complex"),
    "ambiguity": ("less ambiguous", "more ambiguous"),
    "unseen_prevalence": ("more familiar-worded", "rarer-worded"),
}


def _bucket_reasons(gaps: list[BucketedGap]) -> list[str]:
    """One sentence for the static comparison: where the encoder's gap differs most by half."""
    static = [g for g in gaps if g.versus == STATIC_MEAN]
    if not static:
        return []
    widest = max(static, key=lambda g: abs(g.high.gap - g.low.gap))
    low_words, high_words = _METRIC_WORDS[widest.profile_metric]
    return [
        f"The encoder's gap over the static vectors is {widest.high.gap * 100:+.1f} points on the "
        f"{high_words} half of the held-out examples and {widest.low.gap * 100:+.1f} on the "
        f"{low_words} half (split at the median {widest.profile_metric.replace('_', ' ')})."
    ]
