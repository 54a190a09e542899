"""The evaluation's comparison of advice and sweep: regret, agreement within the seeds' noise,
coverage, widths, cost ratios and the targets, on made-up numbers."""

from __future__ import annotations

import math

import pytest

from embedding_advisor_server.evaluation.scoring import compare, summary, truth


def _claims(pick: str, seconds: float = 60.0) -> dict:
    return {
        "metric": "accuracy",
        "pick": pick,
        "confidence": "high",
        "pretraining": "none",
        "tapt_gain": [],
        "seconds": seconds,
        "options": [
            {"arm": "a", "expected": 0.80, "interval": [0.75, 0.85]},
            {"arm": "b", "expected": 0.78, "interval": [0.70, 0.79]},
        ],
    }


def _runs(a: list[float], b: list[float]) -> list[dict]:
    return [{"arm": "a", "score": s} for s in a] + [{"arm": "b", "score": s} for s in b]


def test_truth_is_the_mean_over_seeds_with_their_spread():
    t = truth(_runs([0.8, 0.82, 0.84], [0.7]))
    assert t["a"]["mean"] == pytest.approx(0.82) and t["a"]["sd"] == pytest.approx(0.02)
    assert t["b"] == {"mean": 0.7, "sd": 0.0, "scores": [0.7]}


def test_regret_and_agreement_within_the_seeds_noise():
    # b is picked; a is best by 1 point, inside twice the standard error of the difference.
    row = compare("d", 500, _claims("b"), _runs([0.80, 0.83, 0.77], [0.79, 0.80, 0.78]), 600.0)
    assert row["best"] == "a" and row["regret_points"] == pytest.approx(1.0)
    assert row["agrees"]
    # The same gap with one seed each: no noise to be within.
    row = compare("d", 5000, _claims("b"), _runs([0.80], [0.79]), 600.0)
    assert row["regret_points"] == pytest.approx(1.0) and not row["agrees"]
    # Picking the best always agrees, with no regret.
    row = compare("d", 5000, _claims("a"), _runs([0.80], [0.79]), 600.0)
    assert row["regret_points"] == 0.0 and row["agrees"]


def test_coverage_width_and_cost_ratio_per_comparison():
    row = compare("d", 500, _claims("a", seconds=30.0), _runs([0.80], [0.81]), 600.0)
    covered = {o["arm"]: o["covered"] for o in row["options"]}
    assert covered == {"a": True, "b": False}  # b measured 0.81 above its [0.70, 0.79]
    assert row["coverage"] == 0.5 and row["median_width_points"] == pytest.approx(9.5)
    assert row["cost_ratio"] == pytest.approx(0.05)
    nothing = compare("d", 500, _claims(""), _runs([0.8], [0.7]), 600.0)
    assert math.isnan(nothing["regret_points"]) and not nothing["agrees"]


def test_the_summary_sets_each_figure_beside_its_target():
    wide = _claims("b", seconds=20.0)
    wide["options"][0]["interval"] = [0.70, 0.90]
    rows = [
        compare("d1", 500, _claims("a"), _runs([0.80], [0.79]), 600.0),
        compare("d2", 12_000, wide, _runs([0.90], [0.80]), 1000.0),
    ]
    s = summary(rows)
    assert s["agreement"] == 0.5 and s["mean_regret_points"] == pytest.approx(5.0)
    assert s["max_regret_points"] == pytest.approx(10.0)
    assert s["cost_ratio_at_10k"] == pytest.approx(0.02)
    assert s["cost_ratio_by_size"] == {
        "< 2,000": pytest.approx(0.1),
        ">= 10,000": pytest.approx(0.02),
    }
    # The median width by size band too: d1's options 10 and 9 points wide, d2's 20 and 9.
    assert s["median_width_by_size"] == {
        "< 2,000": pytest.approx(9.5),
        ">= 10,000": pytest.approx(14.5),
    }
    targets = s["targets"]
    assert targets["agreement"]["met"] is False and targets["cost_ratio_at_10k"]["met"] is True
    assert targets["mean_regret_points"]["met"] is False


def test_the_mean_is_scored_on_the_expected_scores_interval_each_run_on_one_runs():
    """Advice that gives both intervals: the seeds' mean against the expected score's interval
    (coverage, width), every single seed run against the one-run interval (run coverage)."""
    claims = _claims("a")
    claims["options"][0] |= {"interval": [0.70, 0.90], "mean_interval": [0.78, 0.82]}
    claims["options"][1] |= {"interval": [0.60, 0.80], "mean_interval": [0.74, 0.76]}
    # a: mean 0.80 inside [0.78, 0.82]; its runs 0.72 / 0.80 / 0.88 all inside [0.70, 0.90].
    # b: mean 0.78 outside [0.74, 0.76]; of its runs 0.70 / 0.78 / 0.86, 0.86 is above 0.80.
    row = compare("d", 500, claims, _runs([0.72, 0.80, 0.88], [0.70, 0.78, 0.86]), 600.0)
    got = {o["arm"]: (o["covered"], o["runs_covered"], o["runs"]) for o in row["options"]}
    assert got == {"a": (True, 3, 3), "b": (False, 2, 3)}
    assert row["coverage"] == 0.5 and row["run_coverage"] == pytest.approx(5 / 6)
    assert row["median_width_points"] == pytest.approx(3.0)  # widths 4 and 2
    assert row["median_run_width_points"] == pytest.approx(20.0)
    s = summary([row])
    assert s["run_coverage"] == pytest.approx(5 / 6) and s["runs"] == 6
    assert s["median_run_width_points"] == pytest.approx(20.0)
    # Advice cached before the mean had its own interval: both checks use the one-run interval.
    old = compare("d", 500, _claims("a"), _runs([0.72, 0.80, 0.88], [0.70]), 600.0)
    a = next(o for o in old["options"] if o["arm"] == "a")
    assert a["width_points"] == a["run_width_points"] == pytest.approx(10.0)
    assert (a["covered"], a["runs_covered"]) == (True, 1)  # 0.80 in [0.75, 0.85]; 0.72, 0.88 not


def test_the_tapt_runs_check_the_pretraining_answer_and_are_not_an_option():
    """TAPT runs pair with the fine-tuned runs of their seeds; they are left out of the options,
    the best and the sweep's seconds, and they judge the advice's pretraining answer."""
    from embedding_advisor_server.evaluation.scoring import pretraining_check

    claims = _claims("encoder_finetuned") | {"pretraining": "tapt"}
    runs = _runs([0.80, 0.82, 0.84], [0.70, 0.71, 0.72])
    tuned = [{"arm": "encoder_finetuned", "seed": k, "score": s} for k, s in enumerate([0.6] * 3)]
    tapt = [
        {"arm": "encoder_tapt_finetuned", "seed": k, "score": s}
        for k, s in enumerate([0.95, 0.64, 0.65])
    ]
    row = compare("d", 500, claims, runs + tuned + tapt, 600.0)
    assert row["best"] == "a" and "encoder_tapt_finetuned" not in row["truth"]
    assert row["regret_points"] == pytest.approx(22.0)  # the pick's 0.60 against a's 0.82
    check = row["pretraining_check"]
    # Gains 35, 4, 5 points: mean 14.7, but twice their standard error (2 * 17.6 / sqrt 3 =
    # 20.3) is larger: TAPT neither paid nor hurt, so the advised TAPT disagrees.
    assert check["gain_points"] == pytest.approx(14.667, abs=1e-3)
    assert check["noise_points"] == pytest.approx(20.34, abs=0.01)
    assert (check["measured"], check["agrees"], check["seeds"]) == ("neither", False, 3)
    steady = [dict(r, score=r["score"] - 0.3) if r["seed"] == 0 else r for r in tapt]
    assert pretraining_check("none", steady, tuned)["measured"] == "paid"  # gains 5, 4, 5
    assert pretraining_check("none", steady, tuned)["agrees"] is False
    assert pretraining_check("dapt_tapt", steady, tuned)["agrees"] is True
    assert pretraining_check("unspecified", steady, tuned)["agrees"] is None
    # A pick that does not fine-tune is not judged on fine-tuning's gain.
    assert pretraining_check("none", steady, tuned, pick="static_logreg")["agrees"] is None
    # A TAPT run whose seed has no fine-tuned run pairs with nothing.
    assert pretraining_check("none", tapt, []) is None
    assert compare("d", 500, claims, runs, 600.0)["pretraining_check"] is None
    s = summary(
        [
            row,
            compare(
                "e",
                500,
                claims | {"pretraining": "unspecified"},
                runs + tuned + steady,
                600.0,
            ),
        ]
    )
    assert s["pretraining"] == {"checked": 2, "answered": 1, "agree": 0, "not_answered": 1}
