"""The masked-LM probe's two paths with real models: a head warmed up once and cached, a
checkpoint's own head used as is, and a clear reason when an encoder has no masked-LM form."""

from __future__ import annotations

import math

import pytest
import torch

from conftest import read_jsonl, shared, tiny_bert
from embedding_advisor_server.core.backends.bundled import default_encoder_path
from embedding_advisor_server.core.backends.cache import ResourceCache
from embedding_advisor_server.core.backends.mlm import MLMProbe, MLMUnavailable


@pytest.fixture(scope="module")
def resources(cache_dir) -> ResourceCache:
    return ResourceCache(cache_dir=cache_dir)


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


def test_every_fresh_install_starts_the_head_from_the_same_weights(tmp_path, monkeypatch):
    # The head's missing parameters are initialised at random: from the warm-up's seed. (The
    # warm-up itself is seeded; skipping it keeps this test to the initialisation.)
    monkeypatch.setattr(MLMProbe, "_warm_up", lambda self, texts, trainable: None)
    heads = [MLMProbe(default_encoder_path(), tmp_path / f"install-{i}").head for i in (1, 2)]
    first, second = (h.state_dict() for h in heads)
    assert first.keys() == second.keys() and len(first) > 2
    assert all(torch.equal(first[k], second[k]) for k in first)
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    MLMProbe(default_encoder_path(), tmp_path / "install-3")
    assert torch.equal(torch.rand(3), before)  # the caller's random state is untouched


def test_mlm_probe_uses_a_pretrained_head_as_is(tmp_path):
    from transformers import AutoTokenizer, BertForMaskedLM

    tokenizer = AutoTokenizer.from_pretrained(default_encoder_path())
    tiny_bert(tmp_path, BertForMaskedLM, layers=1)
    probe = MLMProbe(tmp_path, cache_dir=tmp_path / "cache")
    assert probe.pretrained_head
    assert not (tmp_path / "cache").exists()  # nothing to warm up, nothing cached
    # An untrained head is close to uniform over the vocabulary.
    assert probe.reference_loss.mean == pytest.approx(math.log(tokenizer.vocab_size), abs=0.5)


def test_mlm_probe_says_why_an_encoder_has_no_masked_lm_form(tmp_path):
    from transformers import AutoTokenizer, GPT2Config, GPT2Model

    GPT2Model(GPT2Config(n_layer=1, n_embd=32, n_head=2)).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(default_encoder_path()).save_pretrained(tmp_path)
    with pytest.raises(MLMUnavailable, match="no masked-LM form"):
        MLMProbe(tmp_path, cache_dir=tmp_path / "cache")
