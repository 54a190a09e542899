"""The shared advice on the reviews (``reviews_advice``: 240 train, 60 held out, --target-size
5000, quick budget) read from every side: its arms and curves, fine-tuning, the backend, the
profile it carries; and a seconds budget that shrinks the pool."""

from __future__ import annotations

import pytest

from conftest import ARMS, EXAMPLE, read_jsonl, write_jsonl
from embedding_advisor import options


def test_advice_carries_curves_extrapolations_and_bucketed_gaps(reviews_advice):
    rec = reviews_advice  # quick budget, --target-size 5000
    arms = {p.arm: p for p in rec.pilots}
    assert set(arms) == ARMS
    for name in ARMS - {"majority", "encoder_finetuned"}:
        p = arms[name]
        assert [c.size for c in p.curve] == [60, 120, 240]  # quick: 3 sizes up to the pool
        assert [c.seeds for c in p.curve] == [2, 2, 1]
        assert p.curve[-1].score == pytest.approx(p.score)
        assert p.at_full_size.size == 240 and p.at_target_size.size == 5000
    enc = arms["encoder_frozen_bilstm"].at_target_size
    assert enc.interval.low <= enc.score <= enc.interval.high
    # Beyond the pool, fine-tuning runs at two sizes and extrapolates its own curve; a third,
    # smaller size when two leave its interval too wide (the notes say so).
    tuned = arms["encoder_finetuned"]
    third = any("a third size (60 examples)" in n for n in rec.pilot_notes)
    sizes = [(c.size, c.seeds) for c in tuned.curve]
    assert sizes == ([(60, 1), (120, 1), (240, 1)] if third else [(120, 1), (240, 1)])
    assert tuned.at_target_size.fitted and tuned.fit.fitted
    basis = {o.arm: o.basis for o in rec.options}
    assert basis["encoder_finetuned"] == ("fitted" if third else "two-size fit")
    assert third or tuned.fit.c == 0.5  # two sizes: the exponent assumed
    assert basis["static_bilstm"] == "fitted"
    gaps = {(g.profile_metric, g.versus) for g in rec.bucketed_gaps}
    assert ("ambiguity", "static_bilstm") in gaps and ("ambiguity", "random_bilstm") in gaps
    for g in rec.bucketed_gaps:
        assert g.low.examples + g.high.examples <= 60


def test_a_seconds_budget_shrinks_the_pool_and_says_what_it_could_not_afford(client, tmp_path):
    data = write_jsonl(tmp_path / "reviews.jsonl", read_jsonl(EXAMPLE, 1000))
    rec = client.advise(data, advice_options=options(budget_seconds=2, max_train_examples=800))
    # The budget counts from the job's start: loading and profiling spend it, the pool shrinks
    # to the smallest curve, and the options that could not run are named.
    assert any("to fit the 2-second budget" in n for n in rec.pilot_notes)
    measured = {p.arm for p in rec.pilots}
    assert "majority" in measured
    missing = next(n for n in rec.pilot_notes if n.startswith("Not measured, the budget ran out"))
    assert "fine-tuned" in missing and "BiLSTM" in missing
    for p in rec.pilots:
        assert p.num_train <= 50 or p.arm == "majority"


def test_advice_has_a_fine_tuned_arm(reviews_advice):
    rec = reviews_advice  # the test server's quick budget
    tuned = {p.arm: p for p in rec.pilots}["encoder_finetuned"]
    assert tuned.embedding == 1  # EMBEDDING_CONTEXTUAL
    assert "Fine-tuned" in tuned.description and "lr 0.0001" in tuned.description
    sizes = [c.size for c in tuned.curve]  # a third size, 60, when two left it too wide
    assert sizes in ([120, 240], [60, 120, 240]) and tuned.num_train == 240
    assert tuned.interval.low <= tuned.score <= tuned.interval.high
    assert tuned.train_seconds > 0 and tuned.examples_per_second > 0


def test_advice_names_the_backend_it_used(client, small_reviews, reviews_advice):
    # The backend is the subject, not the science: the smallest pool that runs every arm.
    small = options(feature_backend="onnx-int8", max_train_examples=60, max_eval_examples=20)
    rec = client.advise(small_reviews, advice_options=small)
    frozen = {p.arm: p for p in rec.pilots}["encoder_frozen_logreg"]
    assert "onnxruntime int8" in frozen.description
    default = reviews_advice  # no backend named: the server's default
    assert (
        "onnxruntime fp32"
        in {p.arm: p for p in default.pilots}["encoder_frozen_logreg"].description
    )


def test_advice_evidence_carries_the_profile_examples(reviews_advice):
    rec = reviews_advice
    assert rec.profile.held_out_profiled == 60  # all 60 held-out examples (the cap is 200)
    assert len(rec.profile.examples.lines) == 60
    # The pilots score the very examples profiled, and (cross-fitted, with no test file) four
    # slices of the training pool of their size after them; the halves split the profiled ones.
    assert rec.pilots[0].num_eval == 300
    assert any(n.startswith("Cross-fitted on folds of 60 examples") for n in rec.pilot_notes)
    for gap in rec.bucketed_gaps:
        assert gap.low.examples + gap.high.examples <= 60
    assert rec.profile.domain.mlm_loss > 0
