"""One request's latency (``pilots/deployed.py``): each held-out example featurised and predicted
alone, the median and p95 of what that took; not measured, and said, once the budget is spent.
The pilots and the head are small stand-ins: the subject is the timing loop (the runner's test
times real heads)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np

from embedding_advisor_server.core.pilots.arms import STATIC, arm
from embedding_advisor_server.core.pilots.cost import Latency
from embedding_advisor_server.core.pilots.deployed import REQUESTS, WARM_UP, request_latency
from embedding_advisor_server.core.pilots.heads.base import HeadRun
from embedding_advisor_server.core.progress import OutOfTime, no_check


def _pilots(featurised: list[int]):
    def one(source: str, i: int):
        featurised.append(i)
        return (np.zeros((3, 4), np.float32),)

    return SimpleNamespace(
        seed=0, held_out=list(range(100)), check=no_check, one=one, tagging=False, notes=[]
    )


def test_each_request_is_one_example_featurised_and_predicted_alone():
    featurised: list[int] = []
    batches: list[int] = []

    def predict(x):
        batches.append(len(x))
        time.sleep(0.002)
        return ["a"] * len(x)

    got = request_latency(_pilots(featurised), arm(STATIC), HeadRun(predict, "", 0.0))
    assert batches == [1] * (REQUESTS + WARM_UP)  # batch size 1, warm-ups included
    assert len(set(featurised)) == REQUESTS + WARM_UP  # distinct held-out examples
    assert 2.0 <= got.median_ms <= got.p95_ms


def test_once_the_budget_is_spent_the_latency_is_not_measured_and_a_note_says_so():
    calls = []

    def predict(x):
        calls.append(1)
        if len(calls) > 3:
            raise OutOfTime("the budget is spent")
        return ["a"]

    pilots = _pilots([])
    assert request_latency(pilots, arm(STATIC), HeadRun(predict, "", 0.0)) == Latency()
    assert pilots.notes == [
        "static_bilstm: one request's latency not measured, the budget ran out."
    ]
