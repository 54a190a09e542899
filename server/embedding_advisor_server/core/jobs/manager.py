"""Runs advice jobs on worker threads and fans their progress out to watchers; the store
(``store.py``) keeps every state change."""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from embedding_advisor.errors import (
    AdvisorError,
    FailedPreconditionError,
    JobCancelledError,
    ResourceExhaustedError,
)

from ..schema import AdviceOptions, Job, JobState, Progress, Recommendation
from .store import JobStore, now

log = logging.getLogger(__name__)


class JobControl:
    """Handed to the work: ``report`` progress and ``check`` for cancellation."""

    def __init__(self, job_id: str, publish: Callable[[str, Progress], None]) -> None:
        self.job_id = job_id
        self.cancelled = threading.Event()
        self.cancel_reason = "cancelled by request"
        self._publish = publish
        self._fraction = 0.0

    def check(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelledError(self.cancel_reason)

    def report(self, stage: str, fraction: float, message: str = "") -> None:
        """Publish progress; the fraction never moves backwards (a watcher's bar only grows)."""
        self._fraction = max(self._fraction, min(max(fraction, 0.0), 1.0))
        self._publish(self.job_id, Progress(stage=stage, fraction=self._fraction, message=message))


Work = Callable[[Job, JobControl], Recommendation]

_END = object()
RETRY_SECONDS = 30.0  # the hint a refused job gets: about one pilot stage


class JobManager:
    """Runs jobs on a thread pool and fans their progress out to watchers."""

    def __init__(
        self,
        store: JobStore,
        work: Work,
        max_workers: int = 1,
        max_queued: int | None = None,
        max_per_principal: int | None = None,
    ) -> None:
        """``max_queued``: jobs waiting for a worker, at most; ``max_per_principal``: queued and
        running jobs of one authenticated principal (no such limit without authentication). Past either,
        ``submit`` raises ``ResourceExhaustedError`` with a retry hint."""
        self.store = store
        self.max_queued = max_queued
        self.max_per_principal = max_per_principal
        self._work = work
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="advice")
        self._lock = threading.Lock()
        self._controls: dict[str, JobControl] = {}
        self._watchers: dict[str, list[queue.Queue]] = {}
        # Progress of unfinished jobs, replayed to late watchers.
        self._history: dict[str, list[Progress]] = {}
        self._closing = False
        n = store.mark_interrupted("the server stopped while this job was queued or running")
        if n:
            log.warning("marked %d job(s) from an earlier run as interrupted", n)

    # -- submitting and running -------------------------------------------------------------
    def submit(
        self,
        dataset_id: str,
        test_dataset_id: str | None,
        options: AdviceOptions,
        principal: str | None = None,
    ) -> Job:
        job = Job(
            job_id=uuid.uuid4().hex,
            state=JobState.QUEUED,
            dataset_id=dataset_id,
            test_dataset_id=test_dataset_id,
            options=options,
            create_time=now(),
            progress=Progress(stage="queued", fraction=0.0, message="waiting for a worker"),
        )
        with self._lock:  # counted and inserted as one step: two callers cannot both squeeze in
            self._admit(principal)
            self.store.insert(job, principal)
        self._publish(job.job_id, job.progress)
        control = JobControl(job.job_id, self._publish)
        with self._lock:
            self._controls[job.job_id] = control
        self._pool.submit(self._run, job.job_id, control)
        return job

    def _admit(self, principal: str | None) -> None:
        queued, active = self.store.load(principal)
        if self.max_queued is not None and queued >= self.max_queued:
            raise ResourceExhaustedError(
                f"the queue is full ({queued} jobs waiting for a worker); try again later",
                retry_after=RETRY_SECONDS,
            )
        limited = self.max_per_principal is not None and principal is not None
        if limited and active >= self.max_per_principal:
            raise ResourceExhaustedError(
                f"you have {active} jobs queued or running, the most allowed; wait for one to "
                "finish or cancel one",
                retry_after=RETRY_SECONDS,
            )

    def _run(self, job_id: str, control: JobControl) -> None:
        try:
            if not self.store.start_if_queued(job_id):  # cancelled while queued
                return
            job = self.store.get(job_id)
            control.report("start", 0.0, "started")
            try:
                recommendation = self._work(job, control)
                if not isinstance(recommendation, Recommendation):
                    raise TypeError(
                        f"the work returned {type(recommendation).__name__}, not a Recommendation"
                    )
            except JobCancelledError as exc:
                state = JobState.INTERRUPTED if self._closing else JobState.CANCELLED
                self.store.finish_if_active(job_id, state, str(exc))
            except AdvisorError as exc:
                self.store.finish_if_active(job_id, JobState.FAILED, str(exc))
            except Exception as exc:  # a bug or an unexpected failure: keep the service alive
                log.exception("job %s failed", job_id)
                self.store.finish_if_active(job_id, JobState.FAILED, f"internal error: {exc!r}")
            else:
                self.store.update(
                    job_id,
                    state=JobState.SUCCEEDED,
                    error=None,
                    end_time=now(),
                    recommendation=recommendation,
                    progress=Progress(stage="done", fraction=1.0, message="recommendation ready"),
                )
        finally:
            with self._lock:
                self._controls.pop(job_id, None)
            self._end_watchers(job_id)

    def _publish(self, job_id: str, progress: Progress) -> None:
        self.store.update(job_id, progress=progress)
        with self._lock:
            self._history.setdefault(job_id, []).append(progress)
            watchers = list(self._watchers.get(job_id, []))
        for q in watchers:
            q.put(progress)

    # -- reading and controlling --------------------------------------------------------------
    def get(self, job_id: str) -> Job:
        return self.store.get(job_id)

    def list(self, limit: int = 50, principal: str | None = None) -> list[Job]:
        return self.page(limit, principal)[0]

    def page(
        self, limit: int, principal: str | None = None, after: int | None = None
    ) -> tuple[list[Job], int | None]:
        """A page of jobs, newest first, and where the next one starts (None: the last)."""
        return self.store.list(limit, principal, after)

    def cancel(self, job_id: str, wait_seconds: float = 5.0) -> Job:
        job = self.store.get(job_id)
        if job.state.finished:
            return job
        with self._lock:
            control = self._controls.get(job_id)
        if job.state is JobState.QUEUED and self.store.finish_if_active(
            job_id, JobState.CANCELLED, "cancelled by request before it started"
        ):
            self._end_watchers(job_id)
            return self.store.get(job_id)
        if control is not None:
            control.cancelled.set()
            for _ in self.watch(job_id, timeout=wait_seconds):
                pass
        return self.store.get(job_id)

    def delete(self, job_id: str) -> None:
        """Remove a finished job's record; ``FailedPreconditionError`` while it is queued or
        running, ``NotFoundError`` when there is none."""
        job = self.store.get(job_id)
        if not job.state.finished or not self.store.delete_if_finished(job_id):
            raise FailedPreconditionError(
                f"job {job_id} is {self.store.get(job_id).state.value}: cancel it before deleting it"
            )

    def _end_watchers(self, job_id: str) -> None:
        with self._lock:
            self._history.pop(job_id, None)
            watchers = self._watchers.pop(job_id, [])
        for q in watchers:
            q.put(_END)

    def watch(
        self, job_id: str, stop: threading.Event | None = None, timeout: float | None = None
    ) -> Iterator[Progress | Job]:
        """Yield every progress event of the job so far, then each new one, then the job once it
        has ended (a finished job: only the job).

        Stops early, yielding nothing more, when ``stop`` is set or ``timeout`` seconds pass.
        """
        q: queue.Queue = queue.Queue()
        with self._lock:  # snapshot and subscribe at once: no event lost or repeated
            self._watchers.setdefault(job_id, []).append(q)
            past = list(self._history.get(job_id, []))
        try:
            job = self.store.get(job_id)
            if not job.state.finished:
                yield from past
                deadline = None if timeout is None else now().timestamp() + timeout
                while True:
                    if (stop is not None and stop.is_set()) or (
                        deadline is not None and now().timestamp() > deadline
                    ):
                        return
                    try:
                        item = q.get(timeout=0.2)
                    except queue.Empty:
                        if self.store.get(job_id).state.finished:
                            break
                        continue
                    if item is _END:
                        break
                    yield item
            yield self.store.get(job_id)
        finally:
            with self._lock:
                watchers = self._watchers.get(job_id, [])
                if q in watchers:
                    watchers.remove(q)

    def close(self, wait: bool = True) -> None:
        """Stop running jobs (they end as interrupted) and the workers."""
        self._closing = True
        with self._lock:
            controls = list(self._controls.values())
        for control in controls:
            control.cancel_reason = "the server shut down while this job was running"
            control.cancelled.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)
        self.store.mark_interrupted("the server shut down before this job ran")
