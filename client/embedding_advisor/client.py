"""The Python client of the advisor service. Needs grpcio and protobuf only, never torch.

>>> with AdvisorClient("127.0.0.1:50051") as client:                       # doctest: +SKIP
...     rec = client.advise("train.jsonl")
...     print(rec.headline)

Failed calls raise the classes of :mod:`embedding_advisor.errors`, never raw gRPC errors.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from . import errors
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
) -> pb.AdviceOptions:
    """Build ``AdviceOptions``; ``None`` leaves the server's default. ``feature_backend``:
    ``onnx-fp32``, ``onnx-int8`` or ``torch``; ``budget``: ``quick``, ``standard`` or
    ``thorough``; ``priority``: ``accuracy``, ``balanced`` or ``cost``; ``precision``: ``auto``,
    ``fp32`` or ``bf16``; ``transductive``: task-adaptive pretraining may read the held-out
    inputs too."""
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
    )


class AdvisorClient:
    """A connection to an advisor service at ``target`` (``host:port``)."""

    def __init__(
        self, target: str, *, timeout: float | None = None, max_message_bytes: int = 16 * 1024**2
    ) -> None:
        self.target = target
        self.timeout = timeout
        self._channel = grpc.insecure_channel(
            target,
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
            ],
        )
        self._stub = advisor_pb2_grpc.AdvisorServiceStub(self._channel)

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
    @_translating
    def upload(self, path: str | Path, chunk_bytes: int = CHUNK_BYTES) -> pb.DatasetInfo:
        """Stream a JSONL file to the service; returns its id (SHA-256), task and size.

        Raises ``InvalidDatasetError`` naming every bad line and field.
        """
        path = Path(path)
        local = hashlib.sha256()

        def requests() -> Iterator[pb.UploadDatasetRequest]:
            with open(path, "rb") as fh:
                first = True
                while True:
                    chunk = fh.read(chunk_bytes)
                    if not chunk and not first:
                        return
                    local.update(chunk)
                    yield pb.UploadDatasetRequest(chunk=chunk, filename=path.name if first else "")
                    first = False
                    if not chunk:
                        return

        if not path.is_file():
            raise errors.InvalidArgumentError(f"no such file: {path}")
        info = self._stub.UploadDataset(requests(), timeout=self.timeout).dataset
        if info.dataset_id != local.hexdigest():
            raise errors.AdvisorError(
                f"upload of {path} was corrupted: local SHA-256 {local.hexdigest()}, server {info.dataset_id}"
            )
        return info

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
    def cancel_job(self, job_id: str) -> pb.Job:
        return self._stub.CancelJob(pb.CancelJobRequest(job_id=job_id), timeout=self.timeout).job

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
    ) -> pb.Recommendation:
        """Upload, start, watch: the recommendation, or ``JobFailedError`` / ``JobCancelledError``."""
        train = self.upload(path)
        test = self.upload(test_path) if test_path else None
        job = self.start_advice(train.dataset_id, test.dataset_id if test else None, advice_options)
        if on_started:
            on_started(job)
        job = self.wait(job.job_id, on_progress)
        return recommendation_of(job)


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
