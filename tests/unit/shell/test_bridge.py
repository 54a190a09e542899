"""Blocking handlers on the asyncio server (``bridge.py``, ``interceptor.py``): a real
``grpc.aio`` server on a free loopback port, with a few small blocking handlers as its subject."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as aio_health

from embedding_advisor_server.bridge import SyncBridge
from embedding_advisor_server.interceptor import INTERNAL_MESSAGE, ErrorInterceptor

WHO = contextvars.ContextVar("who", default="nobody")


class Seen:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.release = threading.Event()


def _handlers(seen: Seen):
    def block(request, context):
        seen.events.append("blocked")
        seen.release.wait(10)
        return b"released"

    def until_gone(request, context):
        context.add_callback(lambda: seen.events.append("callback"))
        stop = time.monotonic() + 10
        while context.is_active() and time.monotonic() < stop:
            time.sleep(0.01)
        seen.events.append("inactive" if time.monotonic() < stop else "never inactive")
        return b""

    def stream(request, context):
        try:
            for n in range(1000):
                yield str(n).encode()
                time.sleep(0.01)
        finally:
            seen.events.append("stream closed")

    def joined(requests, context):
        return b"+".join(requests)

    def who(request, context):
        return f"{WHO.get()} on {threading.current_thread().name}".encode()

    def broken(request, context):
        raise ValueError("SECRET_API_KEY=hunter2")

    unary = grpc.unary_unary_rpc_method_handler
    return grpc.method_handlers_generic_handler(
        "t.T",
        {
            "Block": unary(block),
            "UntilGone": unary(until_gone),
            "Stream": grpc.unary_stream_rpc_method_handler(stream),
            "Joined": grpc.stream_unary_rpc_method_handler(joined),
            "Who": unary(who),
            "Broken": unary(broken),
        },
    )


class _SetWho(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation, details):
        handler = await continuation(details)

        async def run(request, context):
            WHO.set("alice")
            return await handler.unary_unary(request, context)

        return handler._replace(unary_unary=run) if details.method == "/t.T/Who" else handler


@pytest.fixture
def served():
    """A target and what its handlers saw; the pool has two threads, to be filled."""
    seen = Seen()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    pool = futures.ThreadPoolExecutor(2, thread_name_prefix="pool")

    async def build():
        server = grpc.aio.server(
            interceptors=[_SetWho(), ErrorInterceptor(), SyncBridge(pool)],
            handlers=[_handlers(seen)],
        )
        health = aio_health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    server, port = asyncio.run_coroutine_threadsafe(build(), loop).result()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel, seen
    seen.release.set()
    asyncio.run_coroutine_threadsafe(server.stop(0), loop).result()
    pool.shutdown()
    loop.call_soon_threadsafe(loop.stop)


def _wait_for(predicate, seconds: float = 5.0) -> bool:
    stop = time.monotonic() + seconds
    while not predicate() and time.monotonic() < stop:
        time.sleep(0.01)
    return predicate()


def test_health_answers_while_every_pool_thread_is_blocked(served):
    channel, seen = served
    blocked = [channel.unary_unary("/t.T/Block").future(b"") for _ in range(3)]
    assert _wait_for(lambda: seen.events.count("blocked") == 2)  # the third one queues
    started = time.perf_counter()
    answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    assert time.perf_counter() - started < 1.0
    seen.release.set()
    assert [f.result(timeout=5) for f in blocked] == [b"released"] * 3


@pytest.mark.parametrize("how", ["deadline", "cancel"])
def test_a_blocking_handler_sees_its_caller_go(served, how):
    channel, seen = served
    call = channel.unary_unary("/t.T/UntilGone")
    if how == "deadline":
        with pytest.raises(grpc.RpcError) as gone:
            call(b"", timeout=0.3)
        assert gone.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    else:
        pending = call.future(b"")
        time.sleep(0.3)
        pending.cancel()
    assert _wait_for(lambda: "inactive" in seen.events)
    assert "callback" in seen.events


def test_a_response_stream_is_closed_on_the_pool_when_its_caller_goes(served):
    channel, seen = served
    stream = channel.unary_stream("/t.T/Stream")(b"")
    assert [next(stream) for _ in range(3)] == [b"0", b"1", b"2"]
    stream.cancel()
    assert _wait_for(lambda: "stream closed" in seen.events)


def test_a_request_stream_arrives_in_order_and_context_variables_travel(served):
    channel, _ = served
    parts = (str(n).encode() for n in range(50))
    assert channel.stream_unary("/t.T/Joined")(parts) == b"+".join(
        str(n).encode() for n in range(50)
    )
    who = channel.unary_unary("/t.T/Who")(b"").decode()
    assert who.startswith("alice on pool")


def test_a_bug_is_internal_and_its_text_stays_in_the_log(served, caplog):
    channel, _ = served
    with pytest.raises(grpc.RpcError) as broken:
        channel.unary_unary("/t.T/Broken")(b"")
    assert broken.value.code() == grpc.StatusCode.INTERNAL
    assert broken.value.details() == INTERNAL_MESSAGE
    assert "hunter2" not in broken.value.details()
    assert any("unexpected error in /t.T/Broken" in r.message for r in caplog.records)
