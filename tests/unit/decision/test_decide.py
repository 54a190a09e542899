"""The decision rule on synthetic evidence: every step of core/decide.py's documented rule."""

from __future__ import annotations

import zlib
from dataclasses import replace
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedding_advisor_server.core.decision.decide import Preferences, cost, decide
from embedding_advisor_server.core.evidence.candidates import Candidate
from embedding_advisor_server.core.schema import Confidence, Embedding, Priority

ROUNDS = 1000
NOISE = np.random.default_rng(0).standard_normal(ROUNDS)


def option(
    arm: str,
    expected: float,
    per_second: float,
    embedding: Embedding = Embedding.CONTEXTUAL,
    finetuned: bool = False,
    spread: float = 0.01,
    train_seconds: float = 1.0,
) -> Candidate:
    # Paired replicates: every option moves with the same held-out resampling plus its own spread.
    own = np.random.default_rng(zlib.crc32(arm.encode())).standard_normal(ROUNDS)
    samples = expected + 0.02 * NOISE + spread * own
    return Candidate(
        arm=arm,
        embedding=embedding,
        finetuned=finetuned,
        expected=expected,
        low=expected - 0.03,
        high=expected + 0.03,
        basis="fitted",
        examples_per_second=per_second,
        train_seconds=train_seconds,
        samples=samples,
    )


def options(spread: float) -> list[Candidate]:
    """The six options, each with its own replicates' ``spread`` around the shared noise."""
    return [
        option("encoder_finetuned", 0.80, 180, finetuned=True, train_seconds=60, spread=spread),
        option("encoder_frozen_bilstm", 0.78, 190, train_seconds=10, spread=spread),
        option("encoder_frozen_logreg", 0.775, 200, train_seconds=1, spread=spread),
        option("static_bilstm", 0.765, 6000, Embedding.STATIC, spread=spread),
        option("static_logreg", 0.74, 40000, Embedding.STATIC, spread=spread),
        option("random_bilstm", 0.60, 6000, Embedding.RANDOM, spread=spread),
    ]


MAJORITY = 0.5 + 0.02 * NOISE
ALL = options(0.01)  # paired differences spread 1.4 points: a trade within 1 is not sure
TUNED, FROZEN, FROZEN_LR, GLOVE, GLOVE_LR, RANDOM = ALL
# Sure: differences spread 0.07 points, so an option inside the tolerance is surely inside.
SURE = 0.0005
SURE_ALL = options(SURE)
SURE_TUNED, _, _, SURE_GLOVE, SURE_GLOVE_LR, _ = SURE_ALL


def test_accuracy_priority_picks_the_best_and_a_runner_up_that_is_a_different_choice():
    v = decide(ALL, MAJORITY, Preferences(Priority.ACCURACY))
    assert v.learned and v.pick is TUNED and v.best is TUNED
    assert v.runner_up is FROZEN  # the next score that is another choice (freeze)


def test_balanced_weighs_cost_only_within_one_point_and_then_among_the_equally_cheap():
    v = decide(ALL, MAJORITY, Preferences(Priority.BALANCED))
    # Within 1 point of .80: fine-tuned, frozen BiLSTM (.78 is 2 points off: out), so only the
    # fine-tuned encoder... unless the tolerance grows.
    assert v.pick is TUNED
    v = decide(ALL, MAJORITY, Preferences(Priority.BALANCED, tolerance_points=2.5))
    # Within 2.5 points: tuned .80, frozen .78, frozen LR .775; GloVe .765 is 3.5 off.
    # Frozen LR is the cheapest of them (200/s), and all three are within 25% of its cost:
    # the best-scoring of the equally cheap ones wins.
    assert v.pick is TUNED and v.runner_up is FROZEN
    # GloVe at .792 is surely within one point and 30x cheaper than all three: it wins.
    near = option("static_bilstm", 0.792, 6000, Embedding.STATIC, spread=SURE)
    v = decide([SURE_TUNED, FROZEN, near], MAJORITY, Preferences(Priority.BALANCED))
    assert v.pick is near and v.runner_up is SURE_TUNED
    assert v.confidence is Confidence.HIGH


def test_accuracy_is_traded_for_cost_only_with_at_least_medium_confidence():
    """BBC News at 500: the cheap option 0.2 points behind the best on expected scores but, on
    replicates spread wider than the tolerance, inside it in too few of them: the best is
    picked, and a note names the cheaper option passed over and its share."""
    near = option("static_bilstm", 0.792, 6000, Embedding.STATIC)  # spread 1.4 points
    v = decide([TUNED, FROZEN, near], MAJORITY, Preferences(Priority.BALANCED))
    assert v.pick is TUNED and v.best is TUNED
    (note,) = [n for n in v.notes if n.startswith("static_bilstm")]
    assert "within 1 point of the best (encoder_finetuned)" in note
    assert "only 56% of the paired replicates" in note and "70% needed" in note
    # Its share clears the bar once the pilots are surer: then the trade is made, at medium.
    surer = option("static_bilstm", 0.797, 6000, Embedding.STATIC, spread=0.006)
    v = decide([TUNED, surer], MAJORITY, Preferences(Priority.BALANCED))
    assert v.pick is surer and 0.7 <= v.support < 0.9 and v.confidence is Confidence.MEDIUM
    assert not any(n.startswith("static_bilstm") for n in v.notes)
    # Of two cheaper options, the surer one is taken when the cheapest is not sure enough.
    frozen_lr = option("encoder_frozen_logreg", 0.798, 2000, train_seconds=1, spread=SURE)
    v = decide([SURE_TUNED, near, frozen_lr], MAJORITY, Preferences(Priority.BALANCED))
    assert v.pick is frozen_lr and any(n.startswith("static_bilstm") for n in v.notes)


def test_cost_priority_trades_points_for_an_order_of_magnitude():
    v = decide(SURE_ALL, MAJORITY, Preferences(Priority.COST, tolerance_points=4))
    assert v.pick is SURE_GLOVE  # .765 is within 4 points and 30x cheaper
    assert v.runner_up is SURE_TUNED  # the best: what the extra accuracy would cost
    v = decide(SURE_ALL, MAJORITY, Preferences(Priority.COST, tolerance_points=6.5))
    assert v.pick is SURE_GLOVE_LR  # now .74 is within reach and cheaper still


def test_equally_cheap_options_go_to_the_better_score_then_less_training():
    a = option("encoder_frozen_logreg", 0.77, 200, train_seconds=1)
    b = option("encoder_frozen_bilstm", 0.77, 190, train_seconds=10)
    v = decide([a, b], MAJORITY, Preferences(Priority.COST))
    assert v.pick is a  # same score, similar cost: less training
    c = option("encoder_frozen_bilstm", 0.775, 190, train_seconds=10)
    assert decide([a, c], MAJORITY, Preferences(Priority.COST)).pick is c


def test_a_throughput_bound_rules_out_slow_options_and_says_when_none_is_left():
    v = decide(ALL, MAJORITY, Preferences(Priority.ACCURACY, min_examples_per_second=1000))
    assert v.pick is GLOVE
    assert set(v.excluded) >= {"encoder_finetuned", "encoder_frozen_bilstm"}
    assert "below the bound of 1,000" in v.excluded["encoder_finetuned"]
    v = decide(ALL, MAJORITY, Preferences(min_examples_per_second=10**6))
    assert v.pick is GLOVE_LR and "No option meets the inference bounds" in v.notes[0]


def test_a_latency_bound_is_checked_against_one_requests_95th_percentile():
    """Not against 1000 / batched throughput: the fine-tuned encoder's batched rate (180/s, 5.6 ms
    an example) meets a 10 ms bound, its one request (25 ms at the 95th percentile) does not."""
    slow = replace(TUNED, latency_ms=12.0, latency_p95_ms=25.0)
    quick = replace(GLOVE, latency_ms=0.8, latency_p95_ms=1.5)
    v = decide([slow, quick], MAJORITY, Preferences(Priority.ACCURACY, max_latency_ms=10))
    assert v.pick is quick
    assert v.excluded["encoder_finetuned"] == (
        "one request takes 25.0 ms (95th percentile), over the bound of 10 ms"
    )
    # The median alone is within 30 ms, and so is the 95th percentile: nothing is excluded.
    assert (
        decide([slow, quick], MAJORITY, Preferences(Priority.ACCURACY, max_latency_ms=30)).pick
        is slow
    )
    # Both bounds at once: each miss is named.
    both = Preferences(Priority.ACCURACY, min_examples_per_second=1000, max_latency_ms=10)
    assert decide([slow, quick], MAJORITY, both).excluded["encoder_finetuned"] == (
        "180 examples/s is below the bound of 1,000; "
        "one request takes 25.0 ms (95th percentile), over the bound of 10 ms"
    )
    # None meets it: the one with the lowest latency, forced, with a note.
    forced = decide([slow, quick], MAJORITY, Preferences(max_latency_ms=1))
    assert forced.pick is quick and forced.confidence is not Confidence.HIGH
    assert "(static_bilstm, 1.5 ms a request) is advised" in forced.notes[0]


def test_the_cost_weighs_training_at_the_decision_size_against_the_deployments_inference():
    """Fine-tuning and frozen+LR run one encoder (200/s both). For a million predictions (5,000 s
    of inference each) fine-tuning's 3,000 s of training make it 60% dearer: frozen+LR, half a
    point behind, is picked under a priority that tolerates that. For a billion predictions the
    training is lost in the inference and the better score wins; the accuracy priority takes the
    best whatever it costs."""
    tuned = replace(SURE_TUNED, examples_per_second=200, train_seconds_at_decision=3000)
    frozen = option("encoder_frozen_logreg", 0.795, 200, train_seconds=1, spread=SURE)
    frozen = replace(frozen, train_seconds_at_decision=20)
    v = decide([tuned, frozen], MAJORITY, Preferences(Priority.BALANCED))
    assert v.pick is frozen and v.runner_up is tuned and v.best is tuned
    assert decide([tuned, frozen], MAJORITY, Preferences(inference_volume=10**9)).pick is tuned
    assert decide([tuned, frozen], MAJORITY, Preferences(Priority.ACCURACY)).pick is tuned
    # Without the training time (the old rule), the two were equally cheap and the score won.
    untrained = replace(tuned, train_seconds_at_decision=0)
    assert decide([untrained, frozen], MAJORITY, Preferences(Priority.BALANCED)).pick is untrained
    assert cost(tuned, 10**6) == (8000.0, 8000.0, 8000.0)


def test_random_vectors_are_only_advised_when_truly_as_good():
    assert "random_bilstm" in decide(ALL, MAJORITY, Preferences(Priority.COST)).excluded
    as_good = option("random_bilstm", 0.80, 50000, Embedding.RANDOM)
    v = decide([TUNED, as_good], MAJORITY, Preferences(Priority.ACCURACY))
    assert v.pick is as_good  # tied on score and cheaper


def test_nothing_is_advised_when_no_option_beats_the_majority_beyond_noise():
    weak = [option("static_bilstm", 0.505, 6000, Embedding.STATIC, spread=0.03)]
    v = decide(weak, MAJORITY, Preferences())
    assert not v.learned and v.pick is None


def test_the_pick_itself_beats_the_majority_at_the_decision_size():
    """Cost priority would take static+LR (0.74, 3 points within, 40,000/s), but its replicates
    at the decision size do not clear the majority (0.5) beyond noise: it is set aside, named, and
    the pick is an option that does. With none above it there, those above at the pilot stay."""
    wide = replace(GLOVE_LR, expected_samples=0.74 + 0.3 * NOISE)  # its curve is that uncertain
    v = decide([FROZEN, wide], MAJORITY, Preferences(Priority.COST, tolerance_points=5))
    assert v.pick is FROZEN and v.runner_up is None
    assert v.excluded == {
        "static_logreg": "not above the majority baseline beyond noise at the decision size"
    }
    assert (
        decide([FROZEN, GLOVE_LR], MAJORITY, Preferences(Priority.COST, tolerance_points=5)).pick
        is GLOVE_LR
    )
    lost = replace(FROZEN, expected_samples=0.78 + 0.3 * NOISE)
    v = decide([lost, wide], MAJORITY, Preferences(Priority.COST, tolerance_points=5))
    assert v.pick is wide and not v.excluded
    assert "at the pilot size are weighed" in v.notes[0]


def test_a_lone_option_is_compared_with_the_majority_and_capped_for_extrapolation():
    alone = decide([GLOVE], MAJORITY, Preferences())
    assert alone.runner_up is None and alone.confidence is Confidence.HIGH
    assert alone.support == pytest.approx(float(np.mean(GLOVE.samples > MAJORITY)))
    far = decide([GLOVE], MAJORITY, Preferences(), decision_size=50_000, pilot_size=2000)
    assert far.confidence is Confidence.MEDIUM and "extrapolation" in far.notes[0]


def test_a_pick_forced_by_an_unmet_bound_is_at_most_medium():
    v = decide([TUNED, GLOVE_LR], MAJORITY, Preferences(min_examples_per_second=10**6))
    assert v.pick is GLOVE_LR and v.runner_up is None
    assert v.confidence is Confidence.MEDIUM
    assert any("no option meets the inference bound" in n for n in v.notes)


def test_confidence_comes_from_the_paired_replicates_and_is_capped_for_extrapolation():
    clear = decide([TUNED, GLOVE_LR], MAJORITY, Preferences(Priority.ACCURACY))
    assert clear.confidence is Confidence.HIGH and clear.support > 0.99
    close = option("encoder_frozen_bilstm", 0.798, 190, spread=0.03)
    v = decide([TUNED, close], MAJORITY, Preferences(Priority.ACCURACY))
    assert v.confidence is Confidence.LOW and 0.3 < v.support < 0.7
    capped = decide(
        [TUNED, GLOVE_LR], MAJORITY, Preferences(Priority.ACCURACY), 50_000, pilot_size=2000
    )
    assert capped.confidence is Confidence.MEDIUM and "extrapolation" in capped.notes[0]


@pytest.mark.parametrize(
    ("priority", "points"),
    [(Priority.ACCURACY, 0.0), (Priority.BALANCED, 1.0), (Priority.COST, 3.0)],
)
def test_each_priority_has_its_documented_default_tolerance(priority, points):
    """A 30x cheaper option just inside the priority's tolerance is picked; just outside, not."""
    prefs = Preferences(priority)
    below = max(points - 0.1, 0.0)  # accuracy: a tie on score
    inside = option("static_logreg", 0.80 - below / 100, 6000, Embedding.STATIC, spread=SURE)
    outside = option("static_logreg", 0.80 - (points + 0.1) / 100, 6000, Embedding.STATIC)
    assert decide([SURE_TUNED, inside], MAJORITY, prefs).pick is inside
    assert decide([SURE_TUNED, outside], MAJORITY, prefs).pick is SURE_TUNED
    # ``tolerance_points`` overrides the priority's.
    override = decide([SURE_TUNED, inside], MAJORITY, Preferences(priority, tolerance_points=0.5))
    assert override.pick is (inside if below <= 0.5 else SURE_TUNED)


def test_a_cost_difference_inside_the_measurement_noise_is_a_tie():
    """Two options 40% apart in measured throughput (beyond the 25% band) whose throughput
    intervals overlap are equally cheap: the better score wins; apart, the cheaper one does."""
    from dataclasses import replace

    tuned = replace(SURE_TUNED, examples_per_second=120, speed_low=90, speed_high=160)
    lr = option("encoder_frozen_logreg", 0.795, 170, train_seconds=1, spread=SURE)
    lr = replace(lr, speed_low=130, speed_high=220)
    prefs = Preferences(Priority.BALANCED)
    assert decide([tuned, lr], MAJORITY, prefs).pick is tuned  # overlapping: a tie, .80 wins
    apart = replace(lr, speed_low=165, speed_high=175)
    tight = replace(tuned, speed_low=115, speed_high=125)
    assert decide([tight, apart], MAJORITY, prefs).pick is apart  # distinct: the cheaper wins


def test_an_interval_too_wide_to_settle_an_overlap_makes_the_advice_say_it_could_not_tell():
    # Fine-tuning 67 points wide (the relation set's [22.0, 89.1]) against a narrow frozen arm.
    wide = replace(TUNED, expected=0.569, low=0.22, high=0.891)
    glove = replace(GLOVE, expected=0.567, low=0.447, high=0.648)
    v = decide([wide, glove], MAJORITY, Preferences(Priority.ACCURACY))
    assert v.confidence is Confidence.LOW
    said = " ".join(v.notes)
    assert "Could not tell" in said and "spans 67 points" in said and "--budget" in said
    # The same two, narrowed to 20 points: the rule's own confidence stands, without the note.
    narrow = replace(wide, low=0.47, high=0.67)
    v = decide([narrow, glove], MAJORITY, Preferences(Priority.ACCURACY))
    assert not any("Could not tell" in n for n in v.notes)
    # Wide but apart: nothing to tell apart.
    apart = replace(wide, expected=0.95, low=0.70, high=1.0)
    assert not any(
        "Could not tell" in n for n in decide([apart, glove], MAJORITY, Preferences()).notes
    )


ARMS = [
    ("encoder_finetuned", Embedding.CONTEXTUAL),
    ("encoder_frozen_bilstm", Embedding.CONTEXTUAL),
    ("encoder_frozen_logreg", Embedding.CONTEXTUAL),
    ("static_bilstm", Embedding.STATIC),
    ("static_logreg", Embedding.STATIC),
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.70, 0.80),  # expected
            st.sampled_from([100.0, 200.0, 6000.0, 40000.0]),  # examples/s
            st.sampled_from([0.0005, 0.003, 0.01, 0.03]),  # replicates' own spread
        ),
        min_size=2,
        max_size=5,
    ),
    st.sampled_from([Priority.ACCURACY, Priority.BALANCED, Priority.COST]),
)
def test_the_trade_bar_only_ever_moves_the_pick_toward_the_best(drawn, priority):
    """Against the same rule without the bar: a pick that was the best stays the pick; any
    other pick is replaced, if at all, by one expected at least as high; and a pick that is
    not the best always rests on at least the bar's share of replicates."""
    cands = [
        option(arm, expected, rate, embedding, spread=spread)
        for (arm, embedding), (expected, rate, spread) in zip(ARMS, drawn, strict=False)
    ]
    prefs = Preferences(priority)
    barred = decide(cands, MAJORITY, prefs)
    with patch("embedding_advisor_server.core.decision.decide.TRADE_SUPPORT", 0.0):
        free = decide(cands, MAJORITY, prefs)
    assert barred.best is free.best
    if free.pick is free.best:
        assert barred.pick is free.pick
    assert barred.pick.expected >= free.pick.expected
    if barred.pick is not barred.best:
        assert barred.support >= 0.7 and barred.confidence is not Confidence.LOW
