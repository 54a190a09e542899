"""Errors of the advisor, shared by the client library and the service core.

Each class names the gRPC status code it travels as (``code``) and a stable ``reason`` sent in a
``google.rpc.ErrorInfo`` detail, so that the client turns a failed call back into the same class
the service raised: callers of the client library never see raw gRPC errors. This module imports
nothing from gRPC.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR_DOMAIN = "embedding-advisor"


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: ``field`` names where (for a dataset, ``file:line:field``), ``description`` why."""

    field: str
    description: str

    def __str__(self) -> str:
        return f"{self.field}: {self.description}" if self.field else self.description


def dataset_field(source: str, line: int | None, name: str | None = None) -> str:
    """The ``field`` of a dataset violation: ``train.jsonl:12:label``, ``train.jsonl:12`` or ``train.jsonl``."""
    parts = [source]
    if line is not None:
        parts.append(str(line))
    if name:
        parts.append(name)
    return ":".join(parts)


class AdvisorError(Exception):
    """Base class. ``code`` is the name of a ``grpc.StatusCode``."""

    code = "INTERNAL"
    reason = "INTERNAL"

    def __init__(
        self,
        message: str,
        violations: list[FieldViolation] | tuple = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.violations = list(violations)
        # Seconds after which the same call may succeed (a full queue, a busy server); travels
        # as a ``google.rpc.RetryInfo``.
        self.retry_after = retry_after

    def __reduce__(self):
        """Pickled whole (the server's worker processes send errors to it): the base class would
        keep the message alone."""
        return (type(self), (self.message, self.violations, self.retry_after))

    def __str__(self) -> str:
        if not self.violations:
            return self.message
        return "\n".join([self.message, *(f"  {v}" for v in self.violations)])


class InvalidArgumentError(AdvisorError):
    """A request option is invalid; ``violations`` name the fields."""

    code = "INVALID_ARGUMENT"
    reason = "INVALID_ARGUMENT"


class InvalidDatasetError(InvalidArgumentError):
    """A dataset cannot be used; ``violations`` name the file, line and field."""

    reason = "INVALID_DATASET"


class NotFoundError(AdvisorError):
    code = "NOT_FOUND"
    reason = "NOT_FOUND"


class FailedPreconditionError(AdvisorError):
    """The request is valid but the service cannot act on it now (e.g. a model failed to load)."""

    code = "FAILED_PRECONDITION"
    reason = "FAILED_PRECONDITION"


class ResourceExhaustedError(AdvisorError):
    """A limit was reached (a full queue, too many jobs or calls at once, a file too large);
    ``retry_after`` says when to try again where waiting helps."""

    code = "RESOURCE_EXHAUSTED"
    reason = "RESOURCE_EXHAUSTED"


class ServerUnavailableError(AdvisorError):
    """The service cannot be reached."""

    code = "UNAVAILABLE"
    reason = "UNAVAILABLE"


class UnauthenticatedError(AdvisorError):
    """The server needs a bearer token and the call had none, or a wrong one."""

    code = "UNAUTHENTICATED"
    reason = "UNAUTHENTICATED"


class DeadlineExceededError(AdvisorError):
    """A call, or an overall ``deadline`` the caller set, ran out of time."""

    code = "DEADLINE_EXCEEDED"
    reason = "DEADLINE_EXCEEDED"


class JobCancelledError(AdvisorError):
    code = "CANCELLED"
    reason = "JOB_CANCELLED"


class JobFailedError(AdvisorError):
    """An advice job ended without a recommendation (failed or interrupted)."""

    code = "ABORTED"
    reason = "JOB_FAILED"


ERROR_CLASSES: dict[str, type[AdvisorError]] = {
    cls.reason: cls
    for cls in (
        AdvisorError,
        InvalidArgumentError,
        InvalidDatasetError,
        NotFoundError,
        FailedPreconditionError,
        ResourceExhaustedError,
        ServerUnavailableError,
        UnauthenticatedError,
        DeadlineExceededError,
        JobCancelledError,
        JobFailedError,
    )
}
