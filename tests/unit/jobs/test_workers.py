"""Worker processes (``core/jobs/workers.py``, ``child.py``) on a stand-in pipeline: what each task
does is chosen by its dataset id. Real processes, real pipes, real signals."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from embedding_advisor.errors import (
    DeadlineExceededError,
    FieldViolation,
    InvalidDatasetError,
    JobCancelledError,
)
from embedding_advisor_server.core.jobs.child import WorkerFailure
from embedding_advisor_server.core.jobs.workers import WorkerDiedError, WorkerPool


class StandInPipeline:
    defaults = None

    def advise(self, dataset_id, test_dataset_id, options, control):
        if dataset_id == "ok":
            for i in range(3):
                control.report("pilot", i / 4, f"step {i}")
            return {"pid": os.getpid(), "nice": os.nice(0), "options": options}
        if dataset_id == "slow":  # stops at its next check
            while True:
                control.report("pilot", 0.5, "training")
                control.check()
                time.sleep(0.01)
        if dataset_id == "stubborn":  # never checks
            time.sleep(60)
        if dataset_id == "dies":
            os.kill(os.getpid(), signal.SIGKILL)
        if dataset_id == "invalid":
            raise InvalidDatasetError(
                "bad file", [FieldViolation("train.jsonl:3:label", "missing")], retry_after=2.0
            )
        raise ValueError("a bug")

    def profile(self, dataset_id, test_dataset_id, options, check):
        return ("profiled", dataset_id, test_dataset_id)


class StandInParts:
    def pipeline(self):
        return StandInPipeline()


@pytest.fixture()
def pool():
    made = WorkerPool(StandInParts(), niceness=5)
    yield made
    made.close()


def test_a_task_runs_in_a_lower_priority_process_that_is_kept_for_the_next(pool):
    events: list[tuple] = []
    first = pool.run(
        "advise", "job1", ("ok", None, {"seed": 3}), publish=lambda *e: events.append(e)
    )
    assert first["pid"] != os.getpid() and first["nice"] == os.nice(0) + 5
    assert first["options"] == {"seed": 3}
    assert events == [("pilot", 0.0, "step 0"), ("pilot", 0.25, "step 1"), ("pilot", 0.5, "step 2")]
    again = pool.run("advise", "job2", ("ok", None, {}))
    assert again["pid"] == first["pid"]  # the worker (and its loaded models) lives on
    assert pool.run("profile", "", ("ok", "t", {})) == ("profiled", "ok", "t")


def test_errors_come_back_whole_and_a_bug_leaves_the_worker_alive(pool):
    with pytest.raises(InvalidDatasetError) as caught:
        pool.run("advise", "j", ("invalid", None, {}))
    assert caught.value.violations == [FieldViolation("train.jsonl:3:label", "missing")]
    assert caught.value.retry_after == 2.0 and caught.value.message == "bad file"
    with pytest.raises(WorkerFailure) as bug:
        pool.run("advise", "j", ("bug", None, {}))
    assert repr(bug.value) == "ValueError('a bug')"
    assert pool.run("advise", "j", ("ok", None, {}))["nice"] >= 5


def _stop_after(seconds: float, reason: Exception):
    """A check that raises ``reason`` from ``seconds`` on."""
    at = time.monotonic() + seconds

    def check() -> None:
        if time.monotonic() > at:
            raise reason

    return check


def test_a_stop_ends_a_cooperative_task_at_its_next_check_and_keeps_the_worker(pool):
    pid = pool.run("advise", "j", ("ok", None, {}))["pid"]
    reason = DeadlineExceededError("the caller stopped waiting")
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        pool.run("advise", "j", ("slow", None, {}), _stop_after(0.5, reason))
    assert caught.value is reason
    assert time.monotonic() - t0 < 1.5
    assert pool.run("advise", "j", ("ok", None, {}))["pid"] == pid


def test_a_task_that_ignores_the_stop_is_ended_with_its_process_after_the_grace(pool):
    pid = pool.run("advise", "j", ("ok", None, {}))["pid"]
    reason = JobCancelledError("cancelled by request")
    t0 = time.monotonic()
    with pytest.raises(JobCancelledError):
        pool.run("advise", "j", ("stubborn", None, {}), _stop_after(0.3, reason), grace=0.5)
    assert time.monotonic() - t0 < 3.0  # 0.3 s, the 0.5 s grace, then the kill
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone: its memory with it
    assert pool.run("advise", "j", ("ok", None, {}))["pid"] != pid  # a fresh worker


def test_a_worker_that_dies_fails_its_task_with_the_cause_and_is_replaced(pool):
    with pytest.raises(WorkerDiedError, match="SIGKILL: out of memory, most likely"):
        pool.run("advise", "j", ("dies", None, {}))
    assert pool.run("advise", "j", ("ok", None, {}))["nice"] >= 5


def test_workers_run_side_by_side_and_close_ends_them_all(pool):
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(pool.run("advise", "j", ("ok", None, {}))))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    pids = {r["pid"] for r in results}
    assert len(pids) == 2  # one worker each: neither waited for the other's
    pool.close()
    time.sleep(0.5)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
