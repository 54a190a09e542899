"""The content-addressed dataset store and the SQLite job store / manager, without models."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time

import pytest

from embedding_advisor.errors import (
    FailedPreconditionError,
    InvalidDatasetError,
    NotFoundError,
    ResourceExhaustedError,
)
from embedding_advisor_server.core.data.blobs import BlobStore
from embedding_advisor_server.core.jobs.manager import JobManager
from embedding_advisor_server.core.jobs.store import JobStore
from embedding_advisor_server.core.schema import AdviceOptions, JobState


def test_blob_store_dedupes_and_rejects_cleanly(tmp_path):
    store = BlobStore(tmp_path, max_bytes=100)
    first = store.put([b"abc", b"def"])
    assert first.sha256 == hashlib.sha256(b"abcdef").hexdigest() and not first.already_stored
    again = store.put([b"abcdef"])
    assert again.sha256 == first.sha256 and again.already_stored
    assert store.read(first.sha256) == b"abcdef"

    def reject(path):
        raise InvalidDatasetError("bad")

    with pytest.raises(InvalidDatasetError):
        store.put([b"other"], check=reject)
    with pytest.raises(ResourceExhaustedError):
        store.put([b"x" * 60, b"x" * 60])
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.sha256]  # nothing half-written
    with pytest.raises(NotFoundError):
        store.path("0" * 64)


def test_what_a_killed_upload_left_is_removed_at_start_unless_still_written(tmp_path):
    stale, live = tmp_path / ".upload-abc", tmp_path / ".upload-def"
    stale.write_bytes(b"half a file")
    live.write_bytes(b"still arriving")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    BlobStore(tmp_path, max_bytes=100)
    assert not stale.exists() and live.exists()


def slow_work(started: threading.Event, release: threading.Event):
    def work(job, control):
        started.set()
        for i in range(200):
            control.check()
            control.report("pilot", i / 200, f"step {i}")
            if release.wait(0.02):
                break
        return None

    return work


def test_jobs_survive_a_restart_and_running_ones_become_interrupted(tmp_path):
    db = tmp_path / "jobs.sqlite3"
    started, release = threading.Event(), threading.Event()
    manager = JobManager(JobStore(db), slow_work(started, release))
    job = manager.submit("d" * 64, None, AdviceOptions(seed=5))
    assert started.wait(5)
    assert manager.get(job.job_id).state is JobState.RUNNING
    # Another process opening the same file leaves a live owner's job alone ...
    beside = JobManager(JobStore(db), slow_work(threading.Event(), threading.Event()))
    assert beside.get(job.job_id).state is JobState.RUNNING
    beside.close()
    # ... but once that owner is gone (its lease dropped as a dying process drops it), the
    # next store to open marks the job interrupted.
    os.close(manager.store.lease._fd)
    manager.store.lease._fd = None
    manager2 = JobManager(JobStore(db), slow_work(threading.Event(), threading.Event()))
    again = manager2.get(job.job_id)
    assert again.state is JobState.INTERRUPTED and "stopped" in again.error
    assert again.options.seed == 5
    release.set()
    manager.close()
    manager2.close()


def test_a_killed_process_leaves_its_jobs_to_be_marked_interrupted(tmp_path):
    db = tmp_path / "jobs.sqlite3"
    # A separate process queues a job and dies at once (no cleanup, like kill -9).
    script = (
        "import os, sys, uuid\n"
        "from embedding_advisor_server.core.jobs.store import JobStore, now\n"
        "from embedding_advisor_server.core.schema import AdviceOptions, Job, JobState\n"
        "store = JobStore(__import__('pathlib').Path(sys.argv[1]))\n"
        "store.insert(Job(job_id=uuid.uuid4().hex, state=JobState.RUNNING, dataset_id='d' * 64,"
        " options=AdviceOptions(), create_time=now()))\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(db)], check=True, timeout=60)
    owners = db.parent / "jobs.sqlite3.owners"
    assert len(list(owners.iterdir())) == 1  # its lock file stayed behind, unlocked
    store = JobStore(db)
    assert store.mark_interrupted("gone") == 1
    assert [j.state for j in store.list(10)[0]] == [JobState.INTERRUPTED]
    assert [p.name for p in owners.iterdir()] == [store.lease.owner]  # the stale one tidied up
    store.close()
    assert list(owners.iterdir()) == []


def test_cancel_running_job_stops_it_promptly(tmp_path):
    started, release = threading.Event(), threading.Event()
    manager = JobManager(JobStore(tmp_path / "j.db"), slow_work(started, release))
    job = manager.submit("d" * 64, None, AdviceOptions())
    assert started.wait(5)
    t0 = time.monotonic()
    cancelled = manager.cancel(job.job_id)
    assert cancelled.state is JobState.CANCELLED
    assert time.monotonic() - t0 < 2
    assert manager.cancel(job.job_id).state is JobState.CANCELLED  # idempotent
    manager.close()


def test_cancel_queued_job_never_runs_it(tmp_path):
    started, release = threading.Event(), threading.Event()
    manager = JobManager(JobStore(tmp_path / "j.db"), slow_work(started, release), max_workers=1)
    first = manager.submit("d" * 64, None, AdviceOptions())
    assert started.wait(5)
    second = manager.submit("e" * 64, None, AdviceOptions())
    assert manager.get(second.job_id).state is JobState.QUEUED
    assert manager.cancel(second.job_id).state is JobState.CANCELLED
    release.set()
    events = list(manager.watch(first.job_id))
    assert events[-1].state is JobState.FAILED  # slow_work returns no recommendation: a bug, caught
    assert manager.get(second.job_id).start_time is None
    manager.close()


def test_watch_streams_progress_then_the_finished_job(tmp_path):
    from test_recommend import advise

    rec = advise(encoder_correct=340, static_correct=280)

    def work(job, control):
        for i in range(5):
            control.report("pilot", i / 5, f"step {i}")
            time.sleep(0.05)
        return rec

    manager = JobManager(JobStore(tmp_path / "j.db"), work)
    job = manager.submit("d" * 64, None, AdviceOptions())
    events = list(manager.watch(job.job_id))
    progress, final = events[:-1], events[-1]
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and len(progress) >= 2
    assert final.job_id == job.job_id and final.state is JobState.SUCCEEDED
    # Round-trips through SQLite (compared as JSON: NaN, e.g. an undefined LogME, is not == NaN).
    assert final.recommendation.model_dump_json() == rec.model_dump_json()
    (again,) = manager.watch(job.job_id)  # finished: one event, the job
    assert again.model_dump_json() == manager.get(job.job_id).model_dump_json()
    manager.close()


def test_list_is_newest_first_and_unknown_job_is_not_found(tmp_path):
    manager = JobManager(JobStore(tmp_path / "j.db"), lambda job, control: None)
    ids = [manager.submit("d" * 64, None, AdviceOptions()).job_id for _ in range(3)]
    assert [j.job_id for j in manager.list(10)] == ids[::-1]
    assert len(manager.list(2)) == 2
    with pytest.raises(NotFoundError):
        manager.get("nope")
    manager.close()


def test_a_late_watcher_gets_every_event_so_far(tmp_path):
    reported, release = threading.Event(), threading.Event()

    def work(job, control):
        for i in range(3):
            control.report("pilot", i / 10, f"step {i}")
        reported.set()
        while not release.wait(0.02):
            control.check()
        return None

    manager = JobManager(JobStore(tmp_path / "j.db"), work)
    job = manager.submit("d" * 64, None, AdviceOptions())
    assert reported.wait(5)
    events = manager.watch(job.job_id)
    seen = [next(events).message for _ in range(5)]
    assert seen == ["waiting for a worker", "started", "step 0", "step 1", "step 2"]
    assert manager.cancel(job.job_id).state is JobState.CANCELLED
    assert next(events).state is JobState.CANCELLED  # the watcher sees the end
    manager.close()


def test_a_finished_job_can_be_deleted_a_running_one_cannot(tmp_path):
    started, release = threading.Event(), threading.Event()
    manager = JobManager(JobStore(tmp_path / "jobs.sqlite3"), slow_work(started, release))
    job = manager.submit("d" * 64, None, AdviceOptions())
    assert started.wait(5)
    with pytest.raises(FailedPreconditionError, match="running: cancel it before deleting it"):
        manager.delete(job.job_id)
    manager.cancel(job.job_id)
    manager.delete(job.job_id)
    with pytest.raises(NotFoundError):
        manager.get(job.job_id)
    with pytest.raises(NotFoundError):
        manager.delete(job.job_id)


def test_admission_refuses_past_the_queue_and_per_principal_limits_with_a_retry_hint(tmp_path):
    started, release = threading.Event(), threading.Event()
    manager = JobManager(
        JobStore(tmp_path / "j.db"), slow_work(started, release), max_workers=1, max_queued=2,
        max_per_principal=2,
    )  # fmt: skip
    running = manager.submit("d" * 64, None, AdviceOptions(), "ann")
    assert started.wait(5)
    manager.submit("d" * 64, None, AdviceOptions(), "ann")  # queued: ann has 2 now
    with pytest.raises(ResourceExhaustedError, match="you have 2 jobs") as refused:
        manager.submit("d" * 64, None, AdviceOptions(), "ann")
    assert refused.value.retry_after == 30.0
    manager.submit("d" * 64, None, AdviceOptions(), "bob")  # another principal: queued, 2 waiting
    with pytest.raises(ResourceExhaustedError, match="the queue is full") as full:
        manager.submit("d" * 64, None, AdviceOptions(), "cy")
    assert full.value.retry_after > 0
    assert len(manager.list(10)) == 3  # nothing refused was stored
    # Room again once a job ends.
    manager.cancel(running.job_id)
    assert manager.submit("d" * 64, None, AdviceOptions(), "ann").state is JobState.QUEUED
    release.set()
    manager.close()


def test_concurrent_submits_cannot_both_take_the_last_place(tmp_path):
    started, release = threading.Event(), threading.Event()
    manager = JobManager(
        JobStore(tmp_path / "j.db"), slow_work(started, release), max_workers=1, max_queued=1
    )
    manager.submit("d" * 64, None, AdviceOptions())
    assert started.wait(5)  # running: the queue is empty, one place left
    outcomes, barrier = [], threading.Barrier(8)

    def submit():
        barrier.wait()
        try:
            manager.submit("d" * 64, None, AdviceOptions())
            outcomes.append("queued")
        except ResourceExhaustedError:
            outcomes.append("refused")

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["queued"] + ["refused"] * 7
    release.set()
    manager.close()
