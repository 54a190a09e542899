"""What an option costs as deployed, measured on this machine: its batched inference throughput
(``throughput``) and one request's latency (``request_latency``). Both are ``ArmRun`` fields
(``deployed_costs``).

Throughput is the batched rate: batching shares each forward pass among many examples, so it says
nothing about one request. Latency times a held-out example alone (batch size 1), from its raw
input to its prediction: the option's featurisation of that one example (the frozen encoder run on
it alone, or its word vectors looked up) and its head's prediction. ``--max-latency-ms`` is
checked against the 95th percentile measured here (``decision/decide.py``)."""

from __future__ import annotations

import time

import numpy as np

from ..progress import OutOfTime
from ..schema import Embedding
from .arms import ENCODER, ArmSpec
from .cost import Latency, Throughput
from .features import flat
from .heads.base import HeadRun

REQUESTS = 24  # timed requests per option
WARM_UP = 2  # untimed first requests (lazy initialisation, caches)


def deployed_costs(pilots, spec: ArmSpec, head: HeadRun, predict_seconds: float) -> dict:
    """``spec``'s throughput and latency as ``ArmRun`` fields; ``head`` is its fitted headline
    head, which took ``predict_seconds`` to predict the held-out examples in batches."""
    rate = throughput(pilots, spec, predict_seconds / len(pilots.held_out))
    return rate.fields() | request_latency(pilots, spec, head).fields()


def throughput(pilots, spec: ArmSpec, head_seconds: float) -> Throughput:
    """Inference throughput of ``spec``: an option that runs the encoder (frozen or fine-tuned:
    one architecture) pays the encoder's measured throughput on its runtime
    (``Featuriser.encoder_cost``), the same for all of them, plus its own head's
    ``head_seconds`` per example (a fine-tuned encoder's linear head: nothing measurable); the
    others pay their featurisation of the pool and held-out examples plus the head's time."""
    if spec.features == ENCODER:
        return pilots.encoder_cost().plus_head(head_seconds)
    if spec.family is Embedding.CONTEXTUAL:  # fine-tuned: the encoder and a linear layer
        return pilots.encoder_cost()
    features = pilots.features[spec.features]
    per_example = features.seconds / (len(pilots.pool) + len(pilots.held_out)) + head_seconds
    return Throughput.point(1.0 / per_example if per_example > 0 else 0.0)


def request_latency(pilots, spec: ArmSpec, head: HeadRun, requests: int = REQUESTS) -> Latency:
    """``spec``'s latency over ``requests`` held-out examples (a seeded draw), each featurised
    alone (``Featuriser.one``) and predicted alone by the fitted ``head``. A head fitted under
    the deadline checks it as it predicts: once the budget is spent, the latency is not measured
    (zeros, and a note says so); a cancel still stops the job."""
    order = np.random.default_rng(pilots.seed).permutation(len(pilots.held_out))
    seconds = []
    try:
        for k, i in enumerate(order[: requests + WARM_UP]):
            pilots.check()
            start = time.perf_counter()
            x = pilots.one(spec.features, int(i))
            head.predict(flat([x], pilots.tagging) if spec.pooled else [x])
            if k >= WARM_UP:
                seconds.append(time.perf_counter() - start)
    except OutOfTime:
        pilots.notes.append(f"{spec.id}: one request's latency not measured, the budget ran out.")
        return Latency()
    return Latency.of(seconds)
