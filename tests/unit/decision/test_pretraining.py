"""The continued-pretraining answer on synthetic TAPT evidence: the paired gain and its interval,
TAPT only when the interval lies above zero, none when it covers zero or lies below (saying
which), none without an encoder, and the projection labelled as one when no pilot ran."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from embedding_advisor_server.core.adapt.continued import MLMRecipe
from embedding_advisor_server.core.decision.pretraining import advise_pretraining
from embedding_advisor_server.core.evidence.adaptation import PretrainingRun, paired_gain
from embedding_advisor_server.core.evidence.curves import Noise
from embedding_advisor_server.core.evidence.metrics import accuracy, bootstrap_weights
from embedding_advisor_server.core.schema import DomainShift, PretrainingKind

N = 400
TRUTH = np.array(["pos"] * 200 + ["neg"] * 200)
WEIGHTS = bootstrap_weights(N, 500, 0)


def right_on(rows) -> np.ndarray:
    right = np.zeros(N, bool)
    right[list(rows)] = True
    return np.where(right, TRUTH, np.where(TRUTH == "pos", "neg", "pos"))


def tapt(base_right: range, adapted_right: range, kind: str = "tapt") -> PretrainingRun:
    return PretrainingRun(
        kind=kind,
        size=1000,
        seed=0,
        base=accuracy(TRUTH, right_on(base_right)),
        adapted=accuracy(TRUTH, right_on(adapted_right)),
        mlm_seconds=40.0,
        finetune_seconds=70.0,
        mlm_epochs=1,
        mlm_epochs_run=1,
        mlm_steps=30,
        mlm_texts=1000,
        mlm_pieces=40_000,
        recipe=MLMRecipe(),
        dev_loss_before=6.1,
        dev_loss_after=4.2,
        held_out_loss_before=6.0,
        held_out_loss_after=4.5,
        corpus_documents=50_000 if kind == "dapt" else 0,
    )


DOMAIN = DomainShift(
    reference="English Wikipedia sample",
    unigram_overlap=0.35,
    unigram_overlap_ceiling=0.5,
    unigram_similarity=0.7,
    overlap_top_k=10000,
    overlap_tokens=50000,
    mlm_loss=7.8,
    reference_mlm_loss=7.5,
)


def test_the_gain_is_paired_and_widened_by_training_noise():
    run = tapt(range(300), range(320))  # the adapted run is right wherever the base is, and more
    alone = paired_gain(run, WEIGHTS, None)
    assert alone.point == pytest.approx(0.05) and alone.noise == ""
    # Paired: only the 20 examples that differ vary, so the interval is tight and above zero.
    assert 0.025 < alone.low < 0.05 < alone.high < 0.075  # unpaired: about +-0.06
    noisy = paired_gain(run, WEIGHTS, Noise(1.0, 4), "seeds")  # sd 1/sqrt(1000) per run
    assert noisy.low < alone.low and noisy.high > alone.high and noisy.noise == "seeds"
    assert noisy.low < 0  # two runs' noise swamps a 5-point gain at this scale


def test_a_gain_above_zero_advises_tapt_with_a_full_scale_recipe():
    run = tapt(range(300), range(320))
    advice = advise_pretraining(DOMAIN, True, [(run, paired_gain(run, WEIGHTS, None))], 8000)
    assert advice.kind is PretrainingKind.TAPT and advice.measured
    assert "+5.0 points" in advice.reason and "lies above zero" in advice.reason
    assert advice.tapt.gain == pytest.approx(0.05) and advice.tapt.num_train == 1000
    assert advice.tapt.held_out_mlm_loss_after == 4.5
    # 8,000 texts, 100 epochs of 256: 32 steps an epoch.
    assert "8,000 training texts" in advice.recipe and "3,200 steps" in advice.recipe
    assert advice.dapt_projection.startswith("Projection, not measured")
    assert "keeps the encoder frozen" not in advice.reason
    frozen = advise_pretraining(DOMAIN, True, [(run, paired_gain(run, WEIGHTS, None))], frozen=True)
    assert frozen.kind is PretrainingKind.TAPT  # the measured gain, with the caveat in words
    assert "keeps the encoder frozen, and the gain was measured on fine-tuning" in frozen.reason


def test_a_frozen_gain_leaves_a_fine_tuned_pick_unanswered():
    run = replace(tapt(range(300), range(320)), paired_on="frozen")
    measured = [(run, paired_gain(run, WEIGHTS, None))]
    tuned = advise_pretraining(DOMAIN, True, measured, 8000)
    # Frozen features gained, but fine-tuning from the adapted weights was not measured: not
    # answered (no recipe), saying what measures it and what a full run would cost.
    assert tuned.kind is PretrainingKind.UNSPECIFIED and tuned.measured
    assert tuned.tapt.paired_on == "frozen" and tuned.recipe == "" and tuned.recipe_config == ""
    assert "logistic regression on the frozen states on 1,000 examples scored" in tuned.reason
    assert "need not carry over to fine-tuning" in tuned.reason
    assert "--budget standard" in tuned.reason
    assert "A full-scale TAPT run (3,200 steps of 256 over 8,000 texts)" in tuned.reason
    frozen = advise_pretraining(DOMAIN, True, measured, 8000, frozen=True)
    assert frozen.kind is PretrainingKind.TAPT and frozen.recipe  # as the frozen pick trains
    assert "was not measured" not in frozen.reason
    # No gain shown: the caveat still says what the pair did not measure.
    flat = replace(run, adapted=run.base)
    none = advise_pretraining(DOMAIN, True, [(flat, paired_gain(flat, WEIGHTS, None))])
    assert none.kind is PretrainingKind.NONE and "--budget standard" in none.reason
    assert "fine-tuning on" not in none.reason


def test_the_full_run_is_priced_at_the_pieces_the_pilot_trained_per_second():
    # Early stopping kept none of the two epochs it trained: 80,000 pieces in 40 s.
    run = replace(tapt(range(300), range(320)), mlm_epochs=0, mlm_epochs_run=2)
    advice = advise_pretraining(DOMAIN, True, [(run, paired_gain(run, WEIGHTS, None))], 8000)
    # 8,000 texts x 40 pieces x 100 epochs = 32 M pieces, at 2,000 pieces/s: 4.4 h.
    assert "32.0 M pieces" in advice.recipe and "2,000 pieces/s" in advice.recipe
    assert "~4.4 h on this machine" in advice.recipe
    config = json.loads(advice.recipe_config)
    assert config["kind"] == "tapt" and config["stages"][0]["steps"] == 3200
    assert config["stages"][0]["pieces"] == 32_000_000
    assert config["stages"][0]["hours_this_machine"] == pytest.approx(4.44, abs=0.01)
    # The pilot counted no operations: no GPU figure, and the advice says so.
    assert "GPU time not projected" in advice.recipe
    assert config["gpu_projection"]["hours"] is None
    assert config["stages"][0]["training_flop"] is None


def test_gpu_hours_are_a_labelled_projection_from_the_counted_operations():
    run = replace(tapt(range(300), range(320)), mlm_flops_per_piece=6e8)
    advice = advise_pretraining(DOMAIN, True, [(run, paired_gain(run, WEIGHTS, None))], 8000)
    # 32 M pieces x 6e8 = 1.92e16 operations; at 40% of 989 TFLOP/s 48.5 s, at 10% 194 s.
    assert (
        "projected from its operations alone (loading, evaluation and overheads not counted), "
        "not measured: 49 s to 3.2 min on one NVIDIA H100 SXM, if the run keeps 10%-40% of its "
        "989 TFLOP/s bf16 peak busy" in advice.recipe
    )
    assert "19.2 PFLOP" in advice.recipe
    config = json.loads(advice.recipe_config)
    assert config["stages"][0]["training_flop"] == pytest.approx(1.92e16)
    hours = [1.92e16 / (989e12 * busy) / 3600 for busy in (0.4, 0.1)]
    assert config["stages"][0]["hours_one_gpu_projected"] == pytest.approx(hours, abs=1e-4)
    gpu = config["gpu_projection"]
    assert gpu["measured"] is False and gpu["share_of_peak_assumed"] == [0.1, 0.4]
    assert gpu["hours"] == pytest.approx(hours, abs=1e-4)
    assert advice.tapt.mlm_flops_per_piece == 6e8


def test_advising_none_still_prices_the_full_run_it_turned_down():
    run = replace(tapt(range(300), range(300)), mlm_flops_per_piece=6e8)  # no gain
    advice = advise_pretraining(DOMAIN, True, [(run, paired_gain(run, WEIGHTS, None))], 8000)
    assert advice.kind is PretrainingKind.NONE and advice.recipe == ""
    assert (
        "A full-scale TAPT run (3,200 steps of 256 over 8,000 texts) would take ~8.9 h on this "
        "machine; projected from its operations alone"
        in advice.reason
        and "not measured: 49 s to 3.2 min on one NVIDIA H100 SXM" in advice.reason
    )


def gains(*runs: PretrainingRun):
    return [(run, paired_gain(run, WEIGHTS, None)) for run in runs]


def test_dapt_is_advised_when_only_its_interval_lies_above_zero():
    measured = gains(
        tapt(range(300), range(302)),
        tapt(range(300), range(330), "dapt"),
        tapt(range(300), range(303), "dapt_tapt"),
    )
    advice = advise_pretraining(DOMAIN, True, measured, 8000)
    assert advice.kind is PretrainingKind.DAPT and advice.measured
    assert advice.dapt.corpus_documents == 50_000 and advice.dapt_tapt.gain == pytest.approx(0.0075)
    assert "of the corpus's 50,000 documents" in advice.reason
    assert "The interval of DAPT lies above zero" in advice.reason
    assert advice.recipe.startswith("Masked-LM training on the domain corpus's 50,000 documents")
    assert advice.dapt_projection == ""  # measured, not projected
    # The corpus for up to 10 epochs of 256: 1,960 steps.
    assert json.loads(advice.recipe_config)["stages"][0]["steps"] == 1960


def test_a_cheaper_kind_whose_interval_holds_the_best_gain_is_advised():
    # TAPT +5.0 (about +2.9 to +7.2) holds DAPT+TAPT's +6.0: TAPT costs less and needs no corpus.
    measured = gains(tapt(range(300), range(320)), tapt(range(300), range(324), "dapt_tapt"))
    assert advise_pretraining(DOMAIN, True, measured, 8000).kind is PretrainingKind.TAPT
    # ... but not +12.5: then DAPT+TAPT, with both stages in its recipe.
    measured = gains(tapt(range(300), range(320)), tapt(range(300), range(350), "dapt_tapt"))
    measured[1][0].corpus_documents = 20_000
    advice = advise_pretraining(DOMAIN, True, measured, 8000)
    assert advice.kind is PretrainingKind.DAPT_TAPT
    assert (
        "domain corpus" in advice.recipe
        and "; then masked-LM training on the task" in advice.recipe
    )
    assert [s["texts"] for s in json.loads(advice.recipe_config)["stages"]] == [
        "the domain corpus",
        "the task's training texts",
    ]


@pytest.mark.parametrize(
    ("adapted", "words"),
    [(range(302), "covers zero: no gain shown"), (range(250), "lies below zero: it hurt")],
)
def test_a_gain_that_covers_zero_or_hurts_advises_none(adapted, words):
    run = tapt(range(300), adapted)
    advice = advise_pretraining(DOMAIN, True, [(run, paired_gain(run, WEIGHTS, None))])
    assert advice.kind is PretrainingKind.NONE and advice.measured and words in advice.reason
    assert advice.recipe == "" and advice.recipe_config == ""


def test_no_encoder_no_pretraining_even_when_measured():
    run = tapt(range(300), range(320))
    advice = advise_pretraining(DOMAIN, False, [(run, paired_gain(run, WEIGHTS, None))])
    assert advice.kind is PretrainingKind.NONE and "no encoder" in advice.reason
    assert advice.tapt.gain == pytest.approx(0.05) and advice.dapt_projection == ""


def test_without_a_pilot_the_answer_is_a_labelled_projection():
    advice = advise_pretraining(DOMAIN, True)
    assert not advice.measured and advice.tapt is None
    assert advice.reason.startswith("Not measured") and "projection" in advice.reason
    assert "Shi & Lipani" in advice.reason


def test_without_a_pilot_or_a_domain_signal_there_is_no_answer():
    """No rule of thumb stands in for evidence: neither TAPT nor "close to general English"."""
    advice = advise_pretraining(None, True)
    assert advice.kind is PretrainingKind.UNSPECIFIED and not advice.measured
    assert "no domain signal" in advice.reason and "general English" not in advice.reason
    assert advice.dapt_projection.startswith("No projection: no domain signal was measured")
