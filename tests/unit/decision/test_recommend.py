"""From synthetic pilot evidence to advice: each branch, with known per-example outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import FINETUNE_RECIPE as FT_RECIPE
from conftest import arm_run, text_profile
from embedding_advisor_server.core.decision.decide import Preferences
from embedding_advisor_server.core.decision.recommend import recommend
from embedding_advisor_server.core.evidence.metrics import accuracy, bootstrap_weights
from embedding_advisor_server.core.evidence.runs import ArmRun, CurveRun
from embedding_advisor_server.core.pilots.arms import (
    ENCODER_FINETUNED,
    ENCODER_FROZEN,
    MAJORITY,
    RANDOM,
    STATIC,
)
from embedding_advisor_server.core.schema import (
    Adaptation,
    Confidence,
    DatasetProfile,
    DomainShift,
    Embedding,
    PretrainingKind,
    Priority,
)

N = 400
TRUTH = np.array(["pos"] * 200 + ["neg"] * 200)


def predictions(correct: int, seed: int) -> np.ndarray:
    """Predictions right on exactly ``correct`` of the N examples (the same seed: nested sets,
    so the larger is right wherever the smaller is)."""
    rng = np.random.default_rng(seed)
    right = np.zeros(N, bool)
    right[rng.permutation(N)[:correct]] = True
    return np.where(right, TRUTH, np.where(TRUTH == "pos", "neg", "pos"))


def run(arm: str, embedding: Embedding, correct: int, seed: int, speed: float, **kw) -> ArmRun:
    return arm_run(
        arm,
        embedding,
        arm,
        accuracy(TRUTH, predictions(correct, seed)),
        kw.pop("num_train", 1000),
        N,
        1.0,
        kw.pop("train_seconds", 0.1),
        speed,
        **kw,
    )


def profile(num_train: int = 1000, domain: DomainShift | None = None) -> DatasetProfile:
    return text_profile(num_train, N, domain=domain)


MAJORITY_RUN = arm_run(
    MAJORITY, Embedding.UNSPECIFIED, "majority", accuracy(TRUTH, ["pos"] * N), 1000, N
)


def advise(encoder_correct: int, static_correct: int, prefs: Preferences | None = None, **kw):
    runs = [
        MAJORITY_RUN,
        run(STATIC, Embedding.STATIC, static_correct, kw.pop("static_seed", 1), 20000.0),
        run(ENCODER_FROZEN, Embedding.CONTEXTUAL, encoder_correct, 2, 100.0),
        *kw.pop("more", []),
    ]
    return recommend(
        kw.pop("profile", profile()),
        runs,
        "accuracy",
        bootstrap_weights(N, 1000, 0),
        "MiniLM",
        "GloVe",
        prefs=prefs,
        **kw,
    )


def test_clear_encoder_win_advises_the_encoder_with_its_evidence():
    rec = advise(encoder_correct=340, static_correct=280)
    assert rec.embedding is Embedding.CONTEXTUAL and rec.anything_learned
    assert rec.gap == pytest.approx(0.15) and rec.gap_interval.low > 0
    assert rec.choice.arm == ENCODER_FROZEN and rec.choice.basis == "measured"
    assert rec.choice.expected.score == pytest.approx(0.85) and rec.decision_size == 1000
    assert rec.runner_up.arm == STATIC and rec.confidence is Confidence.HIGH
    assert rec.headline.startswith("Use frozen MiniLM + BiLSTM: expected accuracy 85.0")
    d = rec.embedding_decision
    assert d.answer == "BERT-family encoder" and d.gain == pytest.approx(0.15)
    assert d.alternative.arm == STATIC and d.gain_interval.low > 0
    assert rec.adaptation_decision.answer == "freeze"
    assert "Runner-up: GloVe + BiLSTM, expected 70.0" in rec.trade_off
    assert "-15.0 accuracy points, 200x faster at inference" in rec.trade_off


def quiet() -> ArmRun:
    """Random vectors well below the rest, two seeds per size that agree: the training noise
    every measured option's replicates carry is then measured as none."""
    return curve(RANDOM, Embedding.RANDOM, lambda n: 0.6, 5, seeds=2, speed=20000.0)


def test_a_gap_within_the_tolerance_advises_the_cheaper_static_vectors():
    # 75.0 vs 74.75, wrong on the same examples but one, and no training noise measured (a
    # seeded arm's seeds agree): surely within 1 point.
    rec = advise(encoder_correct=300, static_correct=299, static_seed=2, more=[quiet()])
    assert rec.embedding is Embedding.STATIC and rec.choice.arm == STATIC
    assert 0 <= rec.gap_interval.low and rec.gap_interval.high < 0.01  # ahead, by under 1 point
    assert rec.runner_up.arm == ENCODER_FROZEN  # the best: what more accuracy would cost
    assert "cheapest option within 1 point of the best" in rec.reasons[0]
    assert rec.adaptation_decision.answer == "freeze"
    assert rec.pretraining.kind is PretrainingKind.NONE  # no encoder to pretrain
    # Priority accuracy: the best, whatever it costs.
    rec = advise(300, 299, Preferences(Priority.ACCURACY), static_seed=2, more=[quiet()])
    assert rec.choice.arm == ENCODER_FROZEN and rec.priority is Priority.ACCURACY
    assert rec.tolerance_points == 0.0


def test_a_gap_within_the_tolerance_on_too_few_replicates_keeps_the_best_and_says_why():
    """75.0 vs 74.25, right on unrelated examples: the paired difference spreads about 3
    points, so the cheap option is within 1 point in too few replicates to trade."""
    rec = advise(encoder_correct=300, static_correct=297)
    assert rec.choice.arm == ENCODER_FROZEN and rec.embedding is Embedding.CONTEXTUAL
    (note,) = [r for r in rec.reasons if r.startswith(STATIC)]
    assert "70% needed to trade accuracy for cost" in note


def test_static_win_advises_static():
    rec = advise(encoder_correct=260, static_correct=320)
    assert rec.embedding is Embedding.STATIC and rec.gap_interval.high < 0
    assert rec.embedding_decision.answer == "static vectors"
    assert rec.embedding_decision.gain == pytest.approx(0.15)


def test_nothing_learned_advises_nothing():
    rec = advise(encoder_correct=204, static_correct=202)
    assert rec.embedding is Embedding.UNSPECIFIED and not rec.anything_learned
    assert "majority-class baseline" in rec.headline and rec.choice is None
    assert {p.arm for p in rec.pilots} == {MAJORITY, STATIC, ENCODER_FROZEN}


def test_a_throughput_bound_sets_the_encoder_aside_and_says_so():
    rec = advise(340, 280, Preferences(min_examples_per_second=1000))
    assert rec.choice.arm == STATIC and rec.min_examples_per_second == 1000
    assert rec.excluded == ["frozen MiniLM + BiLSTM: 100 examples/s is below the bound of 1,000"]


def test_fine_tuning_is_weighed_against_freezing():
    tuned = run(ENCODER_FINETUNED, Embedding.CONTEXTUAL, 360, 3, 90.0, train_seconds=60.0)
    rec = advise(340, 280, more=[tuned])
    assert rec.choice.arm == ENCODER_FINETUNED and rec.choice.adaptation is Adaptation.FINE_TUNE
    d = rec.adaptation_decision
    assert d.answer == "fine-tune" and d.alternative.arm == ENCODER_FROZEN
    assert d.gain == pytest.approx(0.05) and "trained for 60 s vs 0 s" in d.reason


def curve(arm: str, embedding: Embedding, law, seed: int, seeds: int = 1, **kw) -> ArmRun:
    """An arm with pilots at 250/500/1000 examples scoring ``law(n)``; ``seeds`` runs per size
    (their scores equal: no training noise)."""
    runs = [
        CurveRun(n, s, accuracy(TRUTH, predictions(round(N * law(n)), seed + n + s)), 1.0)
        for n in (250, 500, 1000)
        for s in range(seeds)
    ]
    top = runs[-1].evaluation
    return arm_run(arm, embedding, arm, top, 1000, N, 1.0, 1.0, kw.pop("speed", 100.0), curve=runs)


def test_fine_tuning_borrows_the_frozen_curve_shape_beyond_its_pilot_size():
    frozen = curve(ENCODER_FROZEN, Embedding.CONTEXTUAL, lambda n: 0.9 - 4.0 / n**0.5, 1)
    static = curve(STATIC, Embedding.STATIC, lambda n: 0.8 - 4.0 / n**0.5, 2, speed=9000.0)
    tuned = run(ENCODER_FINETUNED, Embedding.CONTEXTUAL, 350, 3, 90.0)
    tuned.curve = [CurveRun(1000, 0, tuned.evaluation, 1.0)]  # one size: no curve of its own
    rec = _recommend([static, frozen, tuned], 16000)
    options = {p.arm: p for p in rec.pilots}
    frozen_gain = options[ENCODER_FROZEN].at_full_size.score - 0.775  # its fit near .9-4/sqrt(n)
    assert rec.decision_size == 16000 and rec.choice.arm == ENCODER_FINETUNED
    assert rec.choice.basis == "borrowed"
    assert rec.choice.expected.score == pytest.approx(0.875 + frozen_gain, abs=0.02)
    assert rec.runner_up.basis == "fitted"
    assert "borrows the frozen curve's shape" in rec.adaptation_decision.reason
    assert rec.confidence is Confidence.MEDIUM  # 16x the pilot size: extrapolation


def test_fine_tuning_at_two_sizes_extrapolates_its_own_curve_with_an_assumed_exponent():
    frozen = curve(ENCODER_FROZEN, Embedding.CONTEXTUAL, lambda n: 0.9 - 4.0 / n**0.5, 1)
    half = run(ENCODER_FINETUNED, Embedding.CONTEXTUAL, 320, 4, 90.0, num_train=500)
    tuned = run(ENCODER_FINETUNED, Embedding.CONTEXTUAL, 340, 3, 90.0)
    tuned.curve = [CurveRun(500, 0, half.evaluation, 1.0), CurveRun(1000, 0, tuned.evaluation, 1.0)]
    rec = _recommend([frozen, tuned], 4000)
    e = rec.choice.expected
    # through (500, .80) and (1000, .85) with c = 1/2: .85 + .05 (1000^-.5 - 4000^-.5) / (500^-.5 - 1000^-.5)
    along = 0.85 + 0.05 * (1000**-0.5 - 4000**-0.5) / (500**-0.5 - 1000**-0.5)
    assert rec.choice.arm == ENCODER_FINETUNED and rec.choice.basis == "two-size fit"
    assert e.fitted and e.score == pytest.approx(along)
    assert e.interval.low < 0.85 + 0.05 * 0.75 < along < 0.85 + 0.05 * 1.47 < e.interval.high
    assert "exponent is assumed" in rec.adaptation_decision.reason


def test_confidence_and_gains_are_judged_at_the_decision_size_not_the_pilot_size():
    # Fine-tuning trails freezing at the 1,000-example pilot but climbs much faster: at 4,000
    # examples its curve is ~7 points ahead. The pick, its confidence and the gain's interval
    # must all speak of 4,000, where the advice is for. (Two seeds a size that agree: the
    # held-out examples are the only noise.)
    frozen = curve(ENCODER_FROZEN, Embedding.CONTEXTUAL, lambda n: 0.80 - 1.0 / n**0.5, 1, 2)
    tuned = curve(ENCODER_FINETUNED, Embedding.CONTEXTUAL, lambda n: 0.95 - 6.0 / n**0.5, 2, 2)
    runs = [MAJORITY_RUN, frozen, tuned]
    assert tuned.evaluation.score() < frozen.evaluation.score()  # at the pilot size
    rec = recommend(
        profile(num_train=4000),
        runs,
        "accuracy",
        bootstrap_weights(N, 1000, 0),
        "MiniLM",
        "GloVe",
        prefs=Preferences(Priority.ACCURACY),
    )
    assert rec.choice.arm == ENCODER_FINETUNED and rec.choice.basis == "fitted"
    d = rec.adaptation_decision
    assert d.answer == "fine-tune" and d.gain > 0.04
    # At the pilot the gap is about -1 point and even odds; at 4,000 the interval is about +6.6.
    low, high = d.gain_interval.low, d.gain_interval.high
    assert low < d.gain < high and (low + high) / 2 > 0.03 and high > 0.08
    assert rec.confidence in (Confidence.HIGH, Confidence.MEDIUM)
    assert d.confidence in (Confidence.HIGH, Confidence.MEDIUM)


def test_pretraining_advice_follows_the_domain_signals_and_says_it_is_unmeasured():
    def domain(similarity: float, loss: float) -> DomainShift:
        return DomainShift(
            reference="English Wikipedia sample",
            unigram_overlap=similarity * 0.5,
            unigram_overlap_ceiling=0.5,
            unigram_similarity=similarity,
            overlap_top_k=10000,
            overlap_tokens=50000,
            mlm_loss=loss,
            reference_mlm_loss=7.5,
        )

    near = advise(340, 280, profile=profile(domain=domain(0.7, 7.8))).pretraining
    assert near.kind is PretrainingKind.TAPT and not near.measured
    assert "0.70 (at or above 0.55" in near.signals[0] and "+0.30 nats" in near.signals[1]
    far = advise(340, 280, profile=profile(domain=domain(0.5, 9.3))).pretraining
    assert far.kind is PretrainingKind.DAPT_TAPT and "Not measured" in far.reason
    lossy = advise(340, 280, profile=profile(domain=domain(0.7, 8.8))).pretraining
    assert lossy.kind is PretrainingKind.DAPT_TAPT  # the loss gap alone is enough


def _recommend(runs, num_train: int, **kw):
    return recommend(
        profile(num_train=num_train),
        [MAJORITY_RUN, *runs],
        "accuracy",
        bootstrap_weights(N, 1000, 0),
        "MiniLM",
        "GloVe",
        prefs=Preferences(Priority.ACCURACY),
        **kw,
    )


def test_options_measured_at_the_decision_size_are_all_taken_as_measured():
    """At the pool size a curve's smoothed value is not set against another option's raw run:
    both are their pilot scores there, each with training noise in its replicates."""
    frozen = curve(ENCODER_FROZEN, Embedding.CONTEXTUAL, lambda n: 0.9 - 4.0 / n**0.5, 1, seeds=2)
    tuned = run(ENCODER_FINETUNED, Embedding.CONTEXTUAL, 352, 3, 90.0)
    rec = _recommend([frozen, tuned], 1000)
    options = {o.arm: o for o in rec.options}
    assert {o.basis for o in options.values()} == {"measured"}
    assert options[ENCODER_FROZEN].expected.score == pytest.approx(frozen.evaluation.score())
    # One more run's noise (and the training noise behind the expectation) widen the interval
    # beyond the held-out bootstrap's alone.
    pilot = {p.arm: p for p in rec.pilots}[ENCODER_FINETUNED]
    e = options[ENCODER_FINETUNED].expected
    assert e.interval.high - e.interval.low > pilot.interval.high - pilot.interval.low


def test_every_option_carries_the_expected_scores_interval_inside_one_runs():
    """The mean over training runs is known better than where one more run lands: each option's
    ``mean_interval`` reaches its point, lies inside its one-run ``interval`` and is narrower
    where training noise was measured; the headline quotes it, with the one-run range beside."""
    frozen = curve(ENCODER_FROZEN, Embedding.CONTEXTUAL, lambda n: 0.9 - 4.0 / n**0.5, 1, seeds=2)
    static = curve(STATIC, Embedding.STATIC, lambda n: 0.85 - 3.0 / n**0.5, 2, seeds=2)
    for noisy in (frozen, static):  # seeds 2 points apart below the pool: training noise
        for r in noisy.curve:
            if r.seed == 1:
                score = r.evaluation.score() + 0.02
                r.evaluation = accuracy(TRUTH, predictions(round(N * score), r.size))
    tuned = run(ENCODER_FINETUNED, Embedding.CONTEXTUAL, 352, 3, 90.0)
    for size in (1000, 16000):  # measured at the pool; fitted and borrowed beyond it
        rec = _recommend([frozen, static, tuned], size)
        for o in rec.options:
            e, mean = o.expected, o.expected.mean_interval
            assert mean is not None, o.arm
            assert mean.low <= e.score <= mean.high, (o.arm, size)
            assert e.interval.low <= mean.low + 1e-9 and mean.high <= e.interval.high + 1e-9
            assert mean.high - mean.low < e.interval.high - e.interval.low, (o.arm, size)
        chosen = rec.choice.expected
        assert f"[{100 * chosen.mean_interval.low:.1f}, " in rec.headline
        assert f"(one run: {100 * chosen.interval.low:.1f} to " in rec.headline


def test_an_option_without_a_curve_is_not_extrapolated_and_its_interval_can_rise():
    """Static vectors pruned to one size at 1,000 for a 16,000 decision: their pilot score, not
    called measured, with the interval's top raised by the frozen curve's gain to 16,000."""
    frozen = curve(ENCODER_FROZEN, Embedding.CONTEXTUAL, lambda n: 0.9 - 4.0 / n**0.5, 1)
    static = run(STATIC, Embedding.STATIC, 300, 4, 9000.0)  # .75 at 1,000, no curve
    rec = _recommend([frozen, static], 16000)
    options = {o.arm: o for o in rec.options}
    lone = options[STATIC]
    assert lone.basis == "not extrapolated" and lone.expected.score == pytest.approx(0.75)
    assert lone.expected.interval.high >= 0.75 + predictions_at(frozen, 1000, 16000)
    assert any("Without a learning curve (GloVe + BiLSTM)" in r for r in rec.reasons)


def predictions_at(arm_run, start: int, size: int) -> float:
    """The arm's fitted gain from ``start`` to ``size`` (its curve's point predictions)."""
    from embedding_advisor_server.core.evidence.curves import fit_curve

    fit = fit_curve([r.size for r in arm_run.curve], [r.evaluation.score() for r in arm_run.curve])
    return fit.predict(size) - fit.predict(start)


def test_a_borrowed_gain_starts_at_the_borrowers_own_pilot_size():
    """Fine-tuning ran at 500 only while the frozen curve reaches 1,000: its gain to 16,000 is
    the frozen curve's from 500, not from 1,000."""
    frozen = curve(ENCODER_FROZEN, Embedding.CONTEXTUAL, lambda n: 0.9 - 4.0 / n**0.5, 1)
    tuned = run(ENCODER_FINETUNED, Embedding.CONTEXTUAL, 250, 3, 90.0, num_train=500)
    tuned.curve = [CurveRun(500, 0, tuned.evaluation, 1.0)]
    rec = _recommend([frozen, tuned], 16000)
    borrowed = {o.arm: o for o in rec.options}[ENCODER_FINETUNED]
    assert borrowed.basis == "borrowed"
    expected = 0.625 + predictions_at(frozen, 500, 16000)
    assert borrowed.expected.score == pytest.approx(expected, abs=0.005)
    assert predictions_at(frozen, 500, 16000) > predictions_at(frozen, 1000, 16000) + 0.02


def test_a_curve_with_no_rise_is_expected_at_its_latest_score_and_said_so():
    """Static vectors falling from .85 at 250 to .80 at 1,000 examples: expected at .80 for
    16,000 (not the fit's flat mean of every size, .82), basis "not rising", named in the
    reasons."""
    static = curve(STATIC, Embedding.STATIC, lambda n: {250: 0.85, 500: 0.82, 1000: 0.80}[n], 2)
    frozen = curve(ENCODER_FROZEN, Embedding.CONTEXTUAL, lambda n: 0.9 - 4.0 / n**0.5, 1)
    rec = _recommend([static, frozen], 16000)
    flat = {o.arm: o for o in rec.options}[STATIC]
    assert flat.basis == "not rising" and flat.expected.score == pytest.approx(0.80)
    assert flat.expected.interval.low < 0.80 < flat.expected.interval.high
    # Its top is raised by the frozen curve's gain from 1,000 to 16,000 examples (4/sqrt(1000)
    # - 4/sqrt(16000) = 9.5 points): it may rise as much, and nothing measured says it will not.
    assert flat.expected.interval.high >= 0.80 + 0.094
    assert any("no rise to fit (GloVe + BiLSTM)" in r for r in rec.reasons)


def test_a_pilot_still_rising_at_its_epoch_cap_is_raised_by_its_extrapolated_gain():
    from embedding_advisor_server.core.evidence.convergence import (
        CONVERGED,
        EXTRAPOLATED,
        Convergence,
    )

    def tuned(verdict):
        return run(ENCODER_FINETUNED, Embedding.CONTEXTUAL, 330, 3, 90.0, convergence=verdict)

    done = advise(320, 280, more=[tuned(Convergence(CONVERGED, 5, 7))])
    rising = advise(320, 280, more=[tuned(Convergence(EXTRAPOLATED, 8, 8, 0.04))])
    before = next(o for o in done.options if o.arm == ENCODER_FINETUNED)
    after = next(o for o in rising.options if o.arm == ENCODER_FINETUNED)
    assert (before.convergence, after.convergence) == (CONVERGED, EXTRAPOLATED)
    assert after.expected.score == pytest.approx(before.expected.score + 0.04)
    assert after.expected.interval.high == pytest.approx(
        min(before.expected.interval.high + 0.08, 1.0)
    )
    assert after.expected.interval.low == pytest.approx(before.expected.interval.low)
    assert after.expected.mean_interval.high == pytest.approx(
        min(before.expected.mean_interval.high + 0.08, 1.0)
    )
    assert after.epoch_gain == pytest.approx(0.04) and before.epoch_gain == 0.0
    said, said_before = " ".join(rising.reasons), " ".join(done.reasons)
    assert "Judged by epoch extrapolation" in said and "fine-tuned MiniLM +4.0 points" in said
    assert "Judged at convergence (trained until" in said_before
    assert "fine-tuned MiniLM" in said_before.split("Judged at convergence")[1]


def test_the_pick_and_runner_up_carry_the_recipe_to_run_at_the_decision_size():
    import json

    tuned = run(
        ENCODER_FINETUNED,
        Embedding.CONTEXTUAL,
        360,
        3,
        90.0,
        train_seconds=60.0,
        recipe=FT_RECIPE | {"learning_rate": 2e-4, "learning_rates_tried": [1e-4, 2e-4]},
    )
    rec = advise(340, 280, more=[tuned], target_size=4000)
    assert rec.choice.arm == ENCODER_FINETUNED
    config = json.loads(rec.choice.recipe_config)
    assert config["training_examples"] == 4000 and config["learning_rate"] == 2e-4
    assert config["expected_train_seconds_here"] == pytest.approx(60.0 * 4000 / 1000)
    assert "lr 0.0002 (chosen from 0.0001/0.0002)" in rec.choice.recipe
    # 4,000 examples less the dev slice, in batches of 16: 213 steps an epoch, 2 for 400 steps.
    assert config["epochs"] == 2 and config["batch_size"] == 16
    assert "2 epochs with the rate decaying to 0 at the last, stopping after 2 epochs" in (
        rec.choice.recipe
    )
    assert "~4 min to train on 4,000 examples here" in rec.choice.recipe
    # An option whose head has no recipe (this synthetic runner-up) hands none over.
    assert rec.runner_up.arm == ENCODER_FROZEN and rec.runner_up.recipe_config == ""
