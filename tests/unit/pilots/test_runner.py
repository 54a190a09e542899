"""The pilot runner over the registry, with a tiny stand-in encoder: every arm in the registry's
order with its learning curve, progress that only grows, and fine-tuning's seeds and the notes
on what a deadline skips."""

from __future__ import annotations

import time

from synthetic import sentences

from embedding_advisor_server.core.evidence.metrics import ACCURACY
from embedding_advisor_server.core.pilots.arms import ARMS, ENCODER_FINETUNED, arm
from embedding_advisor_server.core.pilots.heads.bilstm import BiLSTMRecipe
from embedding_advisor_server.core.pilots.heads.finetune import FineTuneRecipe
from embedding_advisor_server.core.pilots.plan import Plan
from embedding_advisor_server.core.pilots.runner import _Pilots, run_pilots
from embedding_advisor_server.core.progress import no_check


def test_every_registered_arm_runs_in_order_with_its_curve(tiny_encoder, toy_vectors):
    train, held_out = sentences(120, 0), sentences(40, 1)
    plan = Plan(
        3,
        2,
        finetune=FineTuneRecipe((1e-3,), max_epochs=1),
        bilstm=BiLSTMRecipe(hidden=16, max_epochs=4, patience=2),
    )
    reports: list[tuple[float, str]] = []
    checks: list[int] = []
    outcome = run_pilots(
        train,
        held_out,
        tiny_encoder,
        toy_vectors,
        ACCURACY,
        0,
        lambda: checks.append(1),
        lambda fraction, message: reports.append((fraction, message)),
        plan,
    )
    assert [r.arm for r in outcome.runs] == [spec.id for spec in ARMS if spec.schedule != "tapt"]
    assert outcome.pretraining == []  # the plan has no TAPT recipe
    # Arms dominated at the pool size (the decision size here) get no smaller sizes; the notes
    # name each and why, and the others have their whole curve.
    pruned = {n.split(":")[0] for n in outcome.notes}
    assert all("no learning-curve runs below 120 examples, since" in n for n in outcome.notes)
    assert ENCODER_FINETUNED not in pruned
    for run in outcome.runs:
        spec = arm(run.arm)
        assert run.label == spec.label_for(tiny_encoder.name, toy_vectors.name)
        assert run.num_eval == 40
        if spec.schedule == "curve":
            whole = [(60, 0), (60, 1), (120, 0)]
            assert [(r.size, r.seed) for r in run.curve] == (
                [(120, 0)] if run.arm in pruned else whole
            )
            assert run.num_train == 120 and run.examples_per_second > 0
    tuned = outcome.runs[-1]
    assert tuned.arm == ENCODER_FINETUNED and [r.size for r in tuned.curve] == [120]
    # One encoder, one price: the fine-tuned encoder pays the frozen encoder's timed throughput
    # (its linear head adds nothing measurable), the frozen heads that plus their own time.
    by_arm = {r.arm: r for r in outcome.runs}
    low, high = tuned.examples_per_second_low, tuned.examples_per_second_high
    assert 0 < low < tuned.examples_per_second < high
    for frozen in ("encoder_frozen_logreg", "encoder_frozen_bilstm"):
        r = by_arm[frozen]
        assert r.examples_per_second <= tuned.examples_per_second
        assert r.examples_per_second_low <= low and r.examples_per_second_high <= high
    # One request's latency, timed on its own (an example alone): every option has it, and an
    # option that runs the encoder waits longer than a lookup of word vectors.
    for run in outcome.runs[1:]:
        assert 0 < run.latency_ms <= run.latency_p95_ms, run.arm
    assert outcome.runs[0].latency_ms == 0  # the baseline is no option to deploy
    assert tuned.latency_ms > by_arm["static_logreg"].latency_ms
    assert by_arm["encoder_frozen_logreg"].latency_ms > by_arm["static_logreg"].latency_ms
    assert "of up to 4 epochs" in outcome.runs[3].description  # the plan's head recipe
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and reports[-1] == (1.0, "pilots done")
    assert len(checks) > len(ARMS)


def test_fine_tuning_repeats_seeds_below_the_largest_size_and_notes_what_it_skips(
    tiny_encoder, toy_vectors
):
    pool, held_out = sentences(120, 0), sentences(40, 1)
    plan = Plan(
        2, 1, finetune_points=2, finetune=FineTuneRecipe((1e-3,), max_epochs=1), finetune_seeds=2
    )
    messages: list[str] = []
    pilots = _Pilots(
        pool,
        held_out,
        tiny_encoder,
        toy_vectors,
        ACCURACY,
        5,
        no_check,
        lambda fraction, message: messages.append(message),
        plan,
    )
    pilots.featurise()
    pilots.rate = 100.0
    spec = arm(ENCODER_FINETUNED)
    run = pilots.fine_tune(spec, [60, 120], decision_size=5000)
    assert [(r.size, r.seed) for r in run.curve] == [(60, 5), (60, 6), (120, 5)]
    assert run.num_train == 120 and pilots.notes == []
    assert any("60 examples, seed 6" in m for m in messages)
    # At the decision size the pool already is, fine-tuning runs once, at the pool.
    once = pilots.fine_tune(spec, [60, 120], decision_size=120)
    assert [(r.size, r.seed) for r in once.curve] == [(120, 5)]

    pilots.deadline = time.monotonic()
    assert pilots.fine_tune(spec, [60, 120], decision_size=5000) is None
    assert len(pilots.notes) == 3 and "seed 6" in pilots.notes[2]


def test_a_third_fine_tuning_size_narrows_an_interval_too_wide_to_decide_on(
    tiny_encoder, toy_vectors, monkeypatch
):
    from embedding_advisor_server.core.pilots import tuning

    pool, held_out = sentences(120, 0), sentences(40, 1)
    plan = Plan(3, 1, finetune_points=2, finetune=FineTuneRecipe((1e-3,), max_epochs=1))
    pilots = _Pilots(
        pool, held_out, tiny_encoder, toy_vectors, ACCURACY, 0, no_check, lambda f, m: None, plan
    )
    pilots.featurise()
    pilots.rate = 100.0
    spec = arm(ENCODER_FINETUNED)
    monkeypatch.setattr(tuning, "WIDE", 1.0)  # no interval is too wide: two sizes
    run = pilots.fine_tune(spec, [30, 60, 120], decision_size=5000)
    assert sorted({r.size for r in run.curve}) == [60, 120] and pilots.notes == []
    monkeypatch.setattr(tuning, "WIDE", -1.0)  # every interval is: a third, smaller size
    run = pilots.fine_tune(spec, [30, 60, 120], decision_size=5000)
    assert sorted({r.size for r in run.curve}) == [30, 60, 120]
    assert len(pilots.notes) == 1 and "a third size (30 examples)" in pilots.notes[0]


def test_the_deadline_is_a_hard_cap_and_the_notes_name_what_did_not_run(tiny_encoder, toy_vectors):
    """A deadline that passes while the pilots run: no run starts after it, a training under way
    stops at its next check, and the options with no run at all are named."""
    from embedding_advisor_server.core.progress import Deadline

    train, held_out = sentences(120, 0), sentences(40, 1)
    plan = Plan(3, 2, finetune=FineTuneRecipe((1e-3,), max_epochs=1))
    started: list[str] = []

    def report(fraction, message):
        started.append(message)

    deadline = Deadline(time.monotonic() + 3600, 3600)
    pilots = _Pilots(
        train,
        held_out,
        tiny_encoder,
        toy_vectors,
        ACCURACY,
        0,
        no_check,
        report,
        plan,
        deadline=deadline,
    )
    pilots.featurise()
    pilots.deadline = time.monotonic()  # spent: nothing more may start
    done = pilots.headlines([spec for spec in ARMS if spec.schedule == "curve"], 120)
    assert all(steps == [] for steps in done.values())
    assert pilots.unafforded == [spec.id for spec in ARMS if spec.schedule == "curve"]
    # A past deadline stops a training at its next check: no step comes back.
    pilots.deadline = time.monotonic() - 1
    assert pilots.step(arm("static_bilstm"), 120, 0, pilots.context()) is None
    outcome = run_pilots(
        train,
        held_out,
        tiny_encoder,
        toy_vectors,
        ACCURACY,
        0,
        no_check,
        report,
        plan,
        deadline=Deadline(time.monotonic(), 0.001),
    )
    assert [r.arm for r in outcome.runs] == ["majority"]
    missing = outcome.notes[-1]
    assert missing.startswith("Not measured, the budget ran out first: ")
    assert "fine-tuned" in missing and "random vectors + BiLSTM" in missing
