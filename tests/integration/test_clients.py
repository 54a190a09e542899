"""The client library as a program uses it: the asyncio client against the real server, overall
deadlines that cancel the job, gRPC's own retries of the calls safe to repeat (and no retry of
the one that is not), typed enums, and every error class exported."""

from __future__ import annotations

import asyncio
import inspect
import time
from concurrent import futures

import grpc
import pytest

import embedding_advisor
from embedding_advisor import (
    AdvisorClient,
    AsyncAdvisorClient,
    Confidence,
    DeadlineExceededError,
    JobState,
    ServerUnavailableError,
    errors,
    options,
    pb,
)
from embedding_advisor.v1 import advisor_pb2_grpc


def test_the_async_client_reads_what_the_sync_one_made(server, reviews_job):
    job, _ = reviews_job

    async def main():
        async with AsyncAdvisorClient(server.target, timeout=60) as client:
            await client.wait_ready(10)
            info = await client.server_info()
            events = [e async for e in client.watch(job.job_id)]  # a finished job: one event
            listed = await client.list_jobs()
            with pytest.raises(errors.NotFoundError):
                await client.get_job("0" * 32)
            return info, events, listed

    info, events, listed = asyncio.run(main())
    assert info.version == embedding_advisor.__version__
    assert events[-1].job.state == JobState.SUCCEEDED
    rec = events[-1].job.recommendation
    assert Confidence(rec.confidence).word in {"low", "medium", "high"}
    assert job.job_id in {j.job_id for j in listed}


def _cancelled_soon(client: AdvisorClient, job_id: str) -> int:
    for _ in range(100):
        state = client.get_job(job_id).state
        if state != pb.JOB_STATE_RUNNING and state != pb.JOB_STATE_QUEUED:
            return state
        time.sleep(0.2)
    return state


def test_an_overall_deadline_cancels_the_job_sync_and_async(server, small_reviews):
    started = []
    with AdvisorClient(server.target, timeout=60) as client:
        t0 = time.monotonic()
        with pytest.raises(DeadlineExceededError, match="took longer than 3s"):
            client.advise(small_reviews, deadline=3, on_started=started.append)
        assert time.monotonic() - t0 < 10
        assert _cancelled_soon(client, started[0].job_id) == pb.JOB_STATE_CANCELLED

        async def main():
            async with AsyncAdvisorClient(server.target, timeout=60) as aclient:
                await aclient.advise(
                    small_reviews, advice_options=options(seed=5), deadline=3,
                    on_started=started.append,
                )  # fmt: skip

        with pytest.raises(DeadlineExceededError):
            asyncio.run(main())
        assert _cancelled_soon(client, started[1].job_id) == pb.JOB_STATE_CANCELLED


class _Flaky(advisor_pb2_grpc.AdvisorServiceServicer):
    """Answers UNAVAILABLE to the first ``failures`` calls of each method, then succeeds."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: dict[str, int] = {}

    def _maybe_fail(self, name, context):
        self.calls[name] = self.calls.get(name, 0) + 1
        if self.calls[name] <= self.failures:
            context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")

    def GetServerInfo(self, request, context):
        self._maybe_fail("GetServerInfo", context)
        return pb.GetServerInfoResponse(version="flaky")

    def StartAdvice(self, request, context):
        self._maybe_fail("StartAdvice", context)
        return pb.StartAdviceResponse(job=pb.Job(job_id="j"))


@pytest.fixture()
def flaky():
    servicer = _Flaky(failures=2)
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    advisor_pb2_grpc.add_AdvisorServiceServicer_to_server(servicer, srv)
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    yield servicer, f"127.0.0.1:{port}"
    srv.stop(0)


def test_reads_are_retried_on_unavailable_and_starting_a_job_is_not(flaky):
    servicer, target = flaky
    with AdvisorClient(target, timeout=10) as client:
        assert client.server_info().version == "flaky"
        assert servicer.calls["GetServerInfo"] == 3  # two refusals, then the answer
        with pytest.raises(ServerUnavailableError, match="restarting"):
            client.start_advice("d")
        assert servicer.calls["StartAdvice"] == 1  # never twice: that would start two jobs

    async def main():
        servicer.calls.clear()
        async with AsyncAdvisorClient(target, timeout=10) as aclient:
            return await aclient.server_info()

    assert asyncio.run(main()).version == "flaky" and servicer.calls["GetServerInfo"] == 3


def test_every_error_class_and_enum_is_exported():
    exported = set(embedding_advisor.__all__)
    error_classes = {
        name for name, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, errors.AdvisorError) or obj is errors.FieldViolation
    }  # fmt: skip
    assert error_classes <= exported
    for name in exported:
        assert getattr(embedding_advisor, name) is not None
    assert embedding_advisor.pb is pb and JobState.SUCCEEDED == pb.JOB_STATE_SUCCEEDED
