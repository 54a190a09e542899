"""Frozen features through ONNX Runtime: the same numbers as torch, cached exports, int8 close."""

from __future__ import annotations

import numpy as np
import pytest

from embedding_advisor import options
from embedding_advisor_server.core.backends.bundled import default_encoder_path
from embedding_advisor_server.core.backends.cache import ResourceCache
from embedding_advisor_server.core.backends.onnx_encoder import OnnxEncoder, providers

SENTENCES = [
    ("A gripping, beautifully shot film.",),
    ("Dull.",),
    ("The plot meanders for two hours and the ending makes no sense at all, sadly.",),
]
PAIRS = [("The cat sat on the mat.", "A cat was sitting on the mat."), ("Yes.", "No way!")]
TOKENS = [["Paris", "Hilton", "visits", "Paris"], ["lol", "#blessed"]]


@pytest.fixture(scope="module")
def encoders(cache_dir):
    res = ResourceCache(cache_dir=cache_dir)
    return res.encoder(None), res.frozen_encoder(None, "onnx_fp32")


def _none() -> None:
    return None


def test_fp32_features_match_torch(encoders):
    torch_enc, onnx_enc = encoders
    assert onnx_enc.backend == "onnxruntime fp32" and torch_enc.backend == "torch eager"
    for inputs in (SENTENCES, PAIRS):
        a = torch_enc.sentence_features(inputs, _none)
        b = onnx_enc.sentence_features(inputs, _none)
        assert a.shape == b.shape == (len(inputs), 384)
        assert np.abs(a - b).max() < 1e-3
    for a, b in zip(
        torch_enc.word_features(TOKENS, _none), onnx_enc.word_features(TOKENS, _none), strict=True
    ):
        assert a.shape == b.shape and np.abs(a - b).max() < 1e-3


def test_export_is_fused_and_cached(encoders, cache_dir):
    import onnx

    _, onnx_enc = encoders
    graph = onnx.load(str(onnx_enc.model_file)).graph
    ops = {node.op_type for node in graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops  # ONNX Runtime's transformer fusions
    files = sorted((cache_dir / "onnx").glob("*.onnx"))
    mtimes = [f.stat().st_mtime_ns for f in files]
    again = OnnxEncoder(default_encoder_path(), cache_dir)  # a new process would do the same
    assert again.model_file == onnx_enc.model_file
    assert [f.stat().st_mtime_ns for f in sorted((cache_dir / "onnx").glob("*.onnx"))] == mtimes
    assert not list((cache_dir / "onnx").glob("*.tmp*"))


def test_int8_features_stay_close(encoders, cache_dir):
    _, fp32 = encoders
    int8 = OnnxEncoder(default_encoder_path(), cache_dir, quantize=True)
    assert int8.backend == "onnxruntime int8" and int8.model_file.name.endswith("-int8.onnx")
    a, b = fp32.sentence_features(SENTENCES, _none), int8.sentence_features(SENTENCES, _none)
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cosine.min() > 0.97 and np.abs(a - b).max() > 1e-4  # close, yet really quantised


def test_providers_fall_back_to_cpu_and_refuse_missing_cuda():
    import onnxruntime as ort

    assert providers("cpu") == ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" in ort.get_available_providers():
        assert providers("auto")[0] == "CUDAExecutionProvider"
    else:
        assert providers("auto") == ["CPUExecutionProvider"]
        with pytest.raises(RuntimeError, match="CUDA"):
            providers("cuda")


def test_bad_backend_name_is_refused_by_the_client():
    with pytest.raises(ValueError, match="onnx-fp32, onnx-int8, torch"):
        options(feature_backend="tensorrt")
