"""Fine-tuning the real bundled MiniLM: it learns, picks its recipe on a dev slice, leaves the
shared encoder untouched, and tags tokens."""

from __future__ import annotations

from synthetic import dataset as _dataset
from synthetic import sentences as _sentiment

from conftest import read_jsonl, shared
from embedding_advisor_server.core.backends.cache import ResourceCache
from embedding_advisor_server.core.evidence.metrics import ACCURACY, ENTITY_F1, evaluate
from embedding_advisor_server.core.pilots.heads.finetune import FineTuneHead, FineTuneRecipe


def _none() -> None:
    return None


def _tune(encoder, train, held_out, metric, recipe, report=lambda fraction, message: None):
    """Fine-tune on ``train`` (seed 0) and predict ``held_out``: the fitted run and predictions."""
    head = FineTuneHead(encoder, train.is_tagging, metric, 0, recipe, report)
    run = head.fit(train.inputs, train.targets, _none)
    return run, run.predict(held_out.inputs)


def test_fine_tuning_learns_an_easy_task_and_reports_its_recipe():
    encoder = ResourceCache().encoder(None)
    train, held_out = _sentiment(80, 0), _sentiment(40, 1)
    messages: list[tuple[float, str]] = []
    result, predictions = _tune(
        encoder,
        train,
        held_out,
        ACCURACY,
        FineTuneRecipe((1e-4, 5e-5), max_epochs=2),
        lambda fraction, message: messages.append((fraction, message)),
    )
    assert len(predictions) == 40 and set(predictions) <= {"pos", "neg"}
    assert evaluate(ACCURACY, held_out.targets, predictions).score() >= 0.9
    assert result.learning_rate in (1e-4, 5e-5) and 1 <= result.epochs <= 2
    assert "12-example dev slice" in result.description  # 15% of 80
    assert len(messages) == 4  # two rates x two epochs, each scored on the dev slice
    assert [f for f, _ in messages] == [0.25, 0.5, 0.75, 1.0]
    assert "lr 5e-05, epoch 2: dev accuracy" in messages[-1][1]
    # The encoder the server shares is untouched: fine-tuning trains a copy.
    before = encoder.sentence_features([("The film was great overall.",)], _none)
    again = (
        ResourceCache().encoder(None).sentence_features([("The film was great overall.",)], _none)
    )
    assert abs(before - again).max() < 1e-5


def test_without_room_for_a_dev_slice_the_last_epoch_is_kept():
    encoder = ResourceCache().encoder(None)
    result, predictions = _tune(
        encoder,
        _sentiment(15, 2),
        _sentiment(6, 3),
        ACCURACY,
        FineTuneRecipe((1e-4,), max_epochs=2),
    )
    assert result.epochs == 2 and "0-example dev slice" in result.description
    assert len(predictions) == 6


def test_fine_tuning_tags_tokens():
    rows = read_jsonl(shared("wnut16") / "train.jsonl", limit=90, seed=0)
    train, held_out = _dataset(rows[:60], "wnut.jsonl"), _dataset(rows[60:], "wnut.jsonl")
    encoder = ResourceCache().encoder(None)
    _, predictions = _tune(
        encoder, train, held_out, ENTITY_F1, FineTuneRecipe((1e-4,), min_epochs=1, max_epochs=1)
    )
    assert [len(p) for p in predictions] == [len(t) for t in held_out.targets]
    tags = {t for tags in train.targets for t in tags}
    assert {t for p in predictions for t in p} <= tags | {"O"}
