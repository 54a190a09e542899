"""The worker process's side (``workers.py`` is the server's): a long-lived child that runs
advice jobs and profiles one at a time, so that their CPU time, their memory and the GIL they hold
stay out of the server's process, which keeps answering calls and health checks.

Messages on its pipe, from the server: ``("run", kind, task_id, args)``, ``("cancel", reason)``;
to the server: ``("progress", stage, fraction, message)``, ``("done", value)``,
``("error", exception)``. The child ends when the pipe closes (the server stopped or died)."""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import queue
import signal
import threading
from dataclasses import dataclass

from embedding_advisor.errors import AdvisorError

from ..config import ServiceConfig
from ..data.blobs import BlobStore
from .artifacts import ArtifactStore
from .manager import JobControl

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parts:
    """What a pipeline is built from; pickled into a worker (the stores travel as they are: their
    start-up tidying, which would remove a running upload's temporary file, does not run again)."""

    blobs: BlobStore
    config: ServiceConfig
    corpora: BlobStore | None = None
    artifacts: ArtifactStore | None = None

    def pipeline(self):
        from ..backends.cache import ResourceCache
        from ..pipeline import Pipeline

        resources = ResourceCache(cache_dir=self.config.cache_dir)
        return Pipeline(self.blobs, resources, self.config, self.corpora, self.artifacts)


class WorkerFailure(Exception):
    """An unexpected failure inside the worker, carried as its ``repr`` (its traceback is in the
    worker's log)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __repr__(self) -> str:
        return self.text


def serve(conn, parts: Parts, niceness: int, warm: bool) -> None:
    """The worker's main loop (the target of its process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if niceness:
        os.nice(niceness)
    pipeline = parts.pipeline()
    tasks: queue.Queue = queue.Queue()
    current: dict[int, JobControl] = {}  # by id(): the next task's arrives before the last's goes

    def send(message) -> None:
        try:
            conn.send(message)
        except OSError:  # the server is gone (the listener ends this worker)
            pass

    def publish(_task_id, progress) -> None:
        send(("progress", progress.stage, progress.fraction, progress.message))

    def listen() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):  # the server is gone: stop what runs, then end
                for control in list(current.values()):
                    control.cancelled.set()
                tasks.put(None)
                later = threading.Timer(5.0, os._exit, (1,))  # a task deaf to the stop
                later.daemon = True
                later.start()
                return
            if message[0] == "cancel":
                for control in list(current.values()):
                    control.cancel_reason = message[1]
                    control.cancelled.set()
            elif message[0] == "run":
                _, kind, task_id, args = message
                control = JobControl(task_id, publish)
                current[id(control)] = control
                tasks.put((kind, args, control))

    threading.Thread(target=listen, name="worker-pipe", daemon=True).start()
    if warm:
        _warm(pipeline)
    while (task := tasks.get()) is not None:
        kind, args, control = task
        try:
            send(("done", _run(pipeline, kind, args, control)))
        except AdvisorError as exc:
            send(("error", exc))
        except Exception as exc:  # a bug: the server records it, the worker lives on
            log.exception("%s failed in the worker", kind)
            send(("error", WorkerFailure(repr(exc))))
        finally:
            current.pop(id(control), None)
            del task, control
            _release()


def _run(pipeline, kind: str, args: tuple, control: JobControl):
    if kind == "advise":
        return pipeline.advise(*args, control)
    if kind == "profile":
        return pipeline.profile(*args, check=control.check)
    raise ValueError(f"unknown task {kind!r}")


def _warm(pipeline) -> None:
    """Load the default models before the first task asks for them (a failure is the task's to
    report, not the warm-up's)."""
    defaults = pipeline.defaults
    try:
        pipeline.resources.vectors(defaults.vectors)
        pipeline.resources.encoder(defaults.encoder)
        pipeline.resources.parser()
    except Exception:  # noqa: BLE001
        log.debug("warming up the default models failed", exc_info=True)


def _release() -> None:
    """Give a finished task's memory back to the system (glibc keeps freed heap otherwise)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
