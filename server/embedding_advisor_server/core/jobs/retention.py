"""Retention: what a server keeps for ``retention_days``. Finished jobs (their recommendations and
kept weights) that ended before the cutoff are deleted; then uploads (datasets and corpora) stored
before it that no kept job names and no queued or running job reads. Run at start and hourly."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..data.blobs import BlobStore
from .artifacts import ArtifactStore
from .manager import JobManager
from .store import now

log = logging.getLogger(__name__)
EVERY_SECONDS = 3600.0


@dataclass(frozen=True)
class Expired:
    jobs: int
    uploads: int


def expire(
    jobs: JobManager, artifacts: ArtifactStore, stores: list[BlobStore], cutoff: datetime
) -> Expired:
    """Delete what ended, or was stored, before ``cutoff``."""
    gone_jobs = 0
    for job_id in jobs.store.finished_before(cutoff):
        jobs.delete(job_id)
        artifacts.delete(job_id)
        gone_jobs += 1
    kept = jobs.store.referenced()
    gone_uploads = 0
    for store in stores:
        for id_ in store.ids():
            if id_ in kept or jobs.store.active_reader(id_) is not None:
                continue
            stored = datetime.fromtimestamp((store.root / id_).stat().st_mtime, cutoff.tzinfo)
            if stored < cutoff:
                store.delete(id_)
                jobs.store.forget(store.kind, id_)
                gone_uploads += 1
    return Expired(gone_jobs, gone_uploads)


class Retention:
    """Expires what is older than ``days`` now and every ``EVERY_SECONDS`` until ``stop``."""

    def __init__(self, days: float, *parts) -> None:
        self.days = days
        self.parts = parts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)

    def run_once(self) -> Expired:
        done = expire(*self.parts, now() - timedelta(days=self.days))
        if done.jobs or done.uploads:
            log.info(
                "retention (%g days): deleted %d job(s) and %d upload(s)",
                self.days, done.jobs, done.uploads,
            )  # fmt: skip
        return done

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a locked database, a file in use: try again next time
                log.exception("retention pass failed")
            self._stop.wait(EVERY_SECONDS)

    def stop(self) -> None:
        self._stop.set()
