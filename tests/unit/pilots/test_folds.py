"""Cross-fitting (``pilots/folds.py``): the folds are disjoint samples of the held-out examples'
size, evaluations of different examples add up, and the contested arms' headline runs are
scored on every fold while their smaller curve points are carried over to all of them."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from synthetic import sentences

from embedding_advisor_server.core.data.sampling import disjoint_samples
from embedding_advisor_server.core.evidence.metrics import (
    ACCURACY,
    MACRO_F1,
    Evaluation,
    Shifted,
    bootstrap_weights,
    evaluate,
)
from embedding_advisor_server.core.pilots.featurise import PHASES
from embedding_advisor_server.core.pilots.heads.bilstm import BiLSTMRecipe
from embedding_advisor_server.core.pilots.heads.finetune import FineTuneRecipe
from embedding_advisor_server.core.pilots.plan import Plan
from embedding_advisor_server.core.pilots.runner import _Pilots, run_pilots
from embedding_advisor_server.core.progress import no_check


def test_disjoint_samples_are_exact_disjoint_and_stratified():
    data = sentences(120, 0)
    folds = disjoint_samples(data, 30, 4, seed=3)
    assert [len(f) for f in folds] == [30, 30, 30, 30]
    assert len(set(np.concatenate(folds))) == 120  # disjoint: the whole pool, once
    whole = Counter(data.targets)
    for fold in folds:
        got = Counter(data.targets[i] for i in fold)
        for label, n in whole.items():
            assert abs(got[label] - n / 4) <= 1  # each fold keeps the label shares
    assert len(disjoint_samples(data, 50, 4, seed=3)) == 2  # no third 50 in 120
    assert disjoint_samples(data, 30, 4, seed=3)[0].tolist() == folds[0].tolist()  # seeded


@pytest.mark.parametrize(
    ("held", "pool", "cross_fit", "folds"),
    [
        (100, 400, 500, 4),  # 500 scored
        (100, 1000, 500, 4),  # 500 scored: the plan's five folds
        (100, 150, 500, 1),  # no second 100 in the pool
        (250, 1000, 500, 1),  # 500 scored
        (200, 800, 500, 2),  # 600 scored: three folds of 200
        (500, 2000, 500, 0),  # the held-out examples alone are enough
        (100, 1000, 300, 2),  # the operator's smaller target: 300 scored
        (100, 400, 0, 0),  # a test file (or cross-fitting turned off)
    ],
)
def test_folds_score_about_500_examples(held, pool, cross_fit, folds):
    train, held_out = sentences(pool, 0), sentences(held, 1)
    pilots = _Pilots(
        train,
        held_out,
        None,
        None,
        ACCURACY,
        0,
        no_check,
        None,
        Plan(3, 2),
        None,
        None,
        cross_fit=cross_fit,
    )
    pilots.plan_folds()
    assert [len(f) for f in pilots.folds] == [held] * folds
    assert pilots.scored == held * (folds + 1) == pilots.weights.shape[1]


@pytest.mark.parametrize("metric", [ACCURACY, MACRO_F1])
def test_evaluations_of_parts_add_up_to_the_whole(metric):
    rng = np.random.default_rng(0)
    truth = rng.choice(["a", "b", "c", "d"], 60)
    pred = np.where(rng.random(60) < 0.6, truth, rng.choice(["a", "b", "c", "d"], 60))
    # the first part has no "d" at all: macro-F1's columns must still line up
    truth[:20] = np.where(truth[:20] == "d", "a", truth[:20])
    pred[:20] = np.where(pred[:20] == "d", "b", pred[:20])
    labels = ["a", "b", "c", "d"]
    whole = evaluate(metric, truth, pred, labels)
    first = evaluate(metric, truth[:20], pred[:20], labels).placed(np.arange(20), 60)
    rest = evaluate(metric, truth[20:], pred[20:], labels).placed(np.arange(20, 60), 60)
    assert first.score() == pytest.approx(evaluate(metric, truth[:20], pred[:20]).score())
    summed = Evaluation(first.stats + rest.stats, first.reduce)
    assert summed.score() == pytest.approx(whole.score())
    weights = bootstrap_weights(60, 50, seed=1)
    assert np.allclose(summed.resampled(weights), whole.resampled(weights))
    # A point scored on the first part, carried over to the whole as ``first`` and ``summed``
    # differ: the same move in every replicate.
    other = evaluate(metric, truth[:20], np.roll(pred[:20], 3), labels).placed(np.arange(20), 60)
    moved = Shifted(other, summed, first)
    assert moved.score() == pytest.approx(other.score() + summed.score() - first.score())
    assert np.allclose(
        moved.resampled(weights),
        other.resampled(weights) + summed.resampled(weights) - first.resampled(weights),
    )


def _plan(finetune_folds: int = 5) -> Plan:
    return Plan(
        3,
        2,
        finetune=FineTuneRecipe((1e-3,), max_epochs=1),
        bilstm=BiLSTMRecipe(hidden=16, max_epochs=4, patience=2),
        finetune_folds=finetune_folds,
    )


def _crossed(notes: list[str]) -> dict[str, int]:
    """Each cross-fitted arm and its number of folds, from the note."""
    note = next(n for n in notes if n.startswith("Cross-fitted on folds of "))
    crossed, _, dominated = note.split("): ")[1].rstrip(".").partition("; not ")
    out = {}
    for group in crossed.split("; "):
        arms, folds = group.rsplit(" on ", 1)
        out |= {a: int(folds.split()[0]) for a in arms.split(", ")}
    left_out = dominated.removesuffix(", dominated by then").split(", ") if dominated else []
    assert not set(left_out) & set(out)  # an arm is cross-fitted or left out, not both
    return out


def _pilots(tiny_encoder, toy_vectors, cross_fit: int, plan: Plan | None = None, report=None):
    train, held_out = sentences(120, 0), sentences(30, 1)
    return run_pilots(
        train,
        held_out,
        tiny_encoder,
        toy_vectors,
        ACCURACY,
        0,
        no_check,
        report or (lambda fraction, message: None),
        plan or _plan(),
        decision_size=150,
        cross_fit=cross_fit,
    )


@pytest.mark.parametrize("finetune_folds", [5, 3])
def test_contested_arms_are_scored_on_every_fold(tiny_encoder, toy_vectors, finetune_folds):
    outcome = _pilots(tiny_encoder, toy_vectors, cross_fit=500, plan=_plan(finetune_folds))
    assert outcome.scored == 150  # 30 held-out examples and four folds of the 120 in the pool
    crossed = _crossed(outcome.notes)
    assert crossed["majority"] == 5 and len(crossed) >= 2
    assert crossed["encoder_finetuned"] == finetune_folds  # contested on this toy task
    for run in outcome.runs:
        if run.arm not in crossed:
            assert run.num_eval == 30 and not run.evaluation.stats[30:].any()
            assert all(c.first_fold is None for c in run.curve)
            continue
        scored = 30 * crossed[run.arm]
        assert run.num_eval == scored
        # accuracy's rows are (right, 1): each of the first ``scored`` examples scored once
        assert (run.evaluation.stats[:scored, 1] == 1).all()
        assert not run.evaluation.stats[scored:].any()
        if not run.curve:
            continue  # the baseline
        headline = next(c for c in run.curve if c.first_fold is not None)
        assert headline.evaluation is run.evaluation and headline.size == run.num_train == 120
        own = headline.first_fold
        assert np.array_equal(own.stats[:30], run.evaluation.stats[:30])
        assert not own.stats[30:].any()  # the headline run's own score: the held-out examples
        for point in run.curve:
            if point is not headline:
                assert isinstance(point, type(headline)) and isinstance(point.evaluation, Shifted)
                assert point.evaluation.score() == pytest.approx(
                    point.evaluation.base.score() + run.evaluation.score() - own.score()
                )


def test_cross_fitting_reports_within_its_share_of_the_progress(tiny_encoder, toy_vectors):
    """A fold's fine-tuning reports its epochs inside the folds' share, named by its fold (it
    once reported on the whole pilot's scale: the bar jumped to 95% with minutes of work left)."""
    heard: list[tuple[float, str]] = []
    _pilots(tiny_encoder, toy_vectors, 500, _plan(3), lambda f, m: heard.append((f, m)))
    folds = [(f, m) for f, m in heard if "cross-fitting" in m]
    lo, hi = PHASES["folds"]
    assert folds and all(lo <= f <= hi for f, _ in folds)
    tuned = [m for _, m in folds if m.startswith("encoder_finetuned: cross-fitting, fold ")]
    assert any("fine-tuning: lr" in m for m in tuned)  # its epochs, named by their fold
    first, last = heard.index(folds[0]), heard.index(folds[-1])
    assert all(f <= hi for f, _ in heard[: last + 1])  # nothing before it overshoots its end
    assert all("cross-fitting" in m for _, m in heard[first : last + 1])


def test_no_cross_fit_for_a_test_file_or_with_one_fold(tiny_encoder, toy_vectors):
    for outcome in (
        _pilots(tiny_encoder, toy_vectors, cross_fit=0),
        _pilots(tiny_encoder, toy_vectors, cross_fit=500, plan=Plan(3, 2, folds=1)),
    ):
        assert outcome.scored == 30
        assert {r.num_eval for r in outcome.runs} == {30}
        assert not any(n.startswith("Cross-fitted") for n in outcome.notes)
