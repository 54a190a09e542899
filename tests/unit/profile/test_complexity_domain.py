"""Complexity and domain shift by hand on tiny inputs, and the reference against real tweets."""

from __future__ import annotations

import math

from conftest import read_jsonl, shared
from embedding_advisor_server.core.data.text import tokenize
from embedding_advisor_server.core.profile import complexity, domain


def test_entity_span_length_by_hand():
    tags = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "O"], ["I-ORG", "I-ORG", "I-ORG"]]
    assert complexity.entity_spans(tags) == [[2, 1], [], [3]]
    values = complexity.entity_span_length(tags)
    assert values[0] == 1.5 and math.isnan(values[1]) and values[2] == 3.0


def test_content_words_drop_stopwords_numbers_and_punctuation():
    words = [["The", "Movie", "was", "GREAT", "2", "well-made", "!", "is", "n't"]]
    assert domain.content_words(words) == [["movie", "great", "well-made"]]


def test_unigram_overlap_by_hand():
    # Every reference paragraph is "a b": both halves agree fully, so the ceiling is 1. The dataset
    # has 4 tokens, each half 4: K = 2 distinct words; top {a, c} vs {a, b} share one word of two.
    ref = [["a", "b"]] * 4
    result = domain.unigram_overlap([["a", "c"], ["a", "c"]], ref, seed=3)
    assert (result.overlap, result.ceiling, result.top_k, result.tokens_compared) == (
        0.5,
        1.0,
        2,
        4,
    )
    assert result.similarity == 0.5
    assert domain.unigram_overlap([], ref).top_k == 0


def test_reference_overlaps_itself_more_than_tweets_do():
    rows = read_jsonl(shared("tweets_sentiment") / "train.jsonl", limit=3000, seed=0)
    tweets = domain.unigram_overlap(domain.content_words([tokenize(r["text"]) for r in rows]))
    assert tweets.top_k > 1000 and 0 < tweets.overlap < tweets.ceiling
    assert tweets.similarity < 0.7
