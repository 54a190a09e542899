"""The channel to a server: plaintext or TLS (mutual when the client has a certificate), with a
bearer token on every call when one is given. A token is never sent in plaintext to another
machine."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import grpc

from . import errors


class _Bearer(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds ``authorization: Bearer <token>`` to every call."""

    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    def _with_token(self, details):
        return _Details(
            details.method,
            details.timeout,
            [*(details.metadata or ()), self._header],
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._with_token(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._with_token(details), requests)


class _Details(
    collections.namedtuple(
        "_Details",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    pass


def _pem(value: str | Path | bytes | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).expanduser().read_bytes()


def _local(target: str) -> bool:
    host = target.rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "localhost", "::1")


SERVICE = "embedding_advisor.v1.AdvisorService"
# Calls safe to repeat, retried by gRPC itself when the server is briefly unreachable. Not
# StartAdvice (a second job) and not the uploads (client streams are only retried while they fit
# gRPC's retry buffer); the watch is retried only before its first event.
RETRIED = (
    "GetJob", "ListJobs", "GetServerInfo", "CancelJob", "DeleteJob", "DeleteDataset", "Profile",
    "WatchJob",
    "DownloadAdaptedWeights",
)  # fmt: skip
SERVICE_CONFIG = {
    "methodConfig": [
        {
            "name": [{"service": SERVICE, "method": m} for m in RETRIED],
            "retryPolicy": {
                "maxAttempts": 4,
                "initialBackoff": "0.25s",
                "maxBackoff": "4s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ]
}


def channel_options(max_message_bytes: int) -> list[tuple[str, object]]:
    """Message limits, the retry policy, and a keepalive ping every 60 s while a call is open
    (a watch may go minutes between events behind a proxy that drops idle connections)."""
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.enable_retries", 1),
        ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.http2.max_pings_without_data", 0),
    ]


def credentials_for(
    target: str,
    token: str | None,
    tls_ca: str | Path | bytes | None,
    tls_cert: str | Path | bytes | None,
    tls_key: str | Path | bytes | None,
) -> grpc.ChannelCredentials | None:
    """TLS credentials, or None for plaintext; refuses a token in plaintext to another machine."""
    secure = tls_ca is not None or tls_cert is not None
    if token and not secure and not _local(target):
        raise errors.InvalidArgumentError(
            "a bearer token is sent only over TLS (give the server's CA) or to this machine, "
            f"not in plaintext to {target}"
        )
    if not secure:
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=_pem(tls_ca), private_key=_pem(tls_key), certificate_chain=_pem(tls_cert)
    )


def open_channel(
    target: str,
    max_message_bytes: int,
    token: str | None = None,
    tls_ca: str | Path | bytes | None = None,
    tls_cert: str | Path | bytes | None = None,
    tls_key: str | Path | bytes | None = None,
) -> tuple[grpc.Channel, grpc.Channel]:
    """The channel (to close) and the one to call through (with the token, when given)."""
    options = channel_options(max_message_bytes)
    credentials = credentials_for(target, token, tls_ca, tls_cert, tls_key)
    if credentials is not None:
        channel = grpc.secure_channel(target, credentials, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    return channel, grpc.intercept_channel(channel, _Bearer(token)) if token else channel
