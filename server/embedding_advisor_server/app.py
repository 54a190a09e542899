"""Server lifecycle: build the gRPC server with its options, health and reflection; start; stop."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as aio_health
from grpc_reflection.v1alpha import reflection

from embedding_advisor.v1 import advisor_pb2, advisor_pb2_grpc

from . import __version__
from .auth import AuthInterceptor, load_tokens
from .bridge import SyncBridge
from .core.service import AdvisorService
from .interceptor import ErrorInterceptor
from .servicer import AdvisorServicer
from .settings import ServerSettings

log = logging.getLogger(__name__)
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def server_credentials(settings: ServerSettings) -> grpc.ServerCredentials | None:
    """TLS from the settings' PEM files (mutual when a client CA is given), or None."""
    if settings.tls_cert_file is None and settings.tls_key_file is None:
        if settings.tls_client_ca_file is not None:
            raise ValueError("tls_client_ca_file needs tls_cert_file and tls_key_file")
        return None
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        raise ValueError("TLS needs both tls_cert_file and tls_key_file")
    client_ca = settings.tls_client_ca_file
    return grpc.ssl_server_credentials(
        [(settings.tls_key_file.read_bytes(), settings.tls_cert_file.read_bytes())],
        root_certificates=client_ca.read_bytes() if client_ca else None,
        require_client_auth=client_ca is not None,
    )


SERVICE_NAME = advisor_pb2.DESCRIPTOR.services_by_name["AdvisorService"].full_name


class AdvisorServer:
    """The advisor service on an asyncio gRPC server (``bridge.py``: why), whose event loop runs
    on a thread of its own, so that this object is driven as a blocking one: ``start()`` binds
    and returns the port, ``stop()`` ends it."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        # The settings are the service's config (they inherit its fields): nothing is copied.
        self.service = AdvisorService(settings.blob_dir, settings.job_db, settings)
        tokens = load_tokens(
            settings.auth_tokens_file,
            settings.auth_tokens.get_secret_value() if settings.auth_tokens else None,
        )
        self.authenticated = bool(tokens)
        self._tokens = tokens
        # Blocking handlers run here; watchers hold a thread each while they wait for an event:
        # leave room beside the unary calls. Health and reflection never need one.
        self.pool = futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="grpc")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="grpc-loop", daemon=True
        )
        self._thread.start()
        self.server, self.health = self._on_loop(self._build())
        self.port: int | None = None

    def _on_loop(self, coroutine, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _build(self) -> tuple[grpc.aio.Server, aio_health.HealthServicer]:
        """The server, made on its loop (an asyncio server belongs to the loop it was made on)."""
        settings = self.settings
        interceptors = [AuthInterceptor(self._tokens)] if self._tokens else []
        server = grpc.aio.server(
            migration_thread_pool=self.pool,
            interceptors=[*interceptors, ErrorInterceptor(), SyncBridge(self.pool)],
            maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
            options=[
                ("grpc.max_receive_message_length", settings.max_message_bytes),
                ("grpc.max_send_message_length", settings.max_message_bytes),
                ("grpc.so_reuseport", 0),
                # Clients ping every 60 s on a long watch (embedding_advisor/channel.py): allow
                # it, rather than answer with GOAWAY "too many pings".
                ("grpc.http2.min_ping_interval_without_data_ms", 30_000),
                ("grpc.keepalive_permit_without_calls", 1),
            ],
        )
        advisor_pb2_grpc.add_AdvisorServiceServicer_to_server(AdvisorServicer(self.service), server)
        health_servicer = aio_health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        return server, health_servicer

    def start(self) -> int:
        address = f"{self.settings.host}:{self.settings.port}"
        credentials = server_credentials(self.settings)
        self.port = (
            self.server.add_secure_port(address, credentials)
            if credentials
            else self.server.add_insecure_port(address)
        )
        if not self.port:
            raise OSError(f"cannot listen on {address}")
        self._on_loop(self.server.start())
        self.service.warm_up()
        for name in ("", SERVICE_NAME):
            self._on_loop(self.health.set(name, health_pb2.HealthCheckResponse.SERVING))
        log.info(
            "advisor %s listening on %s:%d (%s, %s; data in %s)",
            __version__,
            self.settings.host,
            self.port,
            "TLS" if credentials else "plaintext",
            "bearer tokens" if self.authenticated else "no authentication",
            self.settings.data_dir,
        )
        if not self.authenticated and self.settings.host not in LOOPBACK:
            log.warning(
                "authentication is off: anyone who can reach %s can use this server (set "
                "--auth-tokens-file)",
                address,
            )
        return self.port

    @property
    def target(self) -> str:
        host = self.settings.host
        if host in ("0.0.0.0", "[::]", "::"):
            host = "127.0.0.1"
        return f"{host}:{self.port}"

    def stop(self, grace: float | None = None) -> None:
        """Stop taking calls, end running jobs as interrupted, close the store."""
        if self._loop.is_closed():
            return
        grace = self.settings.grace_seconds if grace is None else grace
        self._on_loop(self.health.enter_graceful_shutdown())
        stopping = asyncio.run_coroutine_threadsafe(self.server.stop(grace), self._loop)
        self.service.close()
        try:
            stopping.result(grace + 1)
        except futures.TimeoutError:
            log.warning("the server did not stop within %.1f s", grace + 1)
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    def wait(self) -> None:
        self._on_loop(self.server.wait_for_termination())

    def __enter__(self) -> AdvisorServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
