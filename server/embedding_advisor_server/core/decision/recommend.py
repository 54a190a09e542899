"""From pilot evidence to advice: expected scores at the decision size
(``evidence/candidates.py``), the decision rule (``decide.py``), the three questions answered with
their evidence (``questions.py``, ``pretraining.py``), and the reasons in words
(``narrative.py``), as one ``Recommendation``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from embedding_advisor.numbers import metric_words

from ..evidence import evidence
from ..evidence.adaptation import Gain, PretrainingRun, paired_gain
from ..evidence.candidates import Candidate, Predictions, candidates
from ..evidence.curves import Noise
from ..evidence.metrics import interval
from ..evidence.runs import ArmRun
from ..pilots.arms import (
    ENCODER_FROZEN,
    MAJORITY,
    PAIRED_ARM,
    RANDOM,
    STATIC,
)
from ..schema import (
    Adaptation,
    BucketedGap,
    DatasetProfile,
    Embedding,
    Interval,
    Option,
    PilotResult,
    Recommendation,
)
from . import narrative
from .decide import Preferences, Verdict, decide
from .pretraining import advise_pretraining
from .questions import adaptation_decision, best_by_family, embedding_decision
from .train_recipe import handed_over

NOTHING_LEARNED_HINT = "Check the labels, add data, or give the pilots more examples (--max-train)."

# The arm a continued-pretraining pilot paired with (``arms.PAIRED_ARM``), in words.
PAIRED_WORDS = {"finetune": "fine-tuning", "frozen": "frozen logistic regression"}


@dataclass
class _Evidence:
    """The pilots as the advice cites them: each arm's result and its curve's predictions."""

    size: int  # the decision size
    pool: int  # the largest pilot pool
    pilots: dict[str, PilotResult]
    predicted: dict[str, Predictions]
    noise: Noise | None  # the training noise assumed for an arm without seeds of its own


def _evidence(
    profile: DatasetProfile,
    runs: list[ArmRun],
    weights: np.ndarray,
    target_size: int,
    seed: int,
) -> _Evidence:
    size = target_size or profile.num_train
    noise = evidence.training_noise(runs)
    curve_weights = weights[: evidence.CURVE_ROUNDS]
    sizes = sorted({profile.num_train, size, *(r.num_train for r in runs)})  # borrowing starts
    predicted = {r.arm: evidence.extrapolations(r, curve_weights, sizes, noise, seed) for r in runs}
    pilots = {
        r.arm: evidence.pilot_result(
            r, weights, predicted[r.arm], profile.num_train if r.curve else 0, target_size
        )
        for r in runs
    }
    pool = max((r.num_train for r in runs if r.curve), default=0)
    return _Evidence(size, pool, pilots, predicted, noise)


def _option(c: Candidate, run: ArmRun, expected, size: int) -> Option:
    """The wire form of a candidate; training time projected to the decision size ``size``."""
    measured = c.speed_high > c.speed_low
    words, config = handed_over(run, c, size)
    return Option(
        arm=c.arm,
        embedding=c.embedding,
        adaptation=Adaptation.FINE_TUNE if c.finetuned else Adaptation.FREEZE,
        label=run.label,
        expected=expected,
        basis=c.basis,
        examples_per_second=c.examples_per_second,
        train_seconds=c.train_seconds,
        examples_per_second_interval=Interval(low=c.speed_low, high=c.speed_high)
        if measured
        else None,
        train_seconds_at_decision=c.train_seconds_at_decision,
        latency_ms=c.latency_ms,
        latency_p95_ms=c.latency_p95_ms,
        convergence=c.convergence,
        epoch_gain=c.epoch_gain,
        recipe=words,
        recipe_config=config,
    )


def _legacy_gap(
    best_of: dict[Embedding, Candidate], pilots: dict[str, PilotResult]
) -> tuple[float, Interval]:
    """The best contextual pilot minus the best static pilot, with its paired interval."""
    ctx, stat = best_of.get(Embedding.CONTEXTUAL), best_of.get(Embedding.STATIC)
    if not (ctx and stat):
        return 0.0, Interval(low=0.0, high=0.0)
    low, high = interval(ctx.samples - stat.samples)
    return pilots[ctx.arm].score - pilots[stat.arm].score, Interval(low=low, high=high)


def _logme_correlation(pilots: list[PilotResult]) -> float:
    scored = [p for p in pilots if not math.isnan(p.logme)]
    if len(scored) < 3 or len({p.logme for p in scored}) < 2:
        return math.nan
    from scipy.stats import spearmanr

    rho = spearmanr([p.logme for p in scored], [p.score for p in scored]).statistic
    return float(rho) if np.isfinite(rho) else math.nan


def _gaps(
    profile: DatasetProfile, lines: list[int] | None, by_arm: dict[str, ArmRun], seed: int
) -> list[BucketedGap]:
    """The frozen encoder's gaps over the static and random arms on each metric's halves."""
    enc = by_arm.get(ENCODER_FROZEN)
    if enc is None:
        return []
    others = [by_arm[a] for a in (STATIC, RANDOM) if a in by_arm]
    return evidence.bucketed_gaps(profile.examples, lines or [], enc, others, seed)


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
    pretraining: list[PretrainingRun] | None = None,
) -> Recommendation:
    prefs = prefs or Preferences()
    by_arm = {r.arm: r for r in runs}
    ev = _evidence(profile, runs, weights, target_size, seed)
    weighed = candidates(
        [r for r in runs if r.arm != MAJORITY],
        ev.pilots,
        ev.predicted,
        ev.size,
        weights,
        weights[: evidence.CURVE_ROUNDS],
        ev.noise,
    )
    cands = [c for c, _ in weighed]
    options = {c.arm: _option(c, by_arm[c.arm], e, ev.size) for c, e in weighed}
    verdict = decide(cands, by_arm[MAJORITY].evaluation.resampled(weights), prefs, ev.size, ev.pool)
    best_of = best_by_family(cands)
    gap, gap_iv = _legacy_gap(best_of, ev.pilots)
    gaps = _gaps(profile, held_out_lines, by_arm, seed)
    common = dict(
        bucketed_gaps=gaps,
        pilot_notes=list(notes or []),
        metric=metric,
        pilots=list(ev.pilots.values()),
        profile=profile,
        gap=gap,
        gap_interval=gap_iv,
        encoder=encoder_name,
        vectors=vectors_name,
        **_weighed_with(prefs),
        decision_size=ev.size,
        logme_rank_correlation=_logme_correlation(list(ev.pilots.values())),
        options=sorted(options.values(), key=lambda o: -o.expected.score),
    )
    p_major = ev.pilots[MAJORITY]
    said = metric_words(metric)  # the narrative names the metric in words
    scores = narrative.scores(cands, options, p_major, said)
    notes_end = [
        narrative.oov_note(profile.vectors_oov_rate, vectors_name),
        narrative.sample_note(ev.pool, profile.num_train, p_major.num_eval, said),
    ]
    if not verdict.learned or verdict.pick is None:
        return Recommendation(
            embedding=Embedding.UNSPECIFIED,
            headline=narrative.nothing_learned(p_major, said),
            reasons=[scores, NOTHING_LEARNED_HINT, *notes_end],
            anything_learned=False,
            **common,
        )
    return _advised(
        verdict,
        cands,
        options,
        ev.pool,
        prefs,
        ev.size,
        said,
        profile,
        common,
        [scores],
        notes_end,
        _pretraining_gains(pretraining or [], runs, weights, seed),
    )


def _weighed_with(prefs: Preferences) -> dict:
    """The preferences the advice was decided with, as ``Recommendation`` fields."""
    return dict(
        priority=prefs.priority,
        tolerance_points=100 * prefs.tolerance,
        min_examples_per_second=prefs.min_examples_per_second,
        max_latency_ms=prefs.max_latency_ms,
        inference_volume=prefs.volume,
    )


def _pretraining_gains(
    pretraining: list[PretrainingRun], runs: list[ArmRun], weights: np.ndarray, seed: int
) -> list[tuple[PretrainingRun, Gain]]:
    """Each continued-pretraining pilot and its paired gain; the training noise from the paired
    arm's own seeds, else the largest any arm measured (``evidence.training_noise``)."""
    gains = []
    for run in pretraining:
        arm, words = PAIRED_ARM[run.paired_on], PAIRED_WORDS[run.paired_on]
        noise = evidence.training_noise([r for r in runs if r.arm == arm])
        source = f"{words}'s own seeds"
        if noise is None:
            noise = evidence.training_noise(runs)
            source = f"the largest seed-to-seed spread of any arm ({words} ran one seed per size)"
        gains.append((run, paired_gain(run, weights, noise, source, seed)))
    return gains


def _advised(
    verdict: Verdict,
    cands: list[Candidate],
    options: dict[str, Option],
    pool: int,
    prefs: Preferences,
    size: int,
    metric: str,
    profile: DatasetProfile,
    common: dict,
    scores: list[str],
    notes_end: list[str],
    measured: list[tuple[PretrainingRun, Gain]] | None = None,
) -> Recommendation:
    """The recommendation when the rule picked an option: the three questions and the reasons."""
    pick, runner = verdict.pick, verdict.runner_up
    assert pick is not None
    trade_off = narrative.trade_off(pick, runner, options, size, metric) if runner else ""
    emb = embedding_decision(pick, cands, verdict.excluded, options, prefs, (size, pool))
    adapt = adaptation_decision(pick, cands, options, prefs, verdict.excluded, (size, pool))
    reasons = [narrative.why_pick(verdict, options, prefs, metric), *scores]
    if trade_off:
        reasons.append(trade_off)
    reasons += [d.reason for d in (emb, adapt) if d.reason]
    reasons += verdict.notes
    reasons += narrative.bucket_reasons(common["bucketed_gaps"], STATIC)
    reasons += notes_end
    return Recommendation(
        embedding=pick.embedding,
        headline=narrative.headline(options[pick.arm], pick, verdict, size, metric),
        reasons=reasons,
        anything_learned=True,
        choice=options[pick.arm],
        runner_up=options[runner.arm] if runner else None,
        confidence=verdict.confidence,
        trade_off=trade_off,
        embedding_decision=emb,
        adaptation_decision=adapt,
        pretraining=advise_pretraining(
            profile.domain,
            pick.embedding is Embedding.CONTEXTUAL,
            measured,
            profile.num_train,
            frozen=not pick.finetuned,
        ),
        excluded=[f"{options[arm].label}: {why}" for arm, why in verdict.excluded.items()],
        **common,
    )
