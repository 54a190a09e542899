"""Worker processes, the server's side (``child.py`` is the worker's): advice jobs and profiles
run in long-lived child processes at a lower CPU priority, so that a training job can neither
starve the server's calls (health included) of CPU or of the GIL, nor keep its memory after it
ends: a task that does not stop within ``grace`` seconds of being asked is ended with its process,
which gives all of it back.

A worker keeps its loaded models between tasks; a pool hands out idle workers and starts one
when none is idle (the callers bound how many run at once)."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from embedding_advisor.errors import AdvisorError, JobCancelledError

from ..progress import Check, Publish, no_check
from .child import Parts, serve

log = logging.getLogger(__name__)
# "spawn": a fresh interpreter, never a fork of a server that runs gRPC's threads.
_CONTEXT = multiprocessing.get_context("spawn")


class WorkerDiedError(AdvisorError):
    """The worker process ended in the middle of a task."""


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = ": out of memory, most likely" if -exitcode == signal.SIGKILL else ""
        return f"the worker process was killed by {name}{hint}"
    return f"the worker process ended (exit status {exitcode})"


class Worker:
    """One worker process and its pipe."""

    def __init__(self, parts: Parts, niceness: int = 0, warm: bool = False) -> None:
        self._conn, theirs = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(
            target=serve, args=(theirs, parts, niceness, warm), name="advisor-worker", daemon=True
        )
        self.process.start()
        theirs.close()

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def run(
        self,
        kind: str,
        task_id: str,
        args: tuple,
        check: Check = no_check,
        publish: Publish | None = None,
        grace: float = 1.5,
    ):
        """Run one task and return its value, raising what it raised. ``check`` (the caller's
        stop: it raises the reason) is called every 0.05 s; once it raises, the worker is asked to
        stop, and ended with its process after ``grace`` seconds; the reason is raised either
        way. The task's progress goes to ``publish``."""
        self._conn.send(("run", kind, task_id, args))
        reason: Exception | None = None
        asked = 0.0
        while True:
            if self._conn.poll(0.05):
                try:
                    message = self._conn.recv()
                except (EOFError, OSError):
                    raise self._died() from None
                if message[0] == "progress":
                    if publish is not None:
                        publish(*message[1:])
                elif message[0] == "done":
                    return message[1]
                else:  # the task's own error, or its answer to our stop
                    error = message[1]
                    stopped = reason is not None and isinstance(error, JobCancelledError)
                    raise reason if stopped else error
            elif not self.alive:
                raise self._died()
            if reason is None:
                try:
                    check()
                except Exception as exc:  # noqa: BLE001 - whatever check raises is the reason
                    reason = exc
                    self._conn.send(("cancel", str(reason)))
                    asked = time.monotonic()
            elif time.monotonic() - asked > grace:
                log.warning("a %s did not stop within %.1f s: ending its worker", kind, grace)
                self.close()
                raise reason

    def _died(self) -> WorkerDiedError:
        self.process.join(5)
        return WorkerDiedError(_death(self.process.exitcode))

    def close(self, wait: float = 2.0) -> None:
        """End the process: the pipe closes (it ends itself), then SIGTERM, then SIGKILL."""
        self._conn.close()
        self.process.join(min(wait, 0.5))
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(wait)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(wait)


class WorkerPool:
    """Idle workers, handed out one task at a time; a new one starts when none is idle."""

    def __init__(self, parts: Parts, niceness: int = 0) -> None:
        self.parts = parts
        self.niceness = niceness
        self._idle: list[Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(self, warm: bool = True) -> None:
        """Start one worker now (loading the default models when ``warm``), so that the first
        task does not wait for it."""
        with self._lock:
            if not self._idle and not self._closed:
                self._idle.append(Worker(self.parts, self.niceness, warm))

    @contextmanager
    def worker(self) -> Iterator[Worker]:
        with self._lock:
            if self._closed:
                raise AdvisorError("the server is shutting down")
            while self._idle and not self._idle[-1].alive:
                self._idle.pop()
            worker = self._idle.pop() if self._idle else Worker(self.parts, self.niceness)
        try:
            yield worker
        finally:
            with self._lock:
                keep = worker.alive and not self._closed
                if keep:
                    self._idle.append(worker)
            if not keep:
                worker.close()

    def run(self, kind: str, task_id: str, args: tuple, check=no_check, publish=None, grace=1.5):
        with self.worker() as worker:
            return worker.run(kind, task_id, args, check, publish, grace)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()
