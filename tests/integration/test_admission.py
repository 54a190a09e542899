"""Admission control on a real server with small limits: a full queue, too many open watches and
too many profiles at once are refused with RESOURCE_EXHAUSTED and a retry hint that reaches the
client, while health keeps answering promptly."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from embedding_advisor import AdvisorClient, ResourceExhaustedError, options


@pytest.fixture()
def small_server(tmp_path):
    from embedding_advisor_server.app import AdvisorServer
    from embedding_advisor_server.settings import ServerSettings

    settings = ServerSettings(
        host="127.0.0.1", port=0, data_dir=tmp_path / "data", workers=1, max_queued_jobs=1,
        max_watchers=2, max_concurrent_profiles=1, max_train_examples=100, budget="quick",
    )  # fmt: skip
    server = AdvisorServer(settings)
    server.start()
    yield server
    server.stop(grace=1)


def _health_ms(target: str) -> float:
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        t0 = time.perf_counter()
        reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        return 1000 * (time.perf_counter() - t0)


def test_a_full_queue_and_too_many_watches_are_refused_with_a_retry_hint(small_server, reviews):
    with AdvisorClient(small_server.target, timeout=60) as client:
        data = client.upload(reviews).dataset_id
        running = client.start_advice(data, advice_options=options(seed=1))
        queued = client.start_advice(data, advice_options=options(seed=2))
        with pytest.raises(ResourceExhaustedError, match="the queue is full") as full:
            client.start_advice(data, advice_options=options(seed=3))
        assert full.value.retry_after == 30.0

        streams = [client.watch(queued.job_id) for _ in range(2)]
        firsts = [next(s) for s in streams]  # both open: the queued job's first event
        assert all(e.HasField("progress") for e in firsts)
        with pytest.raises(ResourceExhaustedError, match="2 job streams are open") as busy:
            next(client.watch(queued.job_id))
        assert busy.value.retry_after == 5.0
        assert _health_ms(small_server.target) < 1000
        for stream in streams:
            stream.close()  # the client leaves: its places come back
        deadline = time.monotonic() + 10
        while True:
            try:
                next(client.watch(queued.job_id))
                break
            except ResourceExhaustedError:
                assert time.monotonic() < deadline, "watch places were not given back"
                time.sleep(0.2)
        for job in (queued, running):
            client.cancel_job(job.job_id)


def test_profiles_past_the_limit_are_refused_while_one_runs(small_server, reviews):
    with AdvisorClient(small_server.target, timeout=300) as client:
        data = client.upload(reviews).dataset_id
        first: dict = {}
        worker = threading.Thread(target=lambda: first.setdefault("p", client.profile(data)))
        worker.start()
        time.sleep(1.0)  # the first profile is loading models: seconds
        assert worker.is_alive()
        with pytest.raises(ResourceExhaustedError, match="1 profiles are being computed") as busy:
            client.profile(data)
        assert busy.value.retry_after == 5.0
        worker.join(300)
        assert first["p"].num_train > 0
        assert client.profile(data).num_train == first["p"].num_train  # free again


def test_a_profile_stops_soon_after_its_callers_deadline(small_server, reviews, tmp_path):
    from conftest import EXAMPLE, read_jsonl, write_jsonl
    from embedding_advisor import DeadlineExceededError

    # 8,000 reviews (the example's 2,000, four times over, each take marked): a profile of them
    # takes about 20 s here, so a 3 s deadline falls well inside it even on a fast machine.
    rows = read_jsonl(EXAMPLE, 2000)
    takes = [{**row, "text": f"{row['text']} (take {k})"} for k in range(4) for row in rows]
    many = write_jsonl(tmp_path / "many-reviews.jsonl", takes)
    with AdvisorClient(small_server.target, timeout=300) as client:
        client.profile(client.upload(reviews).dataset_id)  # models loaded: what remains is work
        big = client.upload(many).dataset_id
    with AdvisorClient(small_server.target, timeout=3) as hurried:
        with pytest.raises(DeadlineExceededError):
            hurried.profile(big)
    gave_up = time.monotonic()
    # The server stops too: its one profile place is free again within about 2 s. A probe
    # refused at once means the abandoned profile still runs; one let in runs out its 0.5 s.
    with AdvisorClient(small_server.target, timeout=0.5) as probe:
        while True:
            try:
                probe.profile(big)
            except ResourceExhaustedError:
                assert time.monotonic() - gave_up < 5, "the abandoned profile ran on"
                time.sleep(0.1)
                continue
            except DeadlineExceededError:
                break
        freed = time.monotonic() - gave_up
    assert freed < 3.0, freed
