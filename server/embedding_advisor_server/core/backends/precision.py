"""Which precision torch computes in, and where it runs: bf16 only where the hardware has fast bf16
matrix units, fp32 otherwise.

bf16 under ``torch.autocast`` (fp32 master weights, matrix products in bf16) pays only with matrix
units for it: CUDA GPUs from Ampere on, and CPUs with AMX or AVX-512 BF16. Without them torch
emulates bf16 and is far slower than fp32 (an AMD EPYC with AVX2 only: 0.33 GFLOP/s in bf16 vs 130
in fp32 on 2048x2048 products). ``auto`` therefore checks the flags and then times one product in
each precision, once per process, and takes bf16 only when it measures faster.
"""

from __future__ import annotations

import contextlib
import functools
import time
from dataclasses import dataclass

from ..schema import Precision

PROBE_SIZE = 512  # the timed product is PROBE_SIZE x PROBE_SIZE
MIN_SPEEDUP = 1.3  # bf16 must beat fp32 by this much to be chosen by ``auto``


@dataclass(frozen=True)
class Resolved:
    """The precision a job computes in, and why (for the advice)."""

    precision: Precision  # FP32 or BF16
    device: str  # "cpu" or "cuda"
    reason: str

    @property
    def bf16(self) -> bool:
        return self.precision is Precision.BF16

    def describe(self) -> str:
        return f"{self.precision.value} on {self.device} ({self.reason})"

    def autocast(self):
        """The context torch computes in: bf16 autocast, or nothing for fp32."""
        if not self.bf16:
            return contextlib.nullcontext()
        import torch

        return torch.autocast(self.device, dtype=torch.bfloat16)


def device() -> str:
    """``cuda`` when torch sees a GPU, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cpu_bf16_units() -> str:
    """The CPU's bf16 matrix units in words ("" when none)."""
    import torch

    cpu = torch.cpu
    units = []
    if getattr(cpu, "_is_amx_tile_supported", lambda: False)():
        units.append("AMX")
    if getattr(cpu, "_is_avx512_bf16_supported", lambda: False)():
        units.append("AVX-512 BF16")
    return " and ".join(units)


def _seconds(dtype, dev: str, size: int = PROBE_SIZE, repeats: int = 3) -> float:
    import torch

    a = torch.randn(size, size, device=dev).to(dtype)
    b = torch.randn(size, size, device=dev).to(dtype)
    a @ b  # warm up
    if dev == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if dev == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeats


@functools.cache
def measured_speedup(dev: str) -> float:
    """fp32 time / bf16 time of one matrix product on ``dev`` (once per process)."""
    import torch

    return _seconds(torch.float32, dev) / max(_seconds(torch.bfloat16, dev), 1e-9)


def has_bf16_units(dev: str) -> tuple[bool, str]:
    """Whether ``dev`` has bf16 matrix units, and which (or why not), from its flags."""
    if dev == "cuda":
        import torch

        if torch.cuda.is_bf16_supported():
            return True, torch.cuda.get_device_name()
        return False, "this GPU has no bf16 support"
    units = cpu_bf16_units()
    return (True, units) if units else (False, "this CPU has no AMX or AVX-512 BF16 units")


def resolve(requested: Precision, dev: str | None = None) -> Resolved:
    """The precision to compute in for ``requested`` (unspecified: auto) on ``dev`` (default:
    the GPU when torch sees one)."""
    dev = dev or device()
    if requested is Precision.FP32:
        return Resolved(Precision.FP32, dev, "asked for")
    if requested is Precision.BF16:
        return Resolved(Precision.BF16, dev, "asked for")
    fast, what = has_bf16_units(dev)
    if not fast:
        return Resolved(Precision.FP32, dev, what)
    speedup = measured_speedup(dev)
    if speedup < MIN_SPEEDUP:
        return Resolved(
            Precision.FP32, dev, f"{what}, but bf16 measured only {speedup:.1f}x fp32 here"
        )
    return Resolved(Precision.BF16, dev, f"{what}: bf16 measured {speedup:.1f}x fp32")
