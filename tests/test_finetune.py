"""The fine-tuned encoder arm: it learns, picks its recipe on a dev slice, tags tokens, and shows
up in the advice."""

from __future__ import annotations

import json
import random

from conftest import read_jsonl, shared
from embedding_advisor_server.core.dataset import parse_jsonl
from embedding_advisor_server.core.finetune import Recipe, fine_tune
from embedding_advisor_server.core.metrics import ACCURACY, ENTITY_F1, evaluate
from embedding_advisor_server.core.resources import ResourceCache

GOOD = ["great", "wonderful", "superb", "delightful", "brilliant", "lovely"]
BAD = ["awful", "terrible", "dreadful", "boring", "horrible", "dull"]
NOUNS = ["film", "meal", "trip", "book", "show", "concert"]


def _dataset(rows: list[dict], name: str):
    return parse_jsonl("\n".join(json.dumps(r) for r in rows).encode(), name)


def _sentiment(n: int, seed: int):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        word = rng.choice(GOOD if label == "pos" else BAD)
        rows.append({"text": f"The {rng.choice(NOUNS)} was {word} overall.", "label": label})
    return _dataset(rows, f"synthetic-{seed}.jsonl")


def _none() -> None:
    return None


def test_fine_tuning_learns_an_easy_task_and_reports_its_recipe():
    encoder = ResourceCache().encoder(None)
    train, held_out = _sentiment(80, 0), _sentiment(40, 1)
    messages: list[str] = []
    result = fine_tune(
        encoder,
        train,
        held_out,
        ACCURACY,
        0,
        Recipe((1e-4, 5e-5), max_epochs=2),
        _none,
        messages.append,
    )
    assert len(result.predictions) == 40 and set(result.predictions) <= {"pos", "neg"}
    assert evaluate(ACCURACY, held_out.targets, result.predictions).score() >= 0.9
    assert result.learning_rate in (1e-4, 5e-5) and 1 <= result.epochs <= 2
    assert "12-example dev slice" in result.description  # 15% of 80
    assert len(messages) == 4  # two rates x two epochs, each scored on the dev slice
    # The encoder the server shares is untouched: fine-tuning trains a copy.
    before = encoder.sentence_features([("The film was great overall.",)], _none)
    again = (
        ResourceCache().encoder(None).sentence_features([("The film was great overall.",)], _none)
    )
    assert abs(before - again).max() < 1e-5


def test_without_room_for_a_dev_slice_the_last_epoch_is_kept():
    encoder = ResourceCache().encoder(None)
    result = fine_tune(
        encoder, _sentiment(15, 2), _sentiment(6, 3), ACCURACY, 0, Recipe((1e-4,), 2), _none
    )
    assert result.epochs == 2 and "0-example dev slice" in result.description
    assert len(result.predictions) == 6


def test_fine_tuning_tags_tokens():
    rows = read_jsonl(shared("wnut16") / "train.jsonl", limit=90, seed=0)
    train, held_out = _dataset(rows[:60], "wnut.jsonl"), _dataset(rows[60:], "wnut.jsonl")
    encoder = ResourceCache().encoder(None)
    result = fine_tune(encoder, train, held_out, ENTITY_F1, 0, Recipe((1e-4,), 1), _none)
    assert [len(p) for p in result.predictions] == [len(t) for t in held_out.targets]
    tags = {t for tags in train.targets for t in tags}
    assert {t for p in result.predictions for t in p} <= tags | {"O"}


def test_advice_has_a_fine_tuned_arm(reviews_advice):
    rec = reviews_advice  # the test server's quick budget
    tuned = {p.arm: p for p in rec.pilots}["encoder_finetuned"]
    assert tuned.embedding == 1  # EMBEDDING_CONTEXTUAL
    assert "Fine-tuned" in tuned.description and "lr 0.0001" in tuned.description
    assert [c.size for c in tuned.curve] == [120, 240] and tuned.num_train == 240
    assert tuned.interval.low <= tuned.score <= tuned.interval.high
    assert tuned.train_seconds > 0 and tuned.examples_per_second > 0


def test_small_runs_take_more_epochs_and_smaller_batches_to_reach_the_step_floor():
    recipe = Recipe((1e-4,), max_epochs=2, min_steps=120, epoch_cap=6)
    # 1,700 examples in batches of 16: 107 steps an epoch, 2 epochs already pass the floor.
    assert (recipe.batch(1700), recipe.epochs(1700)) == (16, 2)
    # 425 in batches of 8: 54 steps an epoch, 3 epochs for 120 steps.
    assert (recipe.batch(425), recipe.epochs(425)) == (8, 3)
    # 100 examples: 13 steps an epoch; the floor would take 10 epochs, the cap stops at 6.
    assert recipe.epochs(100) == 6
    assert Recipe((1e-4,), max_epochs=3).epochs(100) == 3  # no floor: the recipe's epochs
