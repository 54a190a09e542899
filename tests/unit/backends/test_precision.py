"""Choosing the precision and the device: bf16 only where the flags say the hardware has bf16
matrix units and a timed product confirms it; CUDA when torch sees a GPU. The selection logic is
tested here on the CPU by standing in for what the hardware reports."""

from __future__ import annotations

import pytest
import torch

from embedding_advisor_server.core.backends import precision
from embedding_advisor_server.core.backends.precision import MIN_SPEEDUP, resolve
from embedding_advisor_server.core.schema import Precision


@pytest.fixture
def cpu_with(monkeypatch):
    """Pretend the CPU has (or lacks) bf16 units and that bf16 measures ``speedup`` x fp32."""

    def pretend(units: str, speedup: float = 1.0):
        monkeypatch.setattr(precision, "cpu_bf16_units", lambda: units)
        monkeypatch.setattr(precision, "measured_speedup", lambda dev: speedup)

    return pretend


def test_asked_for_precisions_are_taken_as_given():
    assert resolve(Precision.FP32, "cpu").precision is Precision.FP32
    forced = resolve(Precision.BF16, "cpu")
    assert forced.bf16 and forced.reason == "asked for"


def test_auto_without_bf16_units_stays_fp32_and_says_why(cpu_with):
    cpu_with("")
    chosen = resolve(Precision.AUTO, "cpu")
    assert chosen.precision is Precision.FP32
    assert chosen.describe() == "fp32 on cpu (this CPU has no AMX or AVX-512 BF16 units)"
    assert resolve(Precision.UNSPECIFIED, "cpu").precision is Precision.FP32


def test_auto_with_units_takes_bf16_only_when_it_measures_faster(cpu_with):
    cpu_with("AMX and AVX-512 BF16", speedup=6.2)
    fast = resolve(Precision.AUTO, "cpu")
    assert fast.bf16 and "AMX" in fast.reason and "6.2x" in fast.reason
    cpu_with("AVX-512 BF16", speedup=MIN_SPEEDUP - 0.1)
    slow = resolve(Precision.AUTO, "cpu")
    assert slow.precision is Precision.FP32 and "measured only" in slow.reason


def test_this_machines_flags_and_a_real_timed_product_agree():
    """On the machine the suite runs on: whatever it has, auto's pick is consistent with it."""
    chosen = resolve(Precision.AUTO, "cpu")
    units = precision.cpu_bf16_units()
    if not units:
        assert chosen.precision is Precision.FP32
    else:
        assert chosen.bf16 == (precision.measured_speedup("cpu") >= MIN_SPEEDUP)


def test_a_gpu_is_chosen_when_torch_sees_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "NVIDIA H200")
    monkeypatch.setattr(precision, "measured_speedup", lambda dev: 8.0)
    assert precision.device() == "cuda"
    chosen = resolve(Precision.AUTO)
    assert chosen.device == "cuda" and chosen.bf16 and "H200" in chosen.reason
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert resolve(Precision.AUTO).precision is Precision.FP32


def test_autocast_computes_matrix_products_in_bf16_only_when_chosen():
    a = torch.randn(4, 4)
    with resolve(Precision.BF16, "cpu").autocast():
        assert (a @ a).dtype is torch.bfloat16
    with resolve(Precision.FP32, "cpu").autocast():
        assert (a @ a).dtype is torch.float32


def test_the_onnx_providers_follow_the_device(monkeypatch):
    import onnxruntime as ort

    from embedding_advisor_server.core.backends.onnx_encoder import providers

    assert providers("auto")[-1] == "CPUExecutionProvider"
    monkeypatch.setattr(
        ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    assert providers("auto")[0] == "CUDAExecutionProvider"
    assert providers("cpu") == ["CPUExecutionProvider"]
