"""Failed gRPC calls as the advisor's own errors (:mod:`embedding_advisor.errors`), for the sync
and the asyncio client alike."""

from __future__ import annotations

import functools

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from . import errors


def error_from_rpc(exc: grpc.RpcError) -> errors.AdvisorError:
    """Turn a failed call back into the advisor error the service raised."""
    status = rpc_status.from_call(exc) if hasattr(exc, "trailing_metadata") else None
    code = exc.code() if hasattr(exc, "code") else None
    message = exc.details() if hasattr(exc, "details") else str(exc)
    reason, violations, retry_after = None, [], None
    if status is not None:
        message = status.message
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                if info.domain == errors.ERROR_DOMAIN:
                    reason = info.reason
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                retry_after = retry.retry_delay.ToTimedelta().total_seconds()
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
    return cls(message or (code.name if code else "unknown error"), violations, retry_after)


def translating(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from None

    return wrapper
