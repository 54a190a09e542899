"""The profile with real models: seeded, reported samples; per-example values and domain shift
over the wire; entity spans for tagging; sanity on real data (news vs tweets)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import read_jsonl, shared, write_jsonl
from embedding_advisor import options
from embedding_advisor_server.core.backends.cache import ResourceCache
from embedding_advisor_server.core.data.parse import parse_jsonl
from embedding_advisor_server.core.data.sampling import split
from embedding_advisor_server.core.profile import complexity
from embedding_advisor_server.core.profile.profile import ProfileTools, profile_dataset


@pytest.fixture(scope="module")
def resources(cache_dir) -> ResourceCache:
    return ResourceCache(cache_dir=cache_dir)


def _dataset(rows: list[dict], name: str):
    return parse_jsonl("\n".join(json.dumps(r) for r in rows).encode(), name)


def test_profile_samples_are_seeded_and_reported(resources, reviews):
    data = _dataset(read_jsonl(reviews), "reviews.jsonl")
    train, test = split(data, 0.2, seed=0)
    tools = ProfileTools(
        vectors=resources.vectors(None),
        tokenizer=resources.tokenizer(None),
        parser=resources.parser(),
    )

    def run(seed: int):
        return profile_dataset(train, test, tools, True, seed=seed, max_held_out=25, max_train=100)

    first, same, other = run(1), run(1), run(2)
    assert first.held_out_profiled == 25 and first.train_profiled == 100
    assert first.num_train == 240 and first.num_test == 60  # counts stay those of the full splits
    ex = first.examples
    assert len(ex.lines) == len(ex.complexity) == len(ex.ambiguity) == 25
    assert set(ex.lines) <= set(test.lines) and ex.split == "reviews.jsonl"
    assert ex.lines == same.examples.lines and ex.complexity == same.examples.complexity
    assert ex.lines != other.examples.lines
    assert first.complexity_mean == pytest.approx(np.nanmean(ex.complexity))
    assert first.ambiguity_mean == pytest.approx(np.mean(ex.ambiguity))
    assert first.domain.mlm_head == "" and first.domain.overlap_top_k > 0  # no probe given


def test_profile_rpc_carries_per_example_values_and_domain_shift(client, reviews, server):
    info = client.upload(reviews)
    prof = client.profile(info.dataset_id, advice_options=options(seed=1, max_eval_examples=40))
    assert prof.held_out_profiled == 40 and prof.train_profiled == 240
    assert prof.complexity_measure == "dependency distance" and "en_core_web_sm" in prof.parser
    ex = prof.examples
    assert len(ex.lines) == len(ex.complexity) == len(ex.ambiguity) == len(ex.unseen_prevalence)
    assert len(ex.lines) == 40 and all(1 <= line <= 300 for line in ex.lines)
    assert all(v > 0 for v in ex.complexity) and all(0 < v <= 1 for v in ex.unseen_prevalence)
    assert 1.5 < prof.complexity_mean < 4.0
    d = prof.domain
    assert d.reference.startswith("English Wikipedia") and 0 < d.unigram_overlap < 1
    assert d.mlm_head == "warmed up" and d.mlm_examples == 200
    # Well below guessing among the 30,522 word pieces (ln 30,522 = 10.3 nats): the head predicts.
    assert 0 < d.reference_mlm_loss < d.mlm_loss < math.log(30_522) - 1
    assert prof.length_pieces.mean > prof.length_words.mean * 0.9
    assert prof.encoder_truncated_rate == 0.0  # short reviews fit the encoder's 512 pieces


def test_tagging_profile_has_entity_spans_with_nan_for_sentences_without_entities(client, tagging):
    info = client.upload(tagging)
    prof = client.profile(info.dataset_id, advice_options=options(seed=0))
    assert prof.complexity_measure == "entity span length" and prof.parser == ""
    values = list(prof.examples.complexity)
    assert any(math.isnan(v) for v in values)  # most tweets name no entity
    defined = [v for v in values if not math.isnan(v)]
    assert defined and all(v >= 1 for v in defined) and prof.complexity_mean >= 1


def test_real_data_news_vs_tweets(resources, tmp_path):
    tools = ProfileTools(
        vectors=resources.vectors(None),
        tokenizer=resources.tokenizer(None),
        parser=resources.parser(),
        mlm=resources.mlm(None),
    )

    def profile(name: str):
        rows = read_jsonl(shared(name) / "train.jsonl", limit=500, seed=0)
        data = _dataset(rows, f"{name}.jsonl")
        train, test = split(data, 0.2, seed=0)
        return profile_dataset(train, test, tools, True, max_held_out=60)

    news, tweets = profile("bbc_news"), profile("tweets_sentiment")
    assert tweets.vectors_oov_rate > news.vectors_oov_rate
    assert tweets.test_unseen_rate > news.test_unseen_rate
    assert tweets.domain.unigram_similarity < news.domain.unigram_similarity
    assert tweets.domain.mlm_loss > news.domain.mlm_loss
    assert news.complexity_mean > tweets.complexity_mean  # edited news: longer dependencies
    assert news.encoder_truncated_rate > 0.2  # many BBC articles run past 512 word pieces
    assert tweets.encoder_truncated_rate == 0.0


def test_profile_lines_point_at_the_examples_they_describe(client, resources, tmp_path):
    rows = read_jsonl(shared("rotten_tomatoes") / "train.jsonl", limit=80, seed=1)
    info = client.upload(write_jsonl(tmp_path / "rt.jsonl", rows))
    prof = client.profile(info.dataset_id, advice_options=options(seed=0, max_eval_examples=10))
    texts = [(rows[line - 1]["text"],) for line in prof.examples.lines]
    expected = complexity.dependency_distance(resources.parser(), texts)
    assert list(prof.examples.complexity) == pytest.approx(expected.tolist(), nan_ok=True)
