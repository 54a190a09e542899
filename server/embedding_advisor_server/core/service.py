"""The advisor's data plane: every operation the service offers, with no knowledge of gRPC."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from embedding_advisor.errors import (
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    NotFoundError,
    ResourceExhaustedError,
)

from . import principal
from .adapt.corpus import check_corpus
from .backends.checks import allowed_roots, check_model_paths
from .config import ServiceConfig
from .data.blobs import BlobStore
from .data.parse import DatasetLimits, Summary, check_file, check_usable
from .jobs.artifacts import ArtifactStore
from .jobs.child import Parts
from .jobs.manager import JobControl, JobManager
from .jobs.retention import Retention
from .jobs.store import JobStore
from .jobs.workers import WorkerPool
from .progress import Check, no_check
from .schema import (
    AdviceOptions,
    CorpusInfo,
    DatasetInfo,
    DatasetProfile,
    Job,
    Progress,
    Recommendation,
)

MAX_PAGE = 1000  # ListJobs' largest page


def _page_token(rowid: int) -> str:
    return base64.urlsafe_b64encode(f"jobs:{rowid}".encode()).decode()


def _page_start(token: str) -> int | None:
    """The row a page token says to continue below; InvalidArgumentError for a bad token."""
    if not token:
        return None
    try:
        kind, _, rowid = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "jobs" and rowid.isdigit():
            return int(rowid)
    except (ValueError, UnicodeDecodeError):
        pass
    raise InvalidArgumentError(
        "invalid page token", [FieldViolation("page_token", "not a token ListJobs returned")]
    )


BUSY_RETRY_SECONDS = 5.0  # the hint for a refused Profile or watch: a profile takes seconds


class AdvisorService:
    def __init__(
        self,
        blob_dir: Path,
        db_path: Path,
        config: ServiceConfig | None = None,
        corpus_dir: Path | None = None,
        artifact_dir: Path | None = None,
    ) -> None:
        """``corpus_dir``, ``artifact_dir``: where domain corpora and the jobs' adapted weights
        are kept (default: ``corpora`` and ``artifacts`` beside ``blob_dir``)."""
        self.config = config or ServiceConfig()
        blob_dir = Path(blob_dir)
        self.blobs = BlobStore(blob_dir, self.config.max_upload_bytes)
        self.corpora = BlobStore(
            corpus_dir or blob_dir.parent / "corpora", self.config.max_corpus_bytes, "corpus"
        )
        self.artifacts = ArtifactStore(
            artifact_dir or blob_dir.parent / "artifacts", self.config.max_artifact_bytes
        )
        parts = Parts(self.blobs, self.config, self.corpora, self.artifacts)
        # Jobs and profiles run in worker processes (``jobs/workers.py``), or here on threads.
        self.pipeline = parts.pipeline() if self.config.isolation == "thread" else None
        self._pools = {
            kind: WorkerPool(parts, self.config.worker_niceness)
            for kind in (("advise", "profile") if self.pipeline is None else ())
        }
        self.jobs = JobManager(
            JobStore(db_path),
            self._advise,
            max_workers=self.config.workers,
            max_queued=self.config.max_queued_jobs,
            max_per_principal=self.config.max_jobs_per_principal,
        )
        self.retention = None
        if self.config.retention_days > 0:
            parts = (self.jobs, self.artifacts, [self.blobs, self.corpora])
            self.retention = Retention(self.config.retention_days, *parts)
            self.retention.start()
        # Calls that hold a server thread for long: bounded, so that the rest stay answered.
        self._profiles = threading.BoundedSemaphore(self.config.max_concurrent_profiles)
        self._watchers = threading.BoundedSemaphore(self.config.max_watchers)

    # -- ownership (``principal.py``): None is everyone; a principal sees its own only ---------
    def _owned(self, store: BlobStore, id_: str) -> Path:
        """The stored file, if the caller may read it: "not found" alike otherwise."""
        path = store.path(id_)
        who = principal.current()
        if who is not None and not self.jobs.store.granted(who, store.kind, id_):
            raise store.not_found(id_)
        return path

    def _given(self, store: BlobStore, blob) -> bool:
        """Record the caller's upload; whether it had these bytes stored before."""
        who = principal.current()
        if who is None:
            return blob.already_stored
        return not self.jobs.store.grant(who, store.kind, blob.sha256)

    def _job(self, job_id: str) -> None:
        """Raise "not found" unless the caller may see the job."""
        who = principal.current()
        if who is not None and self.jobs.store.principal_of(job_id) != who:
            raise NotFoundError(f"no job {job_id!r}")

    def upload(
        self, chunks: Iterable[bytes], filename: str = "", check: Check = no_check
    ) -> DatasetInfo:
        """Store an uploaded JSONL file after checking it; the same bytes are stored once."""
        blob, info = _put(
            self.blobs,
            chunks,
            Path(filename).name or "dataset",
            lambda path, source: self._check_dataset(path, source, check),
            lambda found: {"task": found.task.value, "num_examples": len(found)},
        )
        return DatasetInfo(
            dataset_id=blob.sha256,
            size_bytes=blob.size_bytes,
            task=info["task"],
            num_examples=info["num_examples"],
            already_stored=self._given(self.blobs, blob),
        )

    def _check_dataset(self, path: Path, source: str, check: Check = no_check) -> Summary:
        """The upload's check, streamed (bounded memory, whatever the size): every record, the
        configured limits, and whether the file can take part in an advice."""
        c = self.config
        limits = DatasetLimits(c.max_rows, c.max_line_bytes, c.max_label_chars, c.max_labels)
        found = check_file(path, source, limits, check)
        check_usable(found)
        return found

    def upload_corpus(self, chunks: Iterable[bytes], filename: str = "") -> CorpusInfo:
        """Store an uploaded domain corpus after reading it through once (streaming); the same
        bytes are stored once."""
        blob, stats = _put(
            self.corpora,
            chunks,
            Path(filename).name or "corpus",
            check_corpus,
            lambda found: {
                "documents": found.documents,
                "text_bytes": found.text_bytes,
                "format": found.format,
                "compressed": found.compressed,
            },
        )
        return CorpusInfo(
            corpus_id=blob.sha256,
            size_bytes=blob.size_bytes,
            num_documents=stats["documents"],
            text_bytes=stats["text_bytes"],
            format=stats["format"],
            compressed=stats["compressed"],
            already_stored=self._given(self.corpora, blob),
        )

    def _roots(self):
        return allowed_roots(self.config.model_roots, (self.config.encoder, self.config.vectors))

    def profile(
        self,
        dataset_id: str,
        test_dataset_id: str | None,
        options: AdviceOptions,
        check: Check = no_check,
    ) -> DatasetProfile:
        check_model_paths(options, self._roots())
        self._datasets(dataset_id, test_dataset_id, options)
        if not self._profiles.acquire(blocking=False):
            raise ResourceExhaustedError(
                f"{self.config.max_concurrent_profiles} profiles are being computed; try again "
                "shortly",
                retry_after=BUSY_RETRY_SECONDS,
            )
        try:
            if self.pipeline is not None:
                return self.pipeline.profile(dataset_id, test_dataset_id, options, check)
            args = (dataset_id, test_dataset_id, options)
            return self._pools["profile"].run("profile", "", args, check)
        finally:
            self._profiles.release()

    def _datasets(self, dataset_id: str, test_dataset_id: str | None, options) -> None:
        self._owned(self.blobs, dataset_id)
        if test_dataset_id:
            self._owned(self.blobs, test_dataset_id)
            train, test = self.blobs.read_info(dataset_id), self.blobs.read_info(test_dataset_id)
            if train and test and train["task"] != test["task"]:
                said = f"is {test['task']} where the training file is {train['task']}"
                raise InvalidArgumentError(
                    "the test file does not fit the training file",
                    [FieldViolation("test_dataset_id", said.replace("_", " "))],
                )
        if options.domain_corpus_id:
            self._owned(self.corpora, options.domain_corpus_id)

    def start_advice(
        self, dataset_id: str, test_dataset_id: str | None, options: AdviceOptions
    ) -> Job:
        # Fail fast on a missing dataset or model path rather than in the job.
        self._datasets(dataset_id, test_dataset_id, options)
        check_model_paths(options, self._roots())
        return self.jobs.submit(dataset_id, test_dataset_id, options, principal.current())

    def _advise(self, job: Job, control: JobControl) -> Recommendation:
        args = (job.dataset_id, job.test_dataset_id, job.options)
        if self.pipeline is not None:
            return self.pipeline.advise(*args, control)
        return self._pools["advise"].run("advise", job.job_id, args, control.check, control.report)

    def warm_up(self) -> None:
        """Start a job worker now, loading the default models in the background, so that the
        first job does not wait for them (a profile's worker starts with the first Profile)."""
        if "advise" in self._pools:
            self._pools["advise"].start(warm=True)

    def delete_job(self, job_id: str) -> None:
        """Remove a finished job and the files it kept."""
        self._job(job_id)
        self.jobs.delete(job_id)
        self.artifacts.delete(job_id)

    def adapted_weights(self, job_id: str) -> list[Path]:
        """The files of the adapted encoder a job kept (``NotFoundError`` when none)."""
        self._job(job_id)
        return self.artifacts.files(job_id)

    def watch(self, job_id: str, stop: threading.Event | None = None) -> Iterator[Progress | Job]:
        """The job's events; ``ResourceExhaustedError`` when ``max_watchers`` streams are open
        (checked before the first event: the caller iterates at once)."""
        self._job(job_id)
        if not self._watchers.acquire(blocking=False):
            raise ResourceExhaustedError(
                f"{self.config.max_watchers} job streams are open; poll GetJob, or try again "
                "shortly",
                retry_after=BUSY_RETRY_SECONDS,
            )
        return self._watched(self.jobs.watch(job_id, stop))

    def _watched(self, events: Iterator[Progress | Job]) -> Iterator[Progress | Job]:
        try:
            yield from events
        finally:
            self._watchers.release()

    def get_job(self, job_id: str) -> Job:
        self._job(job_id)
        return self.jobs.get(job_id)

    def list_jobs(self, limit: int = 50, page_token: str = "") -> tuple[list[Job], str]:
        """A page of the caller's jobs, newest first, and the next page's token ("" at the end)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidArgumentError(
                "invalid page size", [FieldViolation("page_size", f"must be 1 to {MAX_PAGE}")]
            )
        jobs, last = self.jobs.page(limit, principal.current(), _page_start(page_token))
        return jobs, ("" if last is None else _page_token(last))

    def delete_dataset(self, id_: str) -> bool:
        """Take the caller's upload of a dataset or corpus back; True when its file went too."""
        store = next((s for s in (self.blobs, self.corpora) if s.exists(id_)), None)
        if store is None:
            raise self.blobs.not_found(id_)
        self._owned(store, id_)
        reader = self.jobs.store.active_reader(id_)
        if reader is not None:
            raise FailedPreconditionError(
                f"job {reader} is reading {store.kind} {id_}; cancel it or wait for it to end"
            )
        who = principal.current()
        if who is not None and self.jobs.store.revoke(who, store.kind, id_) > 0:
            return False  # another principal uploaded the same bytes: theirs stays
        store.delete(id_)
        self.jobs.store.forget(store.kind, id_)
        return True

    def cancel_job(self, job_id: str) -> Job:
        self._job(job_id)
        return self.jobs.cancel(job_id)

    def close(self) -> None:
        if self.retention is not None:
            self.retention.stop()
        self.jobs.close()
        for pool in self._pools.values():
            pool.close()
        self.jobs.store.close()


def _put(store: BlobStore, chunks: Iterable[bytes], source: str, read, summary):
    """Store an upload once ``read(path, source)`` accepted it: the blob and ``summary`` of what
    ``read`` made of it. Kept beside the file, so that the same bytes uploaded again are
    recognised by their digest and not parsed again."""
    made = {}

    def check(path: Path) -> None:
        made["value"] = read(path, source)

    blob = store.put(chunks, check)
    info = summary(made["value"]) if "value" in made else store.read_info(blob.sha256)
    fresh = "value" in made or info is None
    if info is None:  # stored before summaries were kept
        info = summary(read(store.path(blob.sha256), source))
    if fresh:
        store.write_info(blob.sha256, info)
    return blob, info
