"""Who is calling: bearer-token authentication in one server interceptor.

The operator lists principals and their tokens (``--auth-tokens-file``: one ``principal token``
pair per line, ``#`` comments; or ``ADVISOR_AUTH_TOKENS=alice:token,bob:token``). With none
listed, authentication is off (a server for one user, such as the CLI's embedded one) and every
caller is the same anonymous principal. With tokens, every call but the health and reflection
services needs ``authorization: Bearer <token>``; the token is compared with each listed one in
constant time (``hmac.compare_digest``, every entry compared), and a call without a valid one is
answered ``UNAUTHENTICATED`` before any work. The caller's principal is then what the service's
ownership checks read (``core/principal.py``): jobs and datasets belong to whoever made them.

Tokens never reach a log: only the principal's name is ever printed.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from pathlib import Path

import grpc

from .core.principal import acting_as

OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def parse_tokens(lines: Iterable[str], source: str) -> dict[str, str]:
    """``{token: principal}`` from ``principal token`` lines (or ``principal:token`` items)."""
    tokens: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.replace(":", " ", 1).split() if ":" in line.split()[0] else line.split()
        if len(parts) != 2 or len(parts[1]) < 16:
            raise ValueError(
                f"{source}, entry {number}: expected 'principal token' with a token of at least "
                "16 characters"
            )
        principal, token = parts
        if token in tokens:
            raise ValueError(f"{source}, entry {number}: a token listed twice")
        tokens[token] = principal
    return tokens


def load_tokens(file: Path | None, inline: str | None) -> dict[str, str]:
    """The operator's tokens from a file and/or the comma-separated setting."""
    tokens: dict[str, str] = {}
    if file is not None:
        tokens |= parse_tokens(Path(file).read_text(encoding="utf-8").splitlines(), str(file))
    if inline:
        tokens |= parse_tokens(inline.split(","), "ADVISOR_AUTH_TOKENS")
    return tokens


def _who(tokens: dict[str, str], metadata) -> str | None:
    offered = ""
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            offered = value[len("Bearer ") :]
    found = None
    for token, principal in tokens.items():  # every entry compared: no timing clue
        if hmac.compare_digest(token.encode(), offered.encode()) and offered:
            found = principal
    return found


REFUSAL = (
    "this server needs a bearer token (authorization: Bearer <token>; the CLI's --token or "
    "ADVISOR_TOKEN)"
)


def _refuse(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    async def abort(request, context):
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, REFUSAL)

    async def abort_stream(request, context):
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, REFUSAL)
        yield  # an async generator, as a streamed answer must be

    make = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }[(handler.request_streaming, handler.response_streaming)]
    return make(abort_stream if handler.response_streaming else abort)


def _as(principal: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """``handler`` (async, as every handler is past the bridge) run with ``principal`` as the
    current principal; the bridge carries it to the thread of each blocking step."""

    def unary(behavior):
        async def run(request, context):
            with acting_as(principal):
                return await behavior(request, context)

        return run

    def streamed(behavior):
        async def run(request, context):
            # Set around each step, not across yields: a context variable is reset only in the
            # context where it was set, and a stream's end may come from elsewhere.
            with acting_as(principal):
                answers = aiter(behavior(request, context))
            while True:
                with acting_as(principal):
                    try:
                        answer = await anext(answers)
                    except StopAsyncIteration:
                        return
                yield answer

        return run

    if handler.unary_unary:
        return handler._replace(unary_unary=unary(handler.unary_unary))
    if handler.stream_unary:
        return handler._replace(stream_unary=unary(handler.stream_unary))
    if handler.unary_stream:
        return handler._replace(unary_stream=streamed(handler.unary_stream))
    return handler._replace(stream_stream=streamed(handler.stream_stream))


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Bearer tokens (``{token: principal}``); health and reflection stay open."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = dict(tokens)

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(OPEN_SERVICES):
            return handler
        principal = _who(self.tokens, handler_call_details.invocation_metadata)
        if principal is None:
            return _refuse(handler)
        return _as(principal, handler)
