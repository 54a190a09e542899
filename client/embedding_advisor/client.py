"""The Python client of the advisor service. Needs grpcio and protobuf only, never torch.

>>> with AdvisorClient("127.0.0.1:50051") as client:                       # doctest: +SKIP
...     rec = client.advise("train.jsonl")
...     print(rec.headline)

Failed calls raise the classes of :mod:`embedding_advisor.errors`, never raw gRPC errors.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from . import errors
from .channel import open_channel
from .v1 import advisor_pb2 as pb
from .v1 import advisor_pb2_grpc

CHUNK_BYTES = 1024 * 1024
FINISHED = frozenset(
    {pb.JOB_STATE_SUCCEEDED, pb.JOB_STATE_FAILED, pb.JOB_STATE_CANCELLED, pb.JOB_STATE_INTERRUPTED}
)


def error_from_rpc(exc: grpc.RpcError) -> errors.AdvisorError:
    """Turn a failed call back into the advisor error the service raised."""
    status = rpc_status.from_call(exc) if hasattr(exc, "trailing_metadata") else None
    code = exc.code() if hasattr(exc, "code") else None
    message = exc.details() if hasattr(exc, "details") else str(exc)
    reason, violations = None, []
    if status is not None:
        message = status.message
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                if info.domain == errors.ERROR_DOMAIN:
                    reason = info.reason
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations = [
                    errors.FieldViolation(v.field, v.description) for v in bad.field_violations
                ]
    if reason in errors.ERROR_CLASSES:
        cls = errors.ERROR_CLASSES[reason]
    else:
        by_code = {c.code: c for c in reversed(list(errors.ERROR_CLASSES.values()))}
        cls = by_code.get(code.name if code else "", errors.AdvisorError)
    if cls is errors.ServerUnavailableError:
        message = f"the advisor service is unreachable: {message}"
    return cls(message or (code.name if code else "unknown error"), violations)


def _translating(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from None

    return wrapper


def choices(enum, prefix: str) -> list[str]:
    """The values of a proto enum as users spell them (``FEATURE_BACKEND_ONNX_FP32`` ->
    ``onnx-fp32``), the unspecified one left out."""
    return [k.removeprefix(prefix).lower().replace("_", "-") for k in enum.keys()[1:]]


def _enum(enum, prefix: str, field: str, value: str | None) -> int:
    if not value:
        return 0
    spelled = value.lower().replace("_", "-")
    if spelled not in choices(enum, prefix):
        raise ValueError(
            f"{field} must be one of {', '.join(choices(enum, prefix))}, not {value!r}"
        )
    return enum.Value(prefix + spelled.upper().replace("-", "_"))


def options(
    *,
    encoder: str | None = None,
    vectors: str | None = None,
    seed: int | None = None,
    test_fraction: float | None = None,
    max_train_examples: int | None = None,
    max_eval_examples: int | None = None,
    feature_backend: str | None = None,
    budget: str | None = None,
    budget_seconds: float | None = None,
    target_size: int | None = None,
    priority: str | None = None,
    tolerance_points: float | None = None,
    min_examples_per_second: float | None = None,
    max_latency_ms: float | None = None,
    precision: str | None = None,
    transductive: bool = False,
    domain_corpus_id: str | None = None,
) -> pb.AdviceOptions:
    """Build ``AdviceOptions``; ``None`` leaves the server's default. ``feature_backend``:
    ``onnx-fp32``, ``onnx-int8`` or ``torch``; ``budget``: ``quick``, ``standard`` or
    ``thorough``; ``priority``: ``accuracy``, ``balanced`` or ``cost``; ``precision``: ``auto``,
    ``fp32`` or ``bf16``; ``transductive``: task-adaptive pretraining may read the held-out
    inputs too; ``domain_corpus_id``: an uploaded domain corpus (``AdvisorClient.upload_corpus``)
    for the DAPT pilots."""
    return pb.AdviceOptions(
        priority=_enum(pb.Priority, "PRIORITY_", "priority", priority),
        tolerance_points=tolerance_points,
        min_examples_per_second=min_examples_per_second or 0.0,
        max_latency_ms=max_latency_ms or 0.0,
        feature_backend=_enum(
            pb.FeatureBackend, "FEATURE_BACKEND_", "feature_backend", feature_backend
        ),
        budget=_enum(pb.Budget, "BUDGET_", "budget", budget),
        precision=_enum(pb.Precision, "PRECISION_", "precision", precision),
        budget_seconds=budget_seconds or 0.0,
        target_size=target_size or 0,
        encoder=encoder or "",
        vectors=vectors or "",
        seed=seed,
        test_fraction=test_fraction or 0.0,
        max_train_examples=max_train_examples or 0,
        max_eval_examples=max_eval_examples or 0,
        transductive=transductive,
        domain_corpus_id=domain_corpus_id or "",
    )


class AdvisorClient:
    """A connection to an advisor service at ``target`` (``host:port``).

    ``token``: a bearer token for a server that asks for one (sent only over TLS, or to this
    machine). ``tls_ca``: the CA bundle (PEM, a path or bytes) that signed the server's
    certificate: connect over TLS; ``tls_cert`` and ``tls_key``: this client's certificate and
    key, for a server that requires mutual TLS."""

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
    def _send(self, path: str | Path, request, chunk_bytes: int, local) -> Iterator:
        """The file at ``path`` as upload requests of ``request``'s type, hashed into ``local``."""
        path = Path(path)
        if not path.is_file():
            raise errors.InvalidArgumentError(f"no such file: {path}")

        def requests() -> Iterator:
            with open(path, "rb") as fh:
                first = True
                while True:
                    chunk = fh.read(chunk_bytes)
                    if not chunk and not first:
                        return
                    local.update(chunk)
                    yield request(chunk=chunk, filename=path.name if first else "")
                    first = False
                    if not chunk:
                        return

        return requests()

    def _upload(self, path: str | Path, request, rpc, chunk_bytes: int, stored_as):
        """Send the file at ``path`` through the upload ``rpc``; its answer, once the server's
        SHA-256 (``stored_as(answer)``, the id it answers with) matches the bytes sent."""
        local = hashlib.sha256()
        answer = rpc(self._send(path, request, chunk_bytes, local), timeout=self.timeout)
        stored = stored_as(answer)
        if stored != local.hexdigest():
            raise errors.AdvisorError(
                f"upload of {path} was corrupted: local SHA-256 {local.hexdigest()}, server {stored}"
            )
        return answer

    @_translating
    def upload(self, path: str | Path, chunk_bytes: int = CHUNK_BYTES) -> pb.DatasetInfo:
        """Stream a JSONL file to the service; returns its id (SHA-256), task and size.

        Raises ``InvalidDatasetError`` naming every bad line and field.
        """
        rpc = self._stub.UploadDataset
        answer = self._upload(
            path, pb.UploadDatasetRequest, rpc, chunk_bytes, lambda a: a.dataset.dataset_id
        )
        return answer.dataset

    @_translating
    def upload_corpus(self, path: str | Path, chunk_bytes: int = CHUNK_BYTES) -> pb.CorpusInfo:
        """Stream a domain corpus (text, one document per line, or JSONL with a ``text`` field;
        gzip or not) to the service; returns its id and size. Raises ``InvalidArgumentError``
        naming the first bad line and field."""
        rpc = self._stub.UploadCorpus
        answer = self._upload(
            path, pb.UploadCorpusRequest, rpc, chunk_bytes, lambda a: a.corpus.corpus_id
        )
        return answer.corpus

    @_translating
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
    @_translating
    def start_advice(
        self,
        dataset_id: str,
        test_dataset_id: str | None = None,
        advice_options: pb.AdviceOptions | None = None,
    ) -> pb.Job:
        request = pb.StartAdviceRequest(
            dataset_id=dataset_id, test_dataset_id=test_dataset_id or "", options=advice_options
        )
        return self._stub.StartAdvice(request, timeout=self.timeout).job

    def watch(self, job_id: str) -> Iterator[pb.WatchJobResponse]:
        """Progress events, then one event with the finished job."""
        try:
            yield from self._stub.WatchJob(pb.WatchJobRequest(job_id=job_id))
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from None

    @_translating
    def get_job(self, job_id: str) -> pb.Job:
        return self._stub.GetJob(pb.GetJobRequest(job_id=job_id), timeout=self.timeout).job

    @_translating
    def list_jobs(self, page_size: int = 50) -> list[pb.Job]:
        return list(
            self._stub.ListJobs(pb.ListJobsRequest(page_size=page_size), timeout=self.timeout).jobs
        )

    @_translating
    def server_info(self) -> pb.GetServerInfoResponse:
        return self._stub.GetServerInfo(pb.GetServerInfoRequest(), timeout=self.timeout)

    @_translating
    def cancel_job(self, job_id: str) -> pb.Job:
        return self._stub.CancelJob(pb.CancelJobRequest(job_id=job_id), timeout=self.timeout).job

    @_translating
    def delete_job(self, job_id: str) -> None:
        """Remove a finished job and the files it kept (``FailedPreconditionError`` while it
        runs: cancel it first)."""
        self._stub.DeleteJob(pb.DeleteJobRequest(job_id=job_id), timeout=self.timeout)

    @_translating
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

    def wait(self, job_id: str, on_progress: Callable[[pb.Progress], None] | None = None) -> pb.Job:
        """Watch a job to its end; returns the finished job, whatever its state."""
        for event in self.watch(job_id):
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
    ) -> pb.Recommendation:
        """Upload, start, watch: the recommendation, or ``JobFailedError`` / ``JobCancelledError``.
        ``corpus_path``: a domain corpus to upload and measure DAPT on."""
        train = self.upload(path)
        test = self.upload(test_path) if test_path else None
        if corpus_path:
            chosen = pb.AdviceOptions()
            if advice_options is not None:
                chosen.CopyFrom(advice_options)  # the caller's options stay as they were
            chosen.domain_corpus_id = self.upload_corpus(corpus_path).corpus_id
            advice_options = chosen
        job = self.start_advice(train.dataset_id, test.dataset_id if test else None, advice_options)
        if on_started:
            on_started(job)
        job = self.wait(job.job_id, on_progress)
        return recommendation_of(job)


def save_stream(messages: Iterator[pb.DownloadAdaptedWeightsResponse], folder: Path) -> Path:
    """Write a file stream (a name and size on each file's first message) into ``folder``,
    atomically: into a temporary folder beside it, renamed when every file arrived whole."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise errors.FailedPreconditionError(f"{folder} exists and is not an empty folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        out, expected, name = None, 0, ""
        sizes: dict[str, tuple[int, int]] = {}
        for message in messages:
            if message.filename:
                if out:
                    out.close()
                name = message.filename
                if name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
                    raise errors.AdvisorError(f"the server sent an unsafe file name {name!r}")
                expected = message.size_bytes
                out = open(tmp / name, "wb")  # noqa: SIM115
                sizes[name] = (expected, 0)
            if out is None:
                raise errors.AdvisorError("the server sent bytes before a file name")
            out.write(message.chunk)
            sizes[name] = (expected, sizes[name][1] + len(message.chunk))
        if out:
            out.close()
        short = [n for n, (want, got) in sizes.items() if want != got]
        if not sizes or short:
            raise errors.AdvisorError(
                f"the download ended early ({', '.join(short) or 'no file'} incomplete)"
            )
        if folder.exists():
            folder.rmdir()
        tmp.rename(folder)
        return folder
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def recommendation_of(job: pb.Job) -> pb.Recommendation:
    """The job's recommendation, or the error that says why it has none."""
    if job.state == pb.JOB_STATE_SUCCEEDED:
        return job.recommendation
    state = pb.JobState.Name(job.state).removeprefix("JOB_STATE_").lower()
    if job.state == pb.JOB_STATE_CANCELLED:
        raise errors.JobCancelledError(f"job {job.job_id} was cancelled: {job.error}")
    if job.state in FINISHED:
        raise errors.JobFailedError(f"job {job.job_id} {state}: {job.error}")
    raise errors.AdvisorError(f"job {job.job_id} is still {state}")
