"""Client library and CLI of the embedding-selection advisor (no torch needed).

The errors import nothing from gRPC, so the server core can raise them without pulling the
client's gRPC code; the client itself (``AdvisorClient``, ``options``, ``recommendation_of``) is
imported on first use.
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING

from .errors import (
    AdvisorError,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    InvalidDatasetError,
    JobCancelledError,
    JobFailedError,
    NotFoundError,
    ResourceExhaustedError,
    ServerUnavailableError,
    UnauthenticatedError,
)

try:
    __version__ = metadata.version("embedding-advisor")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

if TYPE_CHECKING:
    from .client import AdvisorClient, options, recommendation_of

_CLIENT = ("AdvisorClient", "options", "recommendation_of")

__all__ = [
    "AdvisorClient",
    "AdvisorError",
    "FailedPreconditionError",
    "FieldViolation",
    "InvalidArgumentError",
    "InvalidDatasetError",
    "JobCancelledError",
    "JobFailedError",
    "NotFoundError",
    "ResourceExhaustedError",
    "ServerUnavailableError",
    "UnauthenticatedError",
    "__version__",
    "options",
    "recommendation_of",
]


def __getattr__(name: str):
    if name in _CLIENT:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
