"""A job's kept files: written whole or not at all, size-bounded, deleted with the job; and the
adapted encoder a job keeps, saved so that it loads again as an encoder directory."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from conftest import tiny_bert
from embedding_advisor.errors import InvalidArgumentError, NotFoundError
from embedding_advisor_server.core.adapt.weights import keep_adapted
from embedding_advisor_server.core.jobs.artifacts import ArtifactStore, TooLarge
from embedding_advisor_server.core.schema import (
    Interval,
    PretrainingAdvice,
    PretrainingKind,
    PretrainingPilot,
    Recommendation,
)


def test_files_are_kept_whole_within_the_limit_and_deleted(tmp_path):
    store = ArtifactStore(tmp_path, max_bytes=1000)
    job = uuid.uuid4().hex
    kept = store.save(job, lambda d: (d / "a.bin").write_bytes(b"x" * 600))
    assert kept.files == ["a.bin"] and kept.size_bytes == 600
    assert [p.name for p in store.files(job)] == ["a.bin"]
    other = uuid.uuid4().hex

    def too_much(folder):
        (folder / "a.bin").write_bytes(b"x" * 600)
        (folder / "b.bin").write_bytes(b"x" * 600)

    with pytest.raises(TooLarge, match="over the server's limit"):
        store.save(other, too_much)
    with pytest.raises(NotFoundError, match="kept no adapted weights"):
        store.files(other)

    def fails(folder):
        (folder / "half.bin").write_bytes(b"x")
        raise OSError("disk full")

    with pytest.raises(OSError):
        store.save(other, fails)
    assert sorted(p.name for p in tmp_path.iterdir()) == [job]  # no half-written folder
    with pytest.raises(InvalidArgumentError, match="32 lower-case hex"):
        store.files("../etc")
    store.delete(job)
    with pytest.raises(NotFoundError):
        store.files(job)


class _Run:
    def __init__(self, kind, model):
        self.kind, self.model = kind, model


def _pilot(gain: float) -> PretrainingPilot:
    return PretrainingPilot(
        num_train=100,
        base_score=0.5,
        adapted_score=0.5 + gain,
        gain=gain,
        gain_interval=Interval(low=gain - 0.1, high=gain + 0.1),
    )


def test_the_kept_encoder_is_the_best_measured_and_loads_as_an_encoder(tmp_path):
    import torch
    from transformers import AutoTokenizer, BertForMaskedLM

    from embedding_advisor_server.core.backends.torch_encoder import Encoder

    folder = tiny_bert(tmp_path / "tiny", BertForMaskedLM)
    tapt = BertForMaskedLM.from_pretrained(folder)
    dapt = BertForMaskedLM.from_pretrained(folder)
    with torch.no_grad():
        dapt.bert.embeddings.word_embeddings.weight.mul_(2.0)  # tell the two apart
    # Only the pretraining answer and the notes matter here: the rest is left unbuilt.
    advice = Recommendation.model_construct(
        pilot_notes=[],
        pretraining=PretrainingAdvice(
            kind=PretrainingKind.NONE, measured=True, tapt=_pilot(-0.01), dapt=_pilot(0.02)
        ),
    )
    store = ArtifactStore(tmp_path / "artifacts", max_bytes=10**9)
    job = uuid.uuid4().hex
    runs = [_Run("tapt", tapt), _Run("dapt", dapt)]
    kept = keep_adapted(advice, runs, AutoTokenizer.from_pretrained(folder), store, job)
    weights = kept.pretraining.adapted_weights
    # The advice is none: the pilot with the largest gain (DAPT) is kept for the user to try.
    assert weights.kind is PretrainingKind.DAPT and "model.safetensors" in weights.files
    assert weights.size_bytes == sum(p.stat().st_size for p in store.files(job))
    encoder = Encoder(store.root / job)
    assert np.allclose(
        encoder.model.embeddings.word_embeddings.weight.detach().numpy(),
        dapt.bert.embeddings.word_embeddings.weight.detach().numpy(),
    )
    features = encoder.sentence_features([("a great film",), ("a dull plot",)], lambda: None)
    assert features.shape == (2, 32) and np.isfinite(features).all()
    # Advised TAPT keeps TAPT's; too large a checkpoint keeps nothing and says so.
    advised = advice.model_copy(
        update={"pretraining": advice.pretraining.model_copy(update={"kind": PretrainingKind.TAPT})}
    )
    small = ArtifactStore(tmp_path / "small", max_bytes=1000)
    refused = keep_adapted(advised, runs, AutoTokenizer.from_pretrained(folder), small, job)
    assert refused.pretraining.adapted_weights is None
    assert any("adapted weights were not kept" in n for n in refused.pilot_notes)
    again = keep_adapted(advised, runs, AutoTokenizer.from_pretrained(folder), store, job)
    assert again.pretraining.adapted_weights.kind is PretrainingKind.TAPT
