"""The continued-pretraining pilots inside the runner, on a tiny seeded BERT with its own
masked-LM head: TAPT pairs with fine-tuning's headline (same size and seed, the same held-out
examples), reports the masked-LM losses before and after, reads the held-out texts only when
transductive, and says why when it cannot run; with a domain corpus, DAPT trains on a sample of
it and DAPT+TAPT continues from DAPT's weights."""

from __future__ import annotations

import copy
import time
from dataclasses import replace

import numpy as np
import pytest
from synthetic import sentences

from conftest import tiny_bert
from embedding_advisor_server.core.adapt.continued import MLMRecipe
from embedding_advisor_server.core.adapt.corpus import Corpus
from embedding_advisor_server.core.evidence.metrics import ACCURACY
from embedding_advisor_server.core.pilots.arms import ENCODER_FINETUNED, ENCODER_LOGREG
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


def test_the_quick_pair_is_the_frozen_encoder_on_torch(mlm_parts, toy_vectors):
    encoder, probe = mlm_parts
    outcome = pilots(encoder, toy_vectors, probe, replace(PLAN, tapt_pair="frozen"))
    [run] = outcome.pretraining
    logreg = next(r for r in outcome.runs if r.arm == ENCODER_LOGREG)
    assert run.paired_on == "frozen" and run.size == logreg.num_train == 120 and run.seed == 0
    # The base is logistic regression on torch features of the original weights: the arm's own
    # run on the same features, since this encoder computes on torch already.
    assert np.array_equal(run.base.stats, logreg.evaluation.stats)
    assert run.adapted.stats.shape == run.base.stats.shape
    assert run.finetune_seconds > 0 and run.mlm_steps > 0
    assert not any(n.startswith("Continued pretraining not measured") for n in outcome.notes)


def test_the_adapted_encoder_computes_on_torch_whatever_the_original_ran_on(mlm_parts):
    from embedding_advisor_server.core.adapt.continued import adapted_encoder
    from embedding_advisor_server.core.backends.torch_encoder import Encoder, on_torch

    encoder, probe = mlm_parts

    class Graph(Encoder):  # stands in for an ONNX graph: the weights it was built with, fixed
        def hidden(self, enc):
            raise AssertionError("the graph ran")

    frozen = copy.copy(encoder)
    frozen.__class__ = Graph
    view = on_torch(frozen)
    assert type(view) is Encoder and view.model is encoder.model and view.backend == "torch eager"
    state = {k: v + 0.01 for k, v in probe.model.base_model.state_dict().items()}
    adapted = adapted_encoder(frozen, state)
    texts = [("a film",), ("the plot was dull",)]
    moved = adapted.sentence_features(texts, lambda: None)
    assert not np.allclose(moved, view.sentence_features(texts, lambda: None))


def test_without_a_probe_or_time_it_says_why(mlm_parts, toy_vectors):
    encoder, probe = mlm_parts
    outcome = pilots(encoder, toy_vectors, None)
    assert outcome.pretraining == []
    assert any(
        n.startswith("Continued pretraining not measured: no masked-LM form") for n in outcome.notes
    )
    no_tapt = pilots(encoder, toy_vectors, probe, Plan(2, 1, finetune=PLAN.finetune))
    assert no_tapt.pretraining == [] and not any("Task-adaptive" in n for n in no_tapt.notes)
    hurried = pilots(encoder, toy_vectors, probe, deadline=Deadline(time.monotonic() + 1e-3, 1))
    assert hurried.pretraining == []
    assert any("pretraining not measured" in n for n in hurried.notes)


def test_a_domain_corpus_adds_dapt_and_dapt_then_tapt(mlm_parts, toy_vectors, tmp_path):
    encoder, probe = mlm_parts
    rng = np.random.default_rng(3)
    words = "the a film plot was and great awful dull lovely meal trip book show".split()
    lines = [" ".join(rng.choice(words, size=8)) for _ in range(500)]
    path = tmp_path / "domain.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = pilots(encoder, toy_vectors, probe, corpus=Corpus(path))
    tapt, dapt, both = outcome.pretraining
    assert [r.kind for r in outcome.pretraining] == ["tapt", "dapt", "dapt_tapt"]
    # The same base run for all three, so every gain is paired with the same fine-tuning.
    assert all(np.array_equal(r.base.stats, tapt.base.stats) for r in (dapt, both))
    # DAPT read 120 of the 500 documents (one per task text), once; DAPT+TAPT the task's texts.
    assert dapt.mlm_texts == 120 and dapt.corpus_documents == 500 and dapt.mlm_epochs_run == 1
    assert both.mlm_texts == 120 and both.corpus_documents == 500
    # Whole documents were read (8 words each: 10+ pieces with the specials), not characters.
    assert dapt.mlm_pieces / (0.85 * dapt.mlm_texts) > 9
    assert both.prior_seconds == pytest.approx(dapt.mlm_seconds) and tapt.prior_seconds == 0
    assert both.model is not dapt.model and dapt.model is not tapt.model
    before = dict(probe.model.state_dict())
    assert all(
        not np.array_equal(v.numpy(), dapt.model.state_dict()[k].numpy())
        for k, v in before.items()
        if k.endswith("attention.self.query.weight")
    )
