"""Blocking handlers on the asyncio gRPC server.

The server is ``grpc.aio``: one event loop polls the network and answers the cheap calls (health,
reflection) itself, so that a load of blocking calls can never queue a health check behind them.
The advisor's own handlers stay plain blocking functions (the service below them reads SQLite,
waits on worker processes, streams files); ``SyncBridge``, the innermost interceptor, runs each
one on a thread of its pool and gives it a context with the blocking server's API that it uses:

- ``is_active()``: False once the caller's deadline passed, it cancelled or hung up (the loop
  cancels the call's task, and the bridge sets the call's flag);
- ``add_callback(fn)``: ``fn`` runs when the call ends, however it ends;
- ``abort(code, details, trailing_metadata)``, ``invocation_metadata()``, ``time_remaining()``.

A request stream reaches the handler as a blocking iterator that reads the loop's stream
message by message (never wholly in memory); a response stream is pulled a message at a time on
the pool, and closed there when the caller goes, so that its ``finally`` blocks run. The caller's
context variables (the principal) travel with each step.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc

log = logging.getLogger(__name__)
_END = object()


class _Abort(Exception):
    """A blocking handler's ``context.abort``, carried to the loop, which sends the status."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata) -> None:
        super().__init__(details)
        self.code, self.details, self.trailing_metadata = code, details, tuple(trailing_metadata)


class BlockingContext:
    """What a blocking handler sees of its call (module docstring)."""

    def __init__(self, context: grpc.aio.ServicerContext) -> None:
        self._context = context
        self._ended = threading.Event()
        self._callbacks: list[Callable[[], object]] = []
        self._lock = threading.Lock()

    def is_active(self) -> bool:
        remaining = self._context.time_remaining()
        return not self._ended.is_set() and (remaining is None or remaining > 0)

    def time_remaining(self) -> float | None:
        return self._context.time_remaining()

    def invocation_metadata(self):
        return self._context.invocation_metadata()

    def peer(self) -> str:
        return self._context.peer()

    def add_callback(self, callback: Callable[[], object]) -> bool:
        with self._lock:
            if not self._ended.is_set():
                self._callbacks.append(callback)
                return True
        return False

    def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata=()):
        raise _Abort(code, details, trailing_metadata)

    def end(self) -> None:
        """The call is over: the flag, then each callback once."""
        with self._lock:
            self._ended.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - one callback's bug must not skip the others
                log.exception("a call's end callback failed")


class SyncBridge(grpc.aio.ServerInterceptor):
    """Runs every blocking handler on ``pool`` (module docstring); async ones pass untouched."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        behavior = next(
            b
            for b in (
                handler.unary_unary,
                handler.unary_stream,
                handler.stream_unary,
                handler.stream_stream,
            )  # fmt: skip
            if b is not None
        )
        if inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior):
            return handler
        streamed = handler.response_streaming
        wrap = self._streamed if streamed else self._unary
        if handler.unary_unary:
            return handler._replace(unary_unary=wrap(behavior, False))
        if handler.stream_unary:
            return handler._replace(stream_unary=wrap(behavior, True))
        if handler.unary_stream:
            return handler._replace(unary_stream=wrap(behavior, False))
        return handler._replace(stream_stream=wrap(behavior, True))

    def _on_pool(self, fn, *args) -> asyncio.Future:
        """``fn(*args)`` on the pool, in a copy of the caller's context variables."""
        context = contextvars.copy_context()
        return asyncio.get_running_loop().run_in_executor(self.pool, context.run, fn, *args)

    def _unary(self, behavior, request_streaming: bool):
        async def run(request, context):
            blocking = BlockingContext(context)
            try:
                if request_streaming:
                    request = _blocking_iterator(request, asyncio.get_running_loop())
                return await self._on_pool(behavior, request, blocking)
            except _Abort as exc:
                await context.abort(exc.code, exc.details, exc.trailing_metadata)
            finally:
                blocking.end()

        return run

    def _streamed(self, behavior, request_streaming: bool):
        async def run(request, context):
            blocking = BlockingContext(context)
            answers: Iterator | None = None
            step: asyncio.Future | None = None
            try:
                if request_streaming:
                    request = _blocking_iterator(request, asyncio.get_running_loop())
                answers = iter(await self._on_pool(behavior, request, blocking))
                while True:
                    # Shielded: a caller who goes cancels the wait, never the step itself, so
                    # that the stream is closed only once its step is over.
                    step = self._on_pool(next, answers, _END)
                    if (answer := await asyncio.shield(step)) is _END:
                        break
                    yield answer
            except _Abort as exc:
                await context.abort(exc.code, exc.details, exc.trailing_metadata)
            finally:
                blocking.end()  # a watcher's stop: its step returns
                if answers is not None:
                    self._close_after(step, answers)

        return run

    def _close_after(self, step: asyncio.Future | None, answers: Iterator) -> None:
        """Close the response stream on the pool (its ``finally`` blocks run) once the step in
        flight, if any, is over."""
        close = getattr(answers, "close", None)
        if close is None:
            return

        def submit(_=None) -> None:
            try:
                self.pool.submit(close)
            except RuntimeError:  # the pool is shut down: the server is going, and so is this
                pass

        if step is not None and not step.done():
            step.add_done_callback(submit)
        else:
            submit()


def _blocking_iterator(messages, loop: asyncio.AbstractEventLoop) -> Iterator:
    """The loop's request stream, read one message at a time from a pool thread."""
    stream = aiter(messages)

    async def one():
        try:
            return await anext(stream)
        except StopAsyncIteration:
            return _END

    while (message := asyncio.run_coroutine_threadsafe(one(), loop).result()) is not _END:
        yield message
