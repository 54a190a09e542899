"""The Arora et al. metrics on hand-made data whose values are computed by hand, and sanity on real data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import read_jsonl, shared
from embedding_advisor_server.core.data.dataset import words
from embedding_advisor_server.core.profile import linguistic
from embedding_advisor_server.core.schema import TaskType

TRAIN = [["good", "movie"], ["Bad", "movie"], ["good", "good", "plot"]]
LABELS = ["pos", "neg", "pos"]


def test_word_label_entropy_by_hand():
    entropy = linguistic.word_label_entropy(TRAIN, LABELS)
    # good: pos x3 -> 0 bits; movie: pos, neg -> 1 bit; bad, plot: one label -> 0
    assert entropy == {"good": 0.0, "movie": 1.0, "bad": 0.0, "plot": 0.0}
    three = linguistic.word_label_entropy([["x"], ["x"], ["x"]], ["a", "b", "c"])
    assert three["x"] == pytest.approx(math.log2(3))


def test_sentence_ambiguity_skips_unseen_words():
    test = [["Good", "movie", "unknown"], ["unknown"], ["movie"]]
    values = linguistic.ambiguity(TRAIN, LABELS, test, tagging=False)
    assert values.tolist() == [0.5, 0.0, 1.0]  # (0 + 1) / 2; no known word; 1


def test_token_ambiguity_counts_distinct_tags():
    tokens = [["Paris", "is", "nice"], ["paris", "Hilton"]]
    tags = [["B-LOC", "O", "O"], ["B-PER", "I-PER"]]
    values = linguistic.ambiguity(tokens, tags, [["Paris", "Hilton", "rocks"]], tagging=True)
    assert values.tolist() == [1.5]  # paris: {B-LOC, B-PER} = 2, hilton: 1, rocks unseen


def test_unseen_prevalence_and_rate_by_hand():
    test = [["good", "movie", "unknown"], ["plot"]]
    # counts: good 3, movie 2, plot 1; unknown counts as 1
    prevalence = linguistic.unseen_prevalence(TRAIN, test)
    assert prevalence == pytest.approx([(1 / 3 + 1 / 2 + 1) / 3, 1.0])
    assert linguistic.unseen_rate(TRAIN, test) == pytest.approx(1 / 4)


def test_pieces_per_word_with_the_bundled_tokenizer():
    from embedding_advisor_server.core.backends.cache import ResourceCache

    tokenizer = ResourceCache().tokenizer(None)
    assert linguistic.pieces_per_word(tokenizer, [["the", "movie", "was", "good"]]) == 1.0
    assert linguistic.pieces_per_word(tokenizer, [["#lolz", "smh", "irl"]]) > 1.5


def test_real_data_tweets_are_more_unseen_and_fragmented_than_news():
    from embedding_advisor_server.core.backends.cache import ResourceCache

    tokenizer = ResourceCache().tokenizer(None)

    def stats(name: str) -> tuple[float, float, float]:
        rows = read_jsonl(shared(name) / "train.jsonl", limit=1200, seed=0)
        ws = words([(r["text"],) for r in rows], TaskType.TEXT_CLASSIFICATION)
        train, test = ws[:1000], ws[1000:]
        labels = [r["label"] for r in rows[:1000]]
        return (
            linguistic.unseen_rate(train, test),
            linguistic.pieces_per_word(tokenizer, test),
            float(np.mean(linguistic.ambiguity(train, labels, test, tagging=False))),
        )

    tweets, news = stats("tweets_sentiment"), stats("bbc_news")
    assert tweets[0] > news[0]  # more words never seen in training
    assert tweets[1] > news[1]  # the encoder splits tweet words into more pieces
    assert 0 < news[2] < math.log2(5) and 0 < tweets[2] < math.log2(3)  # entropies within bounds
