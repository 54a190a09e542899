"""Continued masked-LM pretraining on a tiny seeded BERT with its own head: the dev loss falls on
repeated text, the caller's model is left untouched, the adapted weights load into the encoder
(not its head), the best epoch is kept, and cancelling stops it."""

from __future__ import annotations

import pytest
import torch

from conftest import tiny_bert
from embedding_advisor_server.core.adapt.continued import (
    MLMRecipe,
    adapted_encoder,
    continue_pretraining,
)
from embedding_advisor_server.core.backends.precision import resolve
from embedding_advisor_server.core.progress import no_check
from embedding_advisor_server.core.schema import Precision

TEXTS = [
    (f"the {w} film was {v} and the actors were {v} too",)
    for w in ("long", "short", "odd", "new", "old")
    for v in ("good", "bad", "fine", "dull", "great", "weak", "warm", "cold")
]


@pytest.fixture(scope="module")
def mlm_dir(tmp_path_factory):
    from transformers import BertForMaskedLM

    return tiny_bert(tmp_path_factory.mktemp("tiny-mlm"), BertForMaskedLM)


@pytest.fixture(scope="module")
def mlm(mlm_dir):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    return AutoModelForMaskedLM.from_pretrained(mlm_dir), AutoTokenizer.from_pretrained(mlm_dir)


def test_the_dev_loss_falls_and_the_original_is_untouched(mlm, mlm_dir):
    model, tokenizer = mlm
    original = {k: v.clone() for k, v in model.state_dict().items()}
    recipe = MLMRecipe(learning_rate=3e-3, batch_size=8, max_epochs=4, patience=4)
    adapted = continue_pretraining(
        model, tokenizer, TEXTS * 3, recipe, resolve(Precision.FP32), 0, no_check
    )
    assert adapted.dev_loss_after < adapted.dev_loss_before - 0.5
    assert adapted.epochs >= 1 and adapted.steps > 0 and adapted.texts == 120
    assert adapted.epochs_run == 4  # patience 4: every epoch trained
    assert adapted.pieces > 0 and adapted.seconds > 0 and adapted.flops_per_piece > 0
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in original.items())
    assert not any(k.startswith("cls.") for k in adapted.state)  # the encoder's weights only

    from embedding_advisor_server.core.backends.torch_encoder import Encoder

    encoder = Encoder(mlm_dir)
    moved = adapted_encoder(encoder, adapted.state)
    key = "embeddings.word_embeddings.weight"
    assert torch.equal(moved.model.state_dict()[key], adapted.state[key])
    assert not torch.equal(moved.model.state_dict()[key], encoder.model.state_dict()[key])
    assert moved.tokenizer is encoder.tokenizer and moved.model is not encoder.model


def test_the_first_step_counts_forward_and_backward_at_the_masked_pieces_only(mlm):
    model, tokenizer = mlm
    recipe = MLMRecipe(batch_size=8)
    adapted = continue_pretraining(
        model, tokenizer, TEXTS, recipe, resolve(Precision.FP32), 0, no_check
    )
    config = model.config
    hidden, inner = config.hidden_size, config.intermediate_size
    layers = config.num_hidden_layers * (4 * hidden * hidden + 2 * hidden * inner)
    head = hidden * hidden + config.vocab_size * hidden
    # A training step is ~3 forward passes of 2 operations per weight and piece: the layers at
    # every piece, the vocabulary head at the ~15% masked ones. Counting the forward pass alone
    # (a third) or the head at every piece (6x its share) falls outside.
    assert 6 * layers + 6 * 0.05 * head < adapted.flops_per_piece
    assert adapted.flops_per_piece < 1.5 * 6 * layers + 6 * 0.3 * head


def test_no_epoch_that_beats_the_start_keeps_the_start(mlm):
    model, tokenizer = mlm
    recipe = MLMRecipe(learning_rate=5.0, batch_size=8, max_epochs=2, patience=1)  # diverges
    adapted = continue_pretraining(
        model, tokenizer, TEXTS, recipe, resolve(Precision.FP32), 0, no_check
    )
    assert adapted.epochs == 0 and adapted.dev_loss_after == adapted.dev_loss_before
    assert adapted.epochs_run == 1  # patience 1: the first epoch that did not help stops it
    key = "bert.embeddings.word_embeddings.weight"
    assert torch.equal(adapted.model.state_dict()[key], model.state_dict()[key])


class Cancelled(Exception):
    pass


def test_cancelling_stops_the_training(mlm):
    model, tokenizer = mlm
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) > 3:
            raise Cancelled

    with pytest.raises(Cancelled):
        continue_pretraining(
            model, tokenizer, TEXTS, MLMRecipe(batch_size=4), resolve(Precision.FP32), 0, check
        )
