"""From pilot evidence to advice: expected scores at the decision size, the decision rule
(``decide.py``), the three questions answered with their evidence, and the reasons in words.

The decision size is ``--target-size`` when given, else the full training size. An option's
expected score there (``basis``): its fitted learning curve (``fitted``; with exactly two sizes,
as fine-tuning has under a small budget, ``two-size fit``: the exponent is assumed and the
interval spans its plausible range, ``curves.py``); its pilot score when the pilot already
trained on that many examples (``measured``); for the fine-tuned encoder with a single size, its
pilot score plus the gain the frozen encoder's fitted curve makes between the pilot size and the
decision size (``borrowed``; fine-tuning gained at least as much from more data as frozen
features did in what the project measured); otherwise its pilot score, flagged ``measured``.
"""

from __future__ import annotations

import math

import numpy as np

from . import curves, evidence
from .decide import Candidate, Preferences, Verdict, confidence_level, decide, paired_difference
from .metrics import interval
from .models import (
    Adaptation,
    BucketedGap,
    Confidence,
    CurveFit,
    DatasetProfile,
    Decision,
    Embedding,
    Extrapolation,
    Interval,
    Option,
    PilotResult,
    Recommendation,
)
from .pilots import (
    ENCODER_FINETUNED,
    ENCODER_FROZEN,
    ENCODER_LOGREG,
    MAJORITY,
    RANDOM,
    STATIC,
    STATIC_LOGREG,
    ArmRun,
)
from .pretraining import advise_pretraining


def _pts(x: float) -> str:
    return f"{100 * x:.1f}"


def _pilot_result(
    run: ArmRun,
    weights: np.ndarray,
    predicted: dict[int, curves.Extrapolation],
    full_size: int = 0,
    target_size: int = 0,
) -> PilotResult:
    low, high = interval(run.evaluation.resampled(weights))
    fit = None
    if run.curve:
        sizes = [r.size for r in run.curve]
        f = curves.fit_curve(
            sizes, [r.evaluation.score() for r in run.curve], curves.two_point_c(sizes)
        )
        fit = CurveFit(a=f.a, b=f.b, c=f.c, fitted=f.fitted)

    def at(size: int) -> Extrapolation | None:
        return evidence.as_model(predicted[size]) if size and size in predicted else None

    return PilotResult(
        fit=fit,
        curve=evidence.curve_points(run, weights) if run.curve else [],
        at_full_size=at(full_size),
        at_target_size=at(target_size),
        peak_memory_mib=run.peak_memory_mib,
        logme=run.logme,
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


def labels(encoder: str, vectors: str) -> dict[str, str]:
    return {
        ENCODER_FINETUNED: f"fine-tuned {encoder}",
        ENCODER_FROZEN: f"frozen {encoder} + BiLSTM",
        ENCODER_LOGREG: f"frozen {encoder} + logistic regression",
        STATIC: f"{vectors} + BiLSTM",
        STATIC_LOGREG: f"averaged {vectors} + logistic regression",
        RANDOM: "random vectors + BiLSTM",
    }


def _expected(
    run: ArmRun,
    pilot: PilotResult,
    predicted: dict[int, curves.Extrapolation],
    size: int,
    curve_weights: np.ndarray,
    borrowed_gain: tuple[float, np.ndarray] | None,
) -> tuple[Extrapolation, str, np.ndarray]:
    """The option's expected score at ``size``, its basis, and its bootstrap samples there
    (paired with the other options' over the first ``CURVE_ROUNDS`` held-out replicates)."""
    at = predicted.get(size)
    if at is not None and at.fitted:
        two = curves.two_point_c([r.size for r in run.curve]) is not None
        return evidence.as_model(at), "two-size fit" if two else "fitted", at.samples
    pilot_samples = run.evaluation.resampled(curve_weights)
    measured = Extrapolation(size=size, score=pilot.score, interval=pilot.interval, fitted=False)
    if size > run.num_train and run.arm == ENCODER_FINETUNED and borrowed_gain is not None:
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


def _frozen_gain(
    by_arm: dict[str, ArmRun], predicted: dict[str, dict[int, curves.Extrapolation]], size: int
) -> tuple[float, np.ndarray] | None:
    """The frozen encoder's fitted gain from its pilot size to ``size``, with its bootstrap
    samples (the difference of the two predictions, replicate by replicate)."""
    frozen = by_arm.get(ENCODER_FROZEN)
    at = predicted.get(ENCODER_FROZEN, {})
    if frozen is None or size not in at or not at[size].fitted:
        return None
    at_pool, at_size = at[frozen.num_train], at[size]
    return at_size.score - at_pool.score, at_size.samples - at_pool.samples


def _option(c: Candidate, label: str, expected: Extrapolation) -> Option:
    return Option(
        arm=c.arm,
        embedding=c.embedding,
        adaptation=Adaptation.FINE_TUNE if c.finetuned else Adaptation.FREEZE,
        label=label,
        expected=expected,
        basis=c.basis,
        examples_per_second=c.examples_per_second,
        train_seconds=c.train_seconds,
    )


def _speed(a: float, b: float) -> str:
    """How inference at ``a`` examples/s compares with ``b``, in words."""
    if a <= 0 or b <= 0:
        return "at an unmeasured inference speed"
    ratio = a / b
    if 0.8 <= ratio <= 1.25:
        return "about as fast at inference"
    x = ratio if ratio > 1 else 1 / ratio
    times = f"{x:,.1f}x" if x < 10 else f"{x:,.0f}x"
    return f"{times} {'faster' if ratio > 1 else 'slower'} at inference"


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
    prefs: Preferences | None = None,
) -> Recommendation:
    prefs = prefs or Preferences()
    by_arm = {r.arm: r for r in runs}
    size = target_size or profile.num_train
    noise = evidence.training_noise(runs)
    curve_weights = weights[: evidence.CURVE_ROUNDS]
    predicted = {
        r.arm: evidence.extrapolations(
            r, curve_weights, sorted({profile.num_train, size, r.num_train}), noise, seed
        )
        for r in runs
    }
    pilots = {
        r.arm: _pilot_result(
            r, weights, predicted[r.arm], profile.num_train if r.curve else 0, target_size
        )
        for r in runs
    }
    pool = max((r.num_train for r in runs if r.curve), default=0)
    names = labels(encoder_name, vectors_name)
    borrowed = _frozen_gain(by_arm, predicted, size) if size > pool else None
    candidates, options = [], {}
    for run in runs:
        if run.arm == MAJORITY:
            continue
        expected, basis, at_size = _expected(
            run, pilots[run.arm], predicted[run.arm], size, curve_weights, borrowed
        )
        c = Candidate(
            arm=run.arm,
            embedding=run.embedding,
            finetuned=run.arm == ENCODER_FINETUNED,
            expected=expected.score,
            low=expected.interval.low,
            high=expected.interval.high,
            basis=basis,
            examples_per_second=run.examples_per_second,
            train_seconds=run.train_seconds,
            samples=run.evaluation.resampled(weights),
            expected_samples=at_size,
        )
        candidates.append(c)
        options[run.arm] = _option(c, names.get(run.arm, run.arm), expected)
    majority = by_arm[MAJORITY].evaluation.resampled(weights)
    verdict = decide(candidates, majority, prefs, size, pool)

    # The legacy gap: the best contextual pilot minus the best static pilot, paired.
    best_of = _best_by_family(candidates)
    ctx, stat = best_of.get(Embedding.CONTEXTUAL), best_of.get(Embedding.STATIC)
    gap, gap_iv = 0.0, Interval(low=0.0, high=0.0)
    if ctx and stat:
        gap = pilots[ctx.arm].score - pilots[stat.arm].score
        low, high = interval(ctx.samples - stat.samples)
        gap_iv = Interval(low=low, high=high)

    p_major = pilots[MAJORITY]
    n_note = (
        f"Pilots trained on up to {pool} of {profile.num_train} training examples and scored "
        f"{p_major.num_eval} held-out examples ({metric}, 95% bootstrap intervals)."
    )
    oov = f"{_pts(profile.vectors_oov_rate)}% of word occurrences are missing from {vectors_name}."
    common = dict(
        bucketed_gaps=_gaps(profile, held_out_lines, by_arm, seed),
        pilot_notes=list(notes or []),
        metric=metric,
        pilots=list(pilots.values()),
        profile=profile,
        gap=gap,
        gap_interval=gap_iv,
        encoder=encoder_name,
        vectors=vectors_name,
        priority=prefs.priority,
        tolerance_points=100 * prefs.tolerance,
        min_examples_per_second=prefs.min_examples_per_second,
        decision_size=size,
        logme_rank_correlation=_logme_correlation(list(pilots.values())),
        options=sorted(options.values(), key=lambda o: -o.expected.score),
    )
    if not verdict.learned or verdict.pick is None:
        return Recommendation(
            embedding=Embedding.UNSPECIFIED,
            headline=(
                f"No option learned beyond the majority-class baseline ({_pts(p_major.score)} "
                f"{metric}): nothing is advised on this evidence."
            ),
            reasons=[
                _scores(candidates, options, p_major, metric),
                "Check the labels, add data, or give the pilots more examples (--max-train).",
                oov,
                n_note,
            ],
            anything_learned=False,
            **common,
        )
    pick, runner = verdict.pick, verdict.runner_up
    chosen = options[pick.arm]
    e = chosen.expected
    headline = (
        f"Use {chosen.label}: expected {metric} {_pts(e.score)} [{_pts(e.interval.low)}, "
        f"{_pts(e.interval.high)}] at {size:,} training examples, "
        f"{pick.examples_per_second:,.0f} examples/s here ({verdict.confidence.value} confidence)."
    )
    trade_off = _trade_off(pick, runner, options, size, metric) if runner else ""
    emb = _embedding_decision(pick, best_of, options, prefs)
    adapt = _adaptation_decision(pick, candidates, options, prefs)
    pretraining = advise_pretraining(profile.domain, pick.embedding is Embedding.CONTEXTUAL)
    reasons = [
        _why_pick(verdict, options, prefs, metric),
        _scores(candidates, options, p_major, metric),
    ]
    if trade_off:
        reasons.append(trade_off)
    reasons += [d.reason for d in (emb, adapt) if d is not None and d.reason]
    reasons += verdict.notes
    reasons.extend(_bucket_reasons(common["bucketed_gaps"]))
    reasons += [oov, n_note]
    return Recommendation(
        embedding=pick.embedding,
        headline=headline,
        reasons=reasons,
        anything_learned=True,
        choice=chosen,
        runner_up=options[runner.arm] if runner else None,
        confidence=verdict.confidence,
        trade_off=trade_off,
        embedding_decision=emb,
        adaptation_decision=adapt,
        pretraining=pretraining,
        excluded=[f"{options[arm].label}: {why}" for arm, why in verdict.excluded.items()],
        **common,
    )


def _best_by_family(candidates: list[Candidate]) -> dict[Embedding, Candidate]:
    out: dict[Embedding, Candidate] = {}
    for c in candidates:
        if c.embedding not in out or c.expected > out[c.embedding].expected:
            out[c.embedding] = c
    return out


def _compare(
    answer: str,
    evidence_c: Candidate,
    other: Candidate | None,
    options: dict[str, Option],
    prefs: Preferences,
    reason: str,
) -> Decision:
    if other is None:
        return Decision(
            answer=answer,
            evidence=options[evidence_c.arm],
            confidence=Confidence.HIGH,
            reason=reason,
        )
    diff = paired_difference(evidence_c, other)
    low, high = interval(diff)
    support = float(np.mean(diff >= -prefs.tolerance - 1e-12))
    return Decision(
        answer=answer,
        evidence=options[evidence_c.arm],
        alternative=options[other.arm],
        gain=evidence_c.expected - other.expected,
        gain_interval=Interval(low=low, high=high),
        confidence=confidence_level(support),
        reason=reason,
    )


def _embedding_decision(
    pick: Candidate,
    best_of: dict[Embedding, Candidate],
    options: dict[str, Option],
    prefs: Preferences,
) -> Decision:
    answers = {
        Embedding.CONTEXTUAL: "BERT-family encoder",
        Embedding.STATIC: "static vectors",
        Embedding.RANDOM: "random vectors",
    }
    mine = best_of[pick.embedding] if pick.embedding in best_of else pick
    other_family = (
        Embedding.STATIC if pick.embedding is not Embedding.STATIC else Embedding.CONTEXTUAL
    )
    other = best_of.get(other_family)
    reason = ""
    if other is not None:
        diff = mine.expected - other.expected
        reason = (
            f"Embeddings: the best {answers[mine.embedding]} option ({options[mine.arm].label}) "
            f"is expected at {_pts(mine.expected)} vs {_pts(other.expected)} for the best "
            f"{answers[other.embedding]} option ({options[other.arm].label}), {diff * 100:+.1f} "
            f"points, {_speed(mine.examples_per_second, other.examples_per_second)}."
        )
    return _compare(answers[pick.embedding], mine, other, options, prefs, reason)


def _adaptation_decision(
    pick: Candidate,
    candidates: list[Candidate],
    options: dict[str, Option],
    prefs: Preferences,
) -> Decision:
    if pick.embedding is not Embedding.CONTEXTUAL:
        return Decision(
            answer="freeze",
            evidence=options[pick.arm],
            confidence=Confidence.HIGH,
            reason="Adaptation: static vectors are used as fixed features; only the head trains.",
        )
    contextual = [c for c in candidates if c.embedding is Embedding.CONTEXTUAL]
    others = [c for c in contextual if c.finetuned != pick.finetuned]
    other = max(others, key=lambda c: c.expected) if others else None
    answer = "fine-tune" if pick.finetuned else "freeze"
    reason = ""
    if other is not None:
        tuned, frozen = (pick, other) if pick.finetuned else (other, pick)
        reason = (
            f"Fine-tune or freeze: fine-tuning is expected at {_pts(tuned.expected)} vs "
            f"{_pts(frozen.expected)} frozen ({options[frozen.arm].label}), "
            f"{(tuned.expected - frozen.expected) * 100:+.1f} points; its pilot trained for "
            f"{tuned.train_seconds:,.0f} s vs {frozen.train_seconds:,.0f} s"
            + _BASIS_NOTE.get(tuned.basis, "")
            + "."
        )
    return _compare(answer, pick, other, options, prefs, reason)


_BASIS_NOTE = {
    "borrowed": " (fine-tuning's expected score borrows the frozen curve's shape)",
    "two-size fit": (
        " (fine-tuning ran at two sizes: its curve's exponent is assumed, between "
        f"{curves.C_RANGE[0]:g} and {curves.C_RANGE[1]:g}, and its interval carries that)"
    ),
}


def _why_pick(verdict: Verdict, options: dict[str, Option], prefs: Preferences, metric: str) -> str:
    pick, best = verdict.pick, verdict.best
    assert pick is not None and best is not None
    tol = 100 * prefs.tolerance
    priority = prefs.priority.value if prefs.priority.value != "unspecified" else "balanced"
    if pick is best:
        text = f"Priority {priority}: {options[pick.arm].label} has the best expected {metric}"
    else:
        text = (
            f"Priority {priority}: {options[pick.arm].label} is the cheapest option within "
            f"{_points(tol)} of the best ({options[best.arm].label}, {_pts(best.expected)})"
        )
    if verdict.runner_up is not None:
        text += (
            f"; it is no worse than the runner-up (less {_points(tol)}) in "
            f"{100 * verdict.support:.0f}% of paired bootstrap replicates"
        )
    return text + "."


def _points(x: float) -> str:
    return f"{x:g} point" + ("" if x == 1 else "s")


def _trade_off(
    pick: Candidate, runner: Candidate, options: dict[str, Option], size: int, metric: str
) -> str:
    diff = runner.expected - pick.expected
    return (
        f"Runner-up: {options[runner.arm].label}, expected {_pts(runner.expected)} at {size:,} "
        f"examples: {diff * 100:+.1f} {metric} points, "
        f"{_speed(runner.examples_per_second, pick.examples_per_second)} "
        f"({runner.examples_per_second:,.0f} vs {pick.examples_per_second:,.0f} examples/s), "
        f"pilot training {runner.train_seconds:,.0f} s vs {pick.train_seconds:,.0f} s."
    )


def _scores(
    candidates: list[Candidate], options: dict[str, Option], majority: PilotResult, metric: str
) -> str:
    parts = [
        f"{options[c.arm].label} {_pts(c.expected)} ({c.basis})"
        for c in sorted(candidates, key=lambda c: -c.expected)
    ]
    return (
        f"Expected {metric} by option: "
        + "; ".join(parts)
        + f"; the majority-class baseline scored {_pts(majority.score)}."
    )


def _logme_correlation(pilots: list[PilotResult]) -> float:
    scored = [p for p in pilots if not math.isnan(p.logme)]
    if len(scored) < 3 or len({p.logme for p in scored}) < 2:
        return math.nan
    from scipy.stats import spearmanr

    rho = spearmanr([p.logme for p in scored], [p.score for p in scored]).statistic
    return float(rho) if np.isfinite(rho) else math.nan


def _gaps(
    profile: DatasetProfile,
    lines: list[int] | None,
    by_arm: dict[str, ArmRun],
    seed: int,
) -> list[BucketedGap]:
    enc = by_arm.get(ENCODER_FROZEN)
    if enc is None:
        return []
    others = [by_arm[a] for a in (STATIC, RANDOM) if a in by_arm]
    return evidence.bucketed_gaps(profile.examples, lines or [], enc, others, seed)


_METRIC_WORDS = {
    "complexity": ("structurally simpler", "more complex"),
    "ambiguity": ("less ambiguous", "more ambiguous"),
    "unseen_prevalence": ("more familiar-worded", "rarer-worded"),
}


def _bucket_reasons(gaps: list[BucketedGap]) -> list[str]:
    """One sentence for the static comparison: where the encoder's gap differs most by half."""
    static = [g for g in gaps if g.versus == STATIC]
    if not static:
        return []
    widest = max(static, key=lambda g: abs(g.high.gap - g.low.gap))
    low_words, high_words = _METRIC_WORDS[widest.profile_metric]
    return [
        f"The encoder's gap over the static vectors is {widest.high.gap * 100:+.1f} points on the "
        f"{high_words} half of the held-out examples and {widest.low.gap * 100:+.1f} on the "
        f"{low_words} half (split at the median {widest.profile_metric.replace('_', ' ')})."
    ]
