"""The one place where domain exceptions become gRPC statuses.

An ``AdvisorError`` travels as its status code with a ``google.rpc.ErrorInfo`` (its ``reason``, so
the client can raise the same class again) and, when it names fields, a ``google.rpc.BadRequest``.
Anything else is a bug: logged with its traceback and answered ``INTERNAL`` with a fixed message.
It runs on the asyncio server, outside the blocking handlers' bridge (``bridge.py``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
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


INTERNAL_MESSAGE = "internal error: the server logged it; please report it"


async def _answer(error: Exception, context, method: str) -> None:
    """Abort the call with ``error``'s status; a bug's own text stays in the log (it may quote
    data), the caller reads only that something broke."""
    if isinstance(error, AdvisorError):
        status = to_status(error)
        await context.abort(status.code, status.details, status.trailing_metadata)
    log.exception("unexpected error in %s", method, exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """``AdvisorError`` -> its status with details; anything else -> logged, ``INTERNAL``."""

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if handler.response_streaming:
            kind = "unary_stream" if handler.unary_stream else "stream_stream"
            return handler._replace(**{kind: _streamed(getattr(handler, kind), method)})
        kind = "unary_unary" if handler.unary_unary else "stream_unary"
        return handler._replace(**{kind: _unary(getattr(handler, kind), method)})


def _unary(behavior, method: str):
    async def run(request, context):
        try:
            return await behavior(request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001 - every error is answered here
            await _answer(exc, context, method)

    return run


def _streamed(behavior, method: str):
    async def run(request, context):
        try:
            async for answer in behavior(request, context):
                yield answer
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001 - every error is answered here
            await _answer(exc, context, method)

    return run
