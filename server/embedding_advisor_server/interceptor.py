"""The one place where domain exceptions become gRPC statuses.

An ``AdvisorError`` travels as its status code with a ``google.rpc.ErrorInfo`` (its ``reason``, so
the client can raise the same class again) and, when it names fields, a ``google.rpc.BadRequest``.
Anything else is a bug: logged with its traceback and answered ``INTERNAL``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_interceptor import ExceptionToStatusInterceptor
from grpc_status import rpc_status

from embedding_advisor.errors import ERROR_DOMAIN, AdvisorError

log = logging.getLogger(__name__)


def to_status(error: AdvisorError) -> grpc.Status:
    details = []
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN))
    details.append(info)
    if error.violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description
                )
                for v in error.violations
            ]
        )
        packed = any_pb2.Any()
        packed.Pack(bad)
        details.append(packed)
    if error.retry_after is not None:
        retry = any_pb2.Any()
        delay = duration_pb2.Duration()
        delay.FromTimedelta(timedelta(seconds=error.retry_after))
        retry.Pack(error_details_pb2.RetryInfo(retry_delay=delay))
        details.append(retry)
    status = status_pb2.Status(
        code=getattr(code_pb2, error.code), message=error.message, details=details
    )
    return rpc_status.to_status(status)


class ErrorInterceptor(ExceptionToStatusInterceptor):
    def __init__(self) -> None:
        super().__init__(status_on_unknown_exception=grpc.StatusCode.INTERNAL)

    def handle_exception(self, ex, request_or_iterator, context, method_name):
        if isinstance(ex, AdvisorError):
            context.abort_with_status(to_status(ex))
        log.exception("unexpected error in %s", method_name, exc_info=ex)
        super().handle_exception(ex, request_or_iterator, context, method_name)
