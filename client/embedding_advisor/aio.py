"""The asyncio client (``grpc.aio``): the sync client's methods as coroutines, with the same
options (TLS, token, timeouts, retries) and the same errors.

>>> async with AsyncAdvisorClient("127.0.0.1:50051") as client:          # doctest: +SKIP
...     rec = await client.advise("train.jsonl", deadline=1800)
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import grpc.aio

from . import errors
from ._rpc import error_from_rpc
from .advice_options import with_corpus
from .channel import channel_options, credentials_for
from .client import Deadline
from .files import CHUNK_BYTES, Download, sha256, upload_requests, verify
from .results import recommendation_of
from .v1 import advisor_pb2 as pb
from .v1 import advisor_pb2_grpc


def _translating(method):
    @functools.wraps(method)
    async def wrapper(*args, **kwargs):
        try:
            return await method(*args, **kwargs)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from None

    return wrapper


class AsyncAdvisorClient:
    """An asyncio connection to an advisor service; see ``AdvisorClient`` for the arguments."""

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
        options = channel_options(max_message_bytes)
        credentials = credentials_for(target, token, tls_ca, tls_cert, tls_key)
        if credentials is not None:
            self._channel = grpc.aio.secure_channel(target, credentials, options=options)
        else:
            self._channel = grpc.aio.insecure_channel(target, options=options)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._stub = advisor_pb2_grpc.AdvisorServiceStub(self._channel)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncAdvisorClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    def _call(self, timeout: float | None = None) -> dict:
        return {"timeout": timeout or self.timeout, "metadata": self._metadata}

    async def wait_ready(self, timeout: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self._channel.channel_ready(), timeout)
        except asyncio.TimeoutError:
            raise errors.ServerUnavailableError(
                f"the advisor service at {self.target} did not answer within {timeout:g}s"
            ) from None

    async def _upload(self, path, request, rpc, chunk_bytes, stored_as, timeout):
        digest = sha256()
        answer = await rpc(upload_requests(path, request, chunk_bytes, digest), **self._call(timeout))
        verify(path, digest, stored_as(answer))
        return answer

    @_translating
    async def upload(
        self, path: str | Path, chunk_bytes: int = CHUNK_BYTES, *, timeout: float | None = None
    ) -> pb.DatasetInfo:
        answer = await self._upload(
            path, pb.UploadDatasetRequest, self._stub.UploadDataset, chunk_bytes,
            lambda a: a.dataset.dataset_id, timeout,
        )  # fmt: skip
        return answer.dataset

    @_translating
    async def upload_corpus(
        self, path: str | Path, chunk_bytes: int = CHUNK_BYTES, *, timeout: float | None = None
    ) -> pb.CorpusInfo:
        answer = await self._upload(
            path, pb.UploadCorpusRequest, self._stub.UploadCorpus, chunk_bytes,
            lambda a: a.corpus.corpus_id, timeout,
        )  # fmt: skip
        return answer.corpus

    @_translating
    async def profile(
        self,
        dataset_id: str,
        test_dataset_id: str | None = None,
        advice_options: pb.AdviceOptions | None = None,
    ) -> pb.DatasetProfile:
        request = pb.ProfileRequest(
            dataset_id=dataset_id, test_dataset_id=test_dataset_id or "", options=advice_options
        )
        return (await self._stub.Profile(request, **self._call())).profile

    @_translating
    async def start_advice(
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
        return (await self._stub.StartAdvice(request, **self._call(timeout))).job

    async def watch(
        self, job_id: str, timeout: float | None = None
    ) -> AsyncIterator[pb.WatchJobResponse]:
        """Progress events, then one event with the finished job."""
        call = self._stub.WatchJob(
            pb.WatchJobRequest(job_id=job_id), timeout=timeout, metadata=self._metadata
        )
        try:
            async for event in call:
                yield event
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from None
        finally:
            call.cancel()

    @_translating
    async def get_job(self, job_id: str) -> pb.Job:
        return (await self._stub.GetJob(pb.GetJobRequest(job_id=job_id), **self._call())).job

    @_translating
    async def jobs_page(
        self, page_size: int = 50, page_token: str = ""
    ) -> tuple[list[pb.Job], str]:
        request = pb.ListJobsRequest(page_size=page_size, page_token=page_token)
        reply = await self._stub.ListJobs(request, **self._call())
        return list(reply.jobs), reply.next_page_token

    async def list_jobs(self, page_size: int = 50) -> list[pb.Job]:
        return (await self.jobs_page(page_size))[0]

    @_translating
    async def delete_dataset(self, dataset_id: str) -> bool:
        request = pb.DeleteDatasetRequest(dataset_id=dataset_id)
        return (await self._stub.DeleteDataset(request, **self._call())).removed

    @_translating
    async def server_info(self) -> pb.GetServerInfoResponse:
        return await self._stub.GetServerInfo(pb.GetServerInfoRequest(), **self._call())

    @_translating
    async def cancel_job(self, job_id: str) -> pb.Job:
        return (await self._stub.CancelJob(pb.CancelJobRequest(job_id=job_id), **self._call())).job

    @_translating
    async def delete_job(self, job_id: str) -> None:
        await self._stub.DeleteJob(pb.DeleteJobRequest(job_id=job_id), **self._call())

    @_translating
    async def download_adapted(self, job_id: str, folder: str | Path) -> Path:
        download = Download(Path(folder))
        request = pb.DownloadAdaptedWeightsRequest(job_id=job_id)
        try:
            async for message in self._stub.DownloadAdaptedWeights(request, **self._call()):
                download.write(message)
        except BaseException:
            download.abort()
            raise
        return download.finish()

    async def wait(
        self,
        job_id: str,
        on_progress: Callable[[pb.Progress], None] | None = None,
        deadline: float | None = None,
    ) -> pb.Job:
        limit = Deadline(deadline, f"waiting for job {job_id}")
        async for event in self.watch(job_id, timeout=limit.left(None)):
            if event.HasField("progress"):
                if on_progress:
                    on_progress(event.progress)
            else:
                return event.job
        return await self.get_job(job_id)

    async def advise(
        self,
        path: str | Path,
        test_path: str | Path | None = None,
        advice_options: pb.AdviceOptions | None = None,
        on_progress: Callable[[pb.Progress], None] | None = None,
        on_started: Callable[[pb.Job], None] | None = None,
        corpus_path: str | Path | None = None,
        deadline: float | None = None,
    ) -> pb.Recommendation:
        """As ``AdvisorClient.advise``; cancelling the task also cancels the job."""
        limit = Deadline(deadline, f"advice on {path}")
        train = await self.upload(path, timeout=limit.left(self.timeout))
        test = await self.upload(test_path, timeout=limit.left(self.timeout)) if test_path else None
        if corpus_path:
            corpus = await self.upload_corpus(corpus_path, timeout=limit.left(self.timeout))
            advice_options = with_corpus(advice_options, corpus.corpus_id)
        test_id = test.dataset_id if test else None
        job = await self.start_advice(
            train.dataset_id, test_id, advice_options, timeout=limit.left(self.timeout)
        )
        if on_started:
            on_started(job)
        try:
            job = await self.wait(job.job_id, on_progress, deadline=limit.left(None))
        except errors.DeadlineExceededError:
            await self.cancel_job(job.job_id)
            raise limit.exceeded() from None
        except asyncio.CancelledError:
            await asyncio.shield(self.cancel_job(job.job_id))
            raise
        return recommendation_of(job)
