"""Inference cost: throughput over timed batches with its interval, and a head's share added."""

from __future__ import annotations

import time

import numpy as np
import pytest

from embedding_advisor_server.core.pilots.cost import PeakMemory, Throughput, throughput


def test_throughput_is_examples_over_seconds_with_an_interval_from_the_batches():
    rng = np.random.default_rng(0)
    seconds = 0.2 * (1 + 0.2 * rng.standard_normal(40)).clip(0.5)
    t = throughput([32] * 40, seconds, seed=1)
    assert t.rate == pytest.approx(32 * 40 / seconds.sum())
    assert t.low < t.rate < t.high and (t.high - t.low) / t.rate < 0.2
    # Noisier batches, a wider interval; the same batches and seed, the same interval.
    noisy = throughput([32] * 40, seconds * (1 + rng.uniform(-0.6, 0.6, 40)), seed=1)
    assert noisy.high - noisy.low > t.high - t.low
    assert throughput([32] * 40, seconds, seed=1) == t


def test_one_batch_or_none_gives_a_point():
    assert throughput([32], [0.5]) == Throughput.point(64.0)
    assert throughput([], []) == Throughput.point(0.0)


def test_a_head_adds_its_time_to_every_bound():
    encoder = Throughput(100.0, 80.0, 125.0)
    with_head = encoder.plus_head(0.002)  # 2 ms per example
    assert with_head.rate == pytest.approx(1 / (0.01 + 0.002))
    assert with_head.low == pytest.approx(1 / (1 / 80 + 0.002))
    assert with_head.high == pytest.approx(1 / (1 / 125 + 0.002))
    assert encoder.plus_head(0.0) == encoder


def test_peak_memory_sees_what_the_work_allocated_and_gave_back():
    """The sampler catches a 256 MiB peak that is freed again before the block ends."""
    with PeakMemory(interval=0.005) as peak:
        block = np.ones(256 * 2**20, dtype=np.uint8)  # touched: resident
        time.sleep(0.05)
        del block
    assert 200 <= peak.added_mib <= 400
    with PeakMemory() as idle:
        pass
    assert idle.added_mib < 50
