"""The research's directions over an evaluation's comparisons (``directions.py``), on made-up
sweeps: the encoder's lead over GloVe by size, the halves, fine-tuning against freezing by task."""

from __future__ import annotations

import pytest

from embedding_advisor_server.evaluation import directions as d
from embedding_advisor_server.evaluation.output import markdown
from embedding_advisor_server.evaluation.scoring import compare, summary

pytestmark = pytest.mark.unit


def _row(name: str, size: int, task: str, means: dict[str, float], halves=()) -> dict:
    claimed = {
        "task": task,
        "halves": list(halves),
        "metric": "accuracy",
        "pick": next(iter(means)),
        "confidence": "low",
        "pretraining": "none",
        "tapt_gain": [],
        "seconds": 10.0,
        "options": [],
    }
    runs = [{"arm": arm, "score": m} for arm, m in means.items()]
    return compare(name, size, claimed, runs, 100.0)


def _half(metric: str, versus: str, low: float, high: float) -> dict:
    return {"metric": metric, "versus": versus, "low": low, "high": high, "examples": [50, 50]}


def test_the_encoders_lead_over_glove_is_followed_across_sizes():
    rows = [
        _row("simple", 500, "text_classification",
             {"encoder_frozen_bilstm": 0.80, "static_bilstm": 0.70}),
        _row("simple", 5000, "text_classification",
             {"encoder_frozen_bilstm": 0.86, "static_bilstm": 0.84}),
        _row("hard", 500, "text_classification",
             {"encoder_frozen_bilstm": 0.60, "static_bilstm": 0.58}),
        _row("hard", 5000, "text_classification",
             {"encoder_frozen_bilstm": 0.75, "static_bilstm": 0.65}),
        _row("glove_ahead", 500, "text_classification",
             {"encoder_frozen_bilstm": 0.60, "static_bilstm": 0.66}),
        _row("glove_ahead", 2000, "text_classification",
             {"encoder_frozen_bilstm": 0.60, "static_bilstm": 0.68}),
        _row("once", 500, "text_classification",
             {"encoder_frozen_bilstm": 0.75, "static_bilstm": 0.65}),
        _row("no_glove", 500, "text_classification", {"encoder_frozen_bilstm": 0.75}),
    ]  # fmt: skip
    by_size = d.directions(rows)["encoder_over_glove_by_size"]
    assert by_size["simple"]["gap_points"] == {500: pytest.approx(10.0), 5000: pytest.approx(2.0)}
    assert by_size["simple"]["narrows"] is True and by_size["hard"]["narrows"] is False
    # GloVe ahead by more with more data: the lead falls, but the two draw apart
    assert by_size["glove_ahead"]["narrows"] is False
    assert by_size["once"]["narrows"] is None and "no_glove" not in by_size


def test_the_halves_count_where_the_high_half_has_the_larger_gap():
    rows = [
        _row("a", 500, "text_classification", {"static_bilstm": 0.7},
             [_half("ambiguity", "static_bilstm", 0.02, 0.08),
              _half("complexity", "static_bilstm", 0.05, 0.01)]),
        _row("b", 500, "text_classification", {"static_bilstm": 0.7},
             [_half("ambiguity", "static_bilstm", 0.00, 0.03),
              _half("ambiguity", "random_bilstm", 0.10, 0.10)]),
    ]  # fmt: skip
    halves = d.directions(rows)["halves"]
    assert halves["ambiguity"]["static_bilstm"]["larger_on_high_half"] == 2
    assert halves["ambiguity"]["static_bilstm"]["cases"] == 2
    assert halves["ambiguity"]["static_bilstm"]["differences_points"] == [
        pytest.approx(6.0), pytest.approx(3.0)
    ]  # fmt: skip
    assert halves["ambiguity"]["random_bilstm"]["larger_on_high_half"] == 0  # a tie is not larger
    assert halves["complexity"]["static_bilstm"] == {
        "larger_on_high_half": 0, "cases": 1, "differences_points": [pytest.approx(-4.0)]
    }  # fmt: skip


def test_fine_tuning_is_set_against_the_best_frozen_option_by_task():
    rows = [
        _row("pairs", 500, "text_pair_classification",
             {"encoder_finetuned": 0.80, "encoder_frozen_logreg": 0.70,
              "encoder_frozen_bilstm": 0.72}),
        _row("pairs", 2000, "text_pair_classification",
             {"encoder_finetuned": 0.84, "encoder_frozen_logreg": 0.78}),
        _row("reviews", 500, "text_classification",
             {"encoder_finetuned": 0.70, "encoder_frozen_logreg": 0.75}),
        _row("frozen_only", 500, "text_classification", {"encoder_frozen_logreg": 0.75}),
    ]  # fmt: skip
    tuned = d.directions(rows)["finetune_over_frozen"]
    assert [(c["dataset"], c["size"]) for c in tuned["cases"]] == [
        ("pairs", 500), ("pairs", 2000), ("reviews", 500)
    ]  # fmt: skip
    assert tuned["cases"][0]["points"] == pytest.approx(8.0)  # against the better frozen option
    assert tuned["mean_by_task"] == {
        "text_classification": pytest.approx(-5.0),
        "text_pair_classification": pytest.approx(7.0),
    }


def test_the_directions_are_written_to_the_markdown():
    rows = [
        _row("pairs", 500, "text_pair_classification",
             {"encoder_finetuned": 0.80, "encoder_frozen_bilstm": 0.70, "static_bilstm": 0.65},
             [_half("ambiguity", "static_bilstm", 0.02, 0.08)]),
    ]  # fmt: skip
    settings = {"budget": "quick", "seeds": 1, "small_seeds": 3, "sizes": [500], "cap": 0}
    text = markdown(rows, summary(rows), settings)
    assert "## The research's directions" in text
    assert "- pairs: +5.0 at 500 (one size)" in text
    assert "- ambiguity, versus static_bilstm: 1 of 1" in text
    assert "- pairs at 500 (text_pair_classification): +10.0" in text


def test_the_advice_claims_carry_its_task_and_the_halves_its_pilots_measured():
    from embedding_advisor.v1 import advisor_pb2 as pb
    from embedding_advisor_server.evaluation.advisor import claims

    rec = pb.Recommendation(metric="macro_f1")
    rec.profile.task = pb.TASK_TYPE_TEXT_PAIR_CLASSIFICATION
    gap = rec.bucketed_gaps.add(profile_metric="complexity", versus="static_bilstm", median=2.5)
    gap.low.gap, gap.low.examples, gap.high.gap, gap.high.examples = 0.01, 40, 0.06, 38
    claimed = claims(rec)
    assert claimed["task"] == "text_pair_classification"
    assert claimed["halves"] == [
        {"metric": "complexity", "versus": "static_bilstm", "low": pytest.approx(0.01),
         "high": pytest.approx(0.06), "examples": [40, 38]}
    ]  # fmt: skip


def test_the_advice_claims_keep_each_options_pilot_curve():
    from embedding_advisor.v1 import advisor_pb2 as pb
    from embedding_advisor_server.evaluation.advisor import claims

    rec = pb.Recommendation(metric="accuracy")
    pilot = rec.pilots.add(arm="static_bilstm")
    for size, score, seeds in [(500, 0.694, 2), (1000, 0.705, 2), (2000, 0.736, 1)]:
        pilot.curve.add(size=size, score=score, seeds=seeds)
    rec.options.add(arm="static_bilstm")
    rec.options.add(arm="static_logreg")  # an option without a pilot curve
    by_arm = {o["arm"]: o["curve"] for o in claims(rec)["options"]}
    assert by_arm["static_logreg"] == []
    assert [n for n, _, _ in by_arm["static_bilstm"]] == [500, 1000, 2000]
    assert [k for _, _, k in by_arm["static_bilstm"]] == [2, 2, 1]
    assert by_arm["static_bilstm"][2][1] == pytest.approx(0.736)


def test_a_cached_only_report_names_what_it_left_out():
    rows = [_row("pairs", 500, "text_pair_classification", {"static_bilstm": 0.65}, [])]
    settings = {"budget": "quick", "seeds": 1, "small_seeds": 3, "sizes": [500, 2000], "cap": 0}
    text = markdown(rows, summary(rows), settings, ["pairs at 2,000"])
    assert "Left out, not in the cache (a cached-only report): pairs at 2,000." in text
    assert "Left out" not in markdown(rows, summary(rows), settings)
