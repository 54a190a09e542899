"""The Python client of the advisor service. Needs grpcio and protobuf only, never torch.

>>> with AdvisorClient("127.0.0.1:50051") as client:                       # doctest: +SKIP
...     rec = client.advise("train.jsonl", deadline=1800)
...     print(rec.headline)

Failed calls raise the classes of :mod:`embedding_advisor.errors`, never raw gRPC errors.
Reads that are safe to repeat are retried on ``UNAVAILABLE`` by gRPC itself (``channel.py``).
The asyncio client, with the same methods as coroutines, is :mod:`embedding_advisor.aio`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc

from . import errors
from ._rpc import error_from_rpc, translating
from .advice_options import with_corpus
from .channel import open_channel
from .files import CHUNK_BYTES, save_stream, sha256, upload_requests, verify
from .results import recommendation_of
from .v1 import advisor_pb2 as pb
from .v1 import advisor_pb2_grpc

__all__ = ["CHUNK_BYTES", "AdvisorClient", "recommendation_of"]


class Deadline:
    """An overall time limit over several calls: what is left of it for the next one."""

    def __init__(self, seconds: float | None, what: str) -> None:
        self.end = None if seconds is None else time.monotonic() + seconds
        self.seconds, self.what = seconds, what

    def left(self, per_call: float | None) -> float | None:
        """The next call's timeout: the per-call one, cut to what is left."""
        if self.end is None:
            return per_call
        left = self.end - time.monotonic()
        if left <= 0:
            raise self.exceeded()
        return left if per_call is None else min(per_call, left)

    def exceeded(self) -> errors.DeadlineExceededError:
        return errors.DeadlineExceededError(f"{self.what} took longer than {self.seconds:g}s")


class AdvisorClient:
    """A connection to an advisor service at ``target`` (``host:port``).

    ``timeout``: seconds per call (uploads and the job's watch excepted: see ``deadline`` on
    ``advise`` and ``wait``). ``token``: a bearer token for a server that asks for one (sent only
    over TLS, or to this machine). ``tls_ca``: the CA bundle (PEM, a path or bytes) that signed
    the server's certificate: connect over TLS; ``tls_cert`` and ``tls_key``: this client's
    certificate and key, for a server that requires mutual TLS."""

    def __init__(
        self,
        target: str,
        *,
        timeout: float | None = None,
        max_message_bytes: int = 16 * 1024**2,
        token: str | None = None,
        tls_ca: str | Path | bytes | None = None,
        tls_cert: str | Path | bytes | None = None,
        tls_key: str | Path | bytes | None = None,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self._channel, channel = open_channel(
            target, max_message_bytes, token, tls_ca, tls_cert, tls_key
        )
        self._stub = advisor_pb2_grpc.AdvisorServiceStub(channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> AdvisorClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Block until the channel connects; ``ServerUnavailableError`` after ``timeout`` seconds."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise errors.ServerUnavailableError(
                f"the advisor service at {self.target} did not answer within {timeout:g}s"
            ) from None

    # -- datasets -------------------------------------------------------------------------------
    def _upload(self, path, request, rpc, chunk_bytes, stored_as, timeout):
        """Send the file at ``path`` through the upload ``rpc``; its answer, once the server's
        SHA-256 (``stored_as(answer)``, the id it answers with) matches the bytes sent."""
        digest = sha256()
        answer = rpc(upload_requests(path, request, chunk_bytes, digest), timeout=timeout)
        verify(path, digest, stored_as(answer))
        return answer

    @translating
    def upload(
        self, path: str | Path, chunk_bytes: int = CHUNK_BYTES, *, timeout: float | None = None
    ) -> pb.DatasetInfo:
        """Stream a JSONL file to the service; returns its id (SHA-256), task and size.

        Raises ``InvalidDatasetError`` naming every bad line and field.
        """
        rpc, request = self._stub.UploadDataset, pb.UploadDatasetRequest
        answer = self._upload(
            path, request, rpc, chunk_bytes, lambda a: a.dataset.dataset_id, timeout or self.timeout
        )
        return answer.dataset

    @translating
    def upload_corpus(
        self, path: str | Path, chunk_bytes: int = CHUNK_BYTES, *, timeout: float | None = None
    ) -> pb.CorpusInfo:
        """Stream a domain corpus (text, one document per line, or JSONL with a ``text`` field;
        gzip or not) to the service; returns its id and size. Raises ``InvalidArgumentError``
        naming the first bad line and field."""
        rpc, request = self._stub.UploadCorpus, pb.UploadCorpusRequest
        answer = self._upload(
            path, request, rpc, chunk_bytes, lambda a: a.corpus.corpus_id, timeout or self.timeout
        )
        return answer.corpus

    @translating
    def profile(
        self,
        dataset_id: str,
        test_dataset_id: str | None = None,
        advice_options: pb.AdviceOptions | None = None,
    ) -> pb.DatasetProfile:
        request = pb.ProfileRequest(
            dataset_id=dataset_id, test_dataset_id=test_dataset_id or "", options=advice_options
        )
        return self._stub.Profile(request, timeout=self.timeout).profile

    # -- jobs -----------------------------------------------------------------------------------
    @translating
    def start_advice(
        self,
        dataset_id: str,
        test_dataset_id: str | None = None,
        advice_options: pb.AdviceOptions | None = None,
        *,
        timeout: float | None = None,
    ) -> pb.Job:
        request = pb.StartAdviceRequest(
            dataset_id=dataset_id, test_dataset_id=test_dataset_id or "", options=advice_options
        )
        return self._stub.StartAdvice(request, timeout=timeout or self.timeout).job

    def watch(self, job_id: str, timeout: float | None = None) -> Iterator[pb.WatchJobResponse]:
        """Progress events, then one event with the finished job. ``timeout``: on the whole
        stream (``DeadlineExceededError`` when it runs out; the job itself runs on)."""
        call = self._stub.WatchJob(pb.WatchJobRequest(job_id=job_id), timeout=timeout)
        try:
            yield from call
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from None
        finally:
            call.cancel()  # a caller that stops reading frees the server's stream at once

    @translating
    def get_job(self, job_id: str) -> pb.Job:
        return self._stub.GetJob(pb.GetJobRequest(job_id=job_id), timeout=self.timeout).job

    @translating
    def jobs_page(self, page_size: int = 50, page_token: str = "") -> tuple[list[pb.Job], str]:
        """One page of jobs, newest first, and the next page's token ("" on the last)."""
        request = pb.ListJobsRequest(page_size=page_size, page_token=page_token)
        reply = self._stub.ListJobs(request, timeout=self.timeout)
        return list(reply.jobs), reply.next_page_token

    def list_jobs(self, page_size: int = 50) -> list[pb.Job]:
        """The newest ``page_size`` jobs (``iter_jobs`` for all of them)."""
        return self.jobs_page(page_size)[0]

    def iter_jobs(self, page_size: int = 100) -> Iterator[pb.Job]:
        """Every job the caller may see, newest first, a page at a time."""
        token = ""
        while True:
            jobs, token = self.jobs_page(page_size, token)
            yield from jobs
            if not token:
                return

    @translating
    def delete_dataset(self, dataset_id: str) -> bool:
        """Remove an uploaded dataset or corpus (yours; the file too unless someone else uploaded
        it as well: then False). ``FailedPreconditionError`` while a job reads it."""
        request = pb.DeleteDatasetRequest(dataset_id=dataset_id)
        return self._stub.DeleteDataset(request, timeout=self.timeout).removed

    @translating
    def server_info(self) -> pb.GetServerInfoResponse:
        """The server's version, machine and defaults."""
        return self._stub.GetServerInfo(pb.GetServerInfoRequest(), timeout=self.timeout)

    @translating
    def cancel_job(self, job_id: str, *, timeout: float | None = None) -> pb.Job:
        request = pb.CancelJobRequest(job_id=job_id)
        return self._stub.CancelJob(request, timeout=timeout or self.timeout).job

    @translating
    def delete_job(self, job_id: str) -> None:
        """Remove a finished job and the files it kept (``FailedPreconditionError`` while it
        runs: cancel it first)."""
        self._stub.DeleteJob(pb.DeleteJobRequest(job_id=job_id), timeout=self.timeout)

    @translating
    def download_adapted(self, job_id: str, folder: str | Path) -> Path:
        """Save the adapted encoder a job kept into ``folder`` (new or empty), in Hugging Face
        format: loadable with ``options(encoder=...)`` on a server that can read it. Written to a
        temporary folder beside it and renamed when complete; ``NotFoundError`` when the job kept
        none."""
        return save_stream(
            self._stub.DownloadAdaptedWeights(
                pb.DownloadAdaptedWeightsRequest(job_id=job_id), timeout=self.timeout
            ),
            Path(folder),
        )

    def wait(
        self,
        job_id: str,
        on_progress: Callable[[pb.Progress], None] | None = None,
        deadline: float | None = None,
    ) -> pb.Job:
        """Watch a job to its end; returns the finished job, whatever its state.
        ``deadline``: seconds to wait at most (``DeadlineExceededError``; the job runs on)."""
        limit = Deadline(deadline, f"waiting for job {job_id}")
        for event in self.watch(job_id, timeout=limit.left(None)):
            if event.HasField("progress"):
                if on_progress:
                    on_progress(event.progress)
            else:
                return event.job
        return self.get_job(job_id)  # the stream ended early (server going away): ask once more

    def advise(
        self,
        path: str | Path,
        test_path: str | Path | None = None,
        advice_options: pb.AdviceOptions | None = None,
        on_progress: Callable[[pb.Progress], None] | None = None,
        on_started: Callable[[pb.Job], None] | None = None,
        corpus_path: str | Path | None = None,
        deadline: float | None = None,
    ) -> pb.Recommendation:
        """Upload, start, watch: the recommendation, or ``JobFailedError`` / ``JobCancelledError``.
        ``corpus_path``: a domain corpus to upload and measure DAPT on. ``deadline``: seconds for
        all of it; when they run out the job is cancelled and ``DeadlineExceededError`` raised."""
        limit = Deadline(deadline, f"advice on {path}")
        train = self.upload(path, timeout=limit.left(self.timeout))
        test = self.upload(test_path, timeout=limit.left(self.timeout)) if test_path else None
        if corpus_path:
            corpus = self.upload_corpus(corpus_path, timeout=limit.left(self.timeout))
            advice_options = with_corpus(advice_options, corpus.corpus_id)
        test_id = test.dataset_id if test else None
        job = self.start_advice(
            train.dataset_id, test_id, advice_options, timeout=limit.left(self.timeout)
        )
        if on_started:
            on_started(job)
        try:
            job = self.wait(job.job_id, on_progress, deadline=limit.left(None))
        except errors.DeadlineExceededError:
            self.cancel_job(job.job_id)
            raise limit.exceeded() from None
        return recommendation_of(job)
