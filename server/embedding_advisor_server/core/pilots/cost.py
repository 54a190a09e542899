"""Cost measurements of a pilot arm: peak resident memory while it runs, inference throughput
with its spread over timed batches, and one request's latency (``deployed.py`` times it)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def rss_bytes() -> int:
    """Current resident set size of this process (Linux ``/proc``; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class PeakMemory:
    """Samples RSS every ``interval`` seconds in a thread; ``added_mib`` = peak - start."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.start_bytes = 0
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_bytes = max(self.peak_bytes, rss_bytes())

    def __enter__(self) -> PeakMemory:
        self.start_bytes = self.peak_bytes = rss_bytes()
        self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_bytes = max(self.peak_bytes, rss_bytes())

    @property
    def added_mib(self) -> float:
        return max(0, self.peak_bytes - self.start_bytes) / 2**20


@dataclass(frozen=True)
class Throughput:
    """Inference speed in examples/s with its 95% interval (``low``..``high``)."""

    rate: float
    low: float
    high: float

    @classmethod
    def point(cls, rate: float) -> Throughput:
        return cls(rate, rate, rate)

    def plus_head(self, head_seconds_per_example: float) -> Throughput:
        """This encoder with a head that adds ``head_seconds_per_example`` to each example."""

        def per(rate: float) -> float:
            return 1.0 / (1.0 / rate + head_seconds_per_example) if rate > 0 else 0.0

        return Throughput(per(self.rate), per(self.low), per(self.high))

    def fields(self) -> dict[str, float]:
        """As ``ArmRun``'s fields."""
        return {
            "examples_per_second": self.rate,
            "examples_per_second_low": self.low,
            "examples_per_second_high": self.high,
        }


def throughput(
    examples: Sequence[int], seconds: Sequence[float], rounds: int = 200, seed: int = 0
) -> Throughput:
    """Examples/s over timed batches (``examples[i]`` took ``seconds[i]``), with a 95% interval
    from resampling the batches: what the machine's noise and the batches' mix of lengths leave
    uncertain about the rate."""
    n = np.asarray(examples, dtype=float)
    t = np.asarray(seconds, dtype=float)
    if not len(n) or t.sum() <= 0:
        return Throughput.point(0.0)
    rate = float(n.sum() / t.sum())
    if len(n) < 2:
        return Throughput.point(rate)
    idx = np.random.default_rng(seed).integers(0, len(n), (rounds, len(n)))
    rates = n[idx].sum(1) / np.maximum(t[idx].sum(1), 1e-12)
    low, high = np.quantile(rates, [0.025, 0.975])
    return Throughput(rate, float(low), float(high))


@dataclass(frozen=True)
class Latency:
    """One request's latency (an example alone, batch size 1), in milliseconds: the median and
    the 95th percentile over the timed requests; zeros where not measured."""

    median_ms: float = 0.0
    p95_ms: float = 0.0

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        if not len(seconds):
            return cls()
        median, p95 = np.quantile(np.asarray(seconds, dtype=float) * 1000.0, [0.5, 0.95])
        return cls(float(median), float(p95))

    def fields(self) -> dict[str, float]:
        """As ``ArmRun``'s fields."""
        return {"latency_ms": self.median_ms, "latency_p95_ms": self.p95_ms}
