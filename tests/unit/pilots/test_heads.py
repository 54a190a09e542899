"""The BiLSTM head on synthetic sequences: it must use word order and context, which a head on
pooled (or per-word) features cannot."""

from __future__ import annotations

import numpy as np
import pytest

from embedding_advisor_server.core.decision.train_recipe import _stopping
from embedding_advisor_server.core.evidence.metrics import ACCURACY, ENTITY_F1, evaluate
from embedding_advisor_server.core.pilots.features import pooled_features
from embedding_advisor_server.core.pilots.heads.base import dev_split
from embedding_advisor_server.core.pilots.heads.bilstm import BiLSTMHead, _may_stop
from embedding_advisor_server.core.pilots.heads.bilstm import BiLSTMRecipe as HeadRecipe
from embedding_advisor_server.core.pilots.heads.linear import LinearHead

DIM = 8
VOCAB = np.random.default_rng(0).standard_normal((6, DIM)).astype(np.float32)
FAST = HeadRecipe(hidden=32, max_epochs=30, patience=5)


def _none() -> None:
    return None


def fit_predict_sequences(x_train, y_train, x_eval, tagging, metric, seed, check, recipe):
    """The BiLSTM fitted on ``x_train`` and its predictions on ``x_eval``."""
    run = BiLSTMHead(tagging, metric, seed, recipe).fit(x_train, y_train, check)
    return run, run.predict(x_eval)


def fit_predict(x_train, y_train, x_eval, tagging, scorer, seed):
    """Logistic regression's predictions on ``x_eval``."""
    return LinearHead(tagging, scorer, seed).fit(x_train, y_train, _none).predict(x_eval)


def order_task(n: int, seed: int):
    """Each sequence holds words 0 and 1 once among fillers (2-5); the label says which comes
    first. Every sequence has the same bag of marker words, so pooled features cannot tell."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n):
        ids = list(rng.integers(2, 6, size=6))
        i, j = sorted(rng.choice(7, size=2, replace=False))
        first = int(rng.integers(0, 2))
        ids.insert(i, first)
        ids.insert(j, 1 - first)
        xs.append((VOCAB[ids],))
        ys.append("zero-first" if first == 0 else "one-first")
    return xs, ys


def test_the_sequence_head_reads_word_order_that_pooling_loses():
    x_train, y_train = order_task(400, 1)
    x_eval, y_eval = order_task(200, 2)
    result, predicted = fit_predict_sequences(
        x_train, y_train, x_eval, False, ACCURACY, 0, _none, FAST
    )
    assert evaluate(ACCURACY, y_eval, predicted).score() > 0.9
    pooled = fit_predict(
        pooled_features(x_train), y_train, pooled_features(x_eval), False, "accuracy", 0
    )
    assert evaluate(ACCURACY, y_eval, pooled).score() < 0.7  # about chance
    assert result.epochs >= 1 and "BiLSTM" in result.description
    assert "60-example dev slice" in result.description  # 15% of 400


def test_pairs_read_each_side_and_compare_them():
    # Label: whether the two sides are the same word sequence.
    rng = np.random.default_rng(3)
    sentences = [rng.integers(0, 6, size=rng.integers(2, 6)) for _ in range(6)]

    def pairs(n: int):
        xs, ys = [], []
        for _ in range(n):
            a = int(rng.integers(0, 6))
            b = a if rng.random() < 0.5 else int(rng.integers(0, 6))
            xs.append((VOCAB[sentences[a]], VOCAB[sentences[b]]))
            ys.append("same" if a == b else "different")
        return xs, ys

    (x_train, y_train), (x_eval, y_eval) = pairs(400), pairs(200)
    _, predicted = fit_predict_sequences(x_train, y_train, x_eval, False, ACCURACY, 0, _none, FAST)
    assert evaluate(ACCURACY, y_eval, predicted).score() > 0.9


def tagging_task(n: int, seed: int):
    """Word 0 is a trigger: the word after it is an entity (B-X), whatever that word is."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n):
        ids = list(rng.integers(1, 6, size=int(rng.integers(4, 9))))
        pos = int(rng.integers(0, len(ids) - 1))
        ids[pos] = 0
        tags = ["O"] * len(ids)
        tags[pos + 1] = "B-X"
        xs.append((VOCAB[ids],))
        ys.append(tags)
    return xs, ys


def test_the_tagger_uses_context_that_per_word_features_lack():
    x_train, y_train = tagging_task(400, 4)
    x_eval, y_eval = tagging_task(200, 5)
    _, predicted = fit_predict_sequences(x_train, y_train, x_eval, True, ENTITY_F1, 0, _none, FAST)
    assert [len(p) for p in predicted] == [len(t) for t in y_eval]
    assert evaluate(ENTITY_F1, y_eval, predicted).score() > 0.9
    per_word = fit_predict([x[0] for x in x_train], y_train, [x[0] for x in x_eval], True, None, 0)
    assert evaluate(ENTITY_F1, y_eval, per_word).score() < 0.5


def test_positions_past_the_limit_are_tagged_O_and_empty_sides_are_read():
    x_train, y_train = tagging_task(60, 6)
    long = (np.tile(VOCAB[[0, 1]], (10, 1)),)  # 20 words, 4 read
    recipe = HeadRecipe(hidden=8, max_epochs=1, max_positions=4)
    _, (tags,) = fit_predict_sequences(x_train, y_train, [long], True, ENTITY_F1, 0, _none, recipe)
    assert len(tags) == 20 and set(tags[4:]) == {"O"}

    empty = (np.zeros((0, DIM), np.float32), VOCAB[[1, 2]])
    x = [(VOCAB[[1, 2]], VOCAB[[2, 3]]), empty] * 15
    y = ["a", "b"] * 15
    _, (label,) = fit_predict_sequences(x, y, [empty], False, ACCURACY, 0, _none, recipe)
    assert label in {"a", "b"}


def test_cancel_stops_training_at_the_next_batch():
    x_train, y_train = order_task(200, 7)
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) > 3:
            raise InterruptedError("cancelled")

    with pytest.raises(InterruptedError):
        fit_predict_sequences(x_train, y_train, x_train, False, ACCURACY, 0, check, FAST)
    assert len(calls) == 4


def test_early_stopping_waits_for_min_epochs_and_for_the_plateau_to_break():
    recipe = HeadRecipe(min_epochs=4)
    assert not _may_stop([0.2, 0.5, 0.4], recipe)  # 3 epochs: too soon
    assert _may_stop([0.2, 0.5, 0.4, 0.4], recipe)
    assert not _may_stop([0.26] * 11, recipe)  # every dev score the same: still on its plateau
    assert _may_stop([0.26], HeadRecipe(min_epochs=0))  # the rule off
    x_train, y_train = order_task(200, 3)
    for start in (1, 8):
        quick = HeadRecipe(hidden=32, max_epochs=30, patience=1, min_epochs=start)
        run, _ = fit_predict_sequences(x_train, y_train, [], False, ACCURACY, 0, _none, quick)
        assert run.convergence.epochs_run >= start and run.epochs <= run.convergence.epochs_run
        assert run.recipe["early_stopping_from_epoch"] == start
    # ... and the recipe handed over says so
    assert "(not before epoch 8, nor while every dev score is the same)" in _stopping(run.recipe)


def test_dev_split_is_seeded_and_disjoint():
    fit, dev = dev_split(100, seed=1)
    assert len(dev) == 15 and len(fit) == 85 and not set(fit) & set(dev)
    assert (dev_split(100, seed=1)[1] == dev).all() and not (dev_split(100, seed=2)[1] == dev).all()
    assert len(dev_split(19, seed=1)[1]) == 0  # too small for a dev slice


def test_pooled_features_average_the_known_words_and_combine_pair_sides():
    known = np.array([[1.0, 1.0], [0.0, 0.0], [3.0, 3.0]], np.float32)  # the middle word unknown
    empty = np.zeros((0, 2), np.float32)
    assert pooled_features([(known,)]).tolist() == [[2.0, 2.0]]
    u, v, diff, product = pooled_features([(known, empty)])[0].reshape(4, 2).tolist()
    assert (u, v, diff, product) == ([2, 2], [0, 0], [2, 2], [0, 0])


def test_fine_tuning_batches_group_similar_lengths_and_cover_every_example_once():
    from embedding_advisor_server.core.pilots.heads.finetune import MEGABATCH, grouped_batches

    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 120, 2000)
    batches = grouped_batches(lengths, 16, np.random.default_rng(1))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(2000))  # each example once
    padded = sum(16 * lengths[b].max() for b in batches)
    random = np.random.default_rng(1).permutation(2000)
    padded_random = sum(16 * lengths[random[i : i + 16]].max() for i in range(0, 2000, 16))
    assert padded < 0.75 * padded_random  # far less padding than random batches
    # Shuffled: another epoch's generator gives other batches, the same generator the same.
    again = grouped_batches(lengths, 16, np.random.default_rng(1))
    other = grouped_batches(lengths, 16, np.random.default_rng(2))
    assert all((a == b).all() for a, b in zip(batches, again, strict=True))
    assert any(len(a) != len(b) or (a != b).any() for a, b in zip(batches, other, strict=False))
    # Each group of MEGABATCH batches is sorted, so no batch mixes the shortest and longest.
    spread = [lengths[b].max() - lengths[b].min() for b in batches]
    assert np.median(spread) < 0.2 * (lengths.max() - lengths.min())
    assert len(batches) == 2000 // 16 and 2000 > 16 * MEGABATCH  # several groups
