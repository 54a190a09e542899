"""The TAPT pilot inside the runner, on a tiny seeded BERT with its own masked-LM head: it pairs
with fine-tuning's headline (same size and seed, the same held-out examples), reports the
masked-LM losses before and after, reads the held-out texts only when transductive, and says why
when it cannot run."""

from __future__ import annotations

import time

import numpy as np
import pytest
from synthetic import sentences

from conftest import tiny_bert
from embedding_advisor_server.core.adapt.continued import MLMRecipe
from embedding_advisor_server.core.evidence.metrics import ACCURACY
from embedding_advisor_server.core.pilots.arms import ENCODER_FINETUNED
from embedding_advisor_server.core.pilots.heads.bilstm import BiLSTMRecipe
from embedding_advisor_server.core.pilots.heads.finetune import FineTuneRecipe
from embedding_advisor_server.core.pilots.plan import Plan
from embedding_advisor_server.core.pilots.runner import run_pilots
from embedding_advisor_server.core.progress import Deadline, no_check, no_report

PLAN = Plan(
    2,
    1,
    finetune=FineTuneRecipe((1e-3,), max_epochs=1),
    bilstm=BiLSTMRecipe(hidden=16, max_epochs=2, patience=1),
    tapt=MLMRecipe(learning_rate=1e-3, batch_size=16, max_epochs=2),
)


@pytest.fixture(scope="module")
def mlm_parts(tmp_path_factory):
    from transformers import BertForMaskedLM

    from embedding_advisor_server.core.backends.mlm import MLMProbe
    from embedding_advisor_server.core.backends.torch_encoder import Encoder

    folder = tiny_bert(tmp_path_factory.mktemp("tiny-tapt"), BertForMaskedLM)
    return Encoder(folder), MLMProbe(folder)


def pilots(encoder, vectors, probe, plan=PLAN, **kw):
    train, held_out = sentences(120, 0), sentences(40, 1)
    return run_pilots(
        train, held_out, encoder, vectors, ACCURACY, 0, no_check, no_report, plan, probe=probe, **kw
    )


def test_tapt_pairs_with_the_fine_tuning_headline(mlm_parts, toy_vectors):
    encoder, probe = mlm_parts
    outcome = pilots(encoder, toy_vectors, probe)
    [run] = outcome.pretraining
    tuned = next(r for r in outcome.runs if r.arm == ENCODER_FINETUNED)
    assert run.kind == "tapt" and run.size == tuned.num_train == 120 and run.seed == 0
    assert np.array_equal(run.base.stats, tuned.evaluation.stats)  # the very same base run
    assert run.adapted.stats.shape == run.base.stats.shape  # scored on the same 40 examples
    assert run.mlm_texts == 120 and not run.transductive and run.mlm_steps > 0
    assert run.dev_loss_after <= run.dev_loss_before
    assert run.held_out_loss_before > 0 and run.held_out_loss_after > 0
    assert run.mlm_seconds > 0 and run.finetune_seconds > 0
    assert "up to 2 epoch(s)" in run.recipe.describe()

    wider = pilots(encoder, toy_vectors, probe, transductive=True).pretraining[0]
    assert wider.mlm_texts == 160 and wider.transductive


def test_without_a_probe_or_time_it_says_why(mlm_parts, toy_vectors):
    encoder, probe = mlm_parts
    outcome = pilots(encoder, toy_vectors, None)
    assert outcome.pretraining == []
    assert any(
        n.startswith("Task-adaptive pretraining not measured: no masked-LM form")
        for n in outcome.notes
    )
    no_tapt = pilots(encoder, toy_vectors, probe, Plan(2, 1, finetune=PLAN.finetune))
    assert no_tapt.pretraining == [] and not any("Task-adaptive" in n for n in no_tapt.notes)
    hurried = pilots(encoder, toy_vectors, probe, deadline=Deadline(time.monotonic() + 1e-3, 1))
    assert hurried.pretraining == []
    assert any("Task-adaptive pretraining not measured" in n for n in hurried.notes)
