"""BERT's masking as the TAPT pilot applies it, on the bundled tokenizer: 15% of the real pieces
chosen, 80/10/10 among them, special tokens and padding never, every row scored, the same seed the
same masks, whole words whole, pairs read jointly."""

from __future__ import annotations

import pytest
import torch

from embedding_advisor_server.core.adapt.masking import Masker, texts_of, tokenise


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from embedding_advisor_server.core.backends.bundled import default_encoder_path

    return AutoTokenizer.from_pretrained(default_encoder_path())


TEXT = "the film was long but the acting kept every scene alive and worth watching"


def test_fifteen_percent_of_real_pieces_are_chosen_eighty_ten_ten(tokenizer):
    rows = tokenise(tokenizer, [(TEXT,)] * 400, 64)
    batch = Masker(tokenizer, seed=0)(rows)
    chosen = batch["labels"] != -100
    special = torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(r["special_tokens_mask"]) for r in rows], batch_first=True, padding_value=1
    ).bool()
    assert not (chosen & special).any()  # never [CLS], [SEP] or padding
    assert chosen.sum() / (~special).sum() == pytest.approx(0.15, abs=0.02)
    ids, labels = batch["input_ids"][chosen], batch["labels"][chosen]
    masked = (ids == tokenizer.mask_token_id).float().mean()
    kept = (ids == labels).float().mean()
    assert masked == pytest.approx(0.8, abs=0.04) and kept == pytest.approx(0.1, abs=0.03)


def test_every_row_gets_a_piece_to_predict(tokenizer):
    rows = tokenise(tokenizer, [("short one",), ("",)] * 100, 64)
    chosen = Masker(tokenizer, seed=0)(rows)["labels"] != -100
    assert chosen[0::2].any(1).all()  # short texts: one piece forced where none was drawn
    assert not chosen[1::2].any()  # an empty text has nothing but special tokens


def test_the_same_seed_masks_the_same_pieces(tokenizer):
    rows = tokenise(tokenizer, [(TEXT,)] * 20, 64)
    a, b = Masker(tokenizer, 3)(rows), Masker(tokenizer, 3)(rows)
    c = Masker(tokenizer, 4)(rows)
    assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["labels"], b["labels"])
    assert not torch.equal(a["labels"], c["labels"])


def test_a_worker_process_masks_as_the_main_one_does(tokenizer, monkeypatch):
    """The server's worker processes are not named MainProcess, which Hugging Face's collator
    takes for a DataLoader worker (and refuses the seed in)."""
    import multiprocessing

    rows = tokenise(tokenizer, [(TEXT,)] * 20, 64)
    main = Masker(tokenizer, 3)(rows)
    monkeypatch.setattr(multiprocessing.current_process(), "name", "advisor-worker")
    worker = Masker(tokenizer, 3)(rows)
    assert torch.equal(main["input_ids"], worker["input_ids"])
    assert torch.equal(main["labels"], worker["labels"])


def test_whole_word_masking_masks_every_piece_of_a_chosen_word(tokenizer):
    text = "unbelievably tokenisation embeddings hyperparameters"
    rows = tokenise(tokenizer, [(text,)] * 200, 32, whole_word=True)
    batch = Masker(tokenizer, 0, whole_word=True)(rows)
    words = tokenizer(text).word_ids()
    for row in range(200):
        chosen = (batch["labels"][row] != -100).tolist()
        for w in {w for w in words if w is not None}:
            pieces = [chosen[p] for p, x in enumerate(words) if x == w]
            assert all(pieces) or not any(pieces)
        assert all(
            batch["input_ids"][row, p] == tokenizer.mask_token_id for p, c in enumerate(chosen) if c
        )


def test_pairs_are_read_jointly_and_tagged_words_as_text(tokenizer):
    rows = tokenise(tokenizer, [("a first text", "a second text")], 32)
    assert set(rows[0]["token_type_ids"]) == {0, 1}
    assert texts_of([["New", "York", "rocks"]], tagging=True) == [("New York rocks",)]
    assert texts_of([("a", "b")], tagging=False) == [("a", "b")]
    assert tokenise(tokenizer, [], 32) == []
