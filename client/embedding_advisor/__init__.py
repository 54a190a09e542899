"""Client library and CLI of the embedding-selection advisor (no torch needed)."""

from __future__ import annotations

from .client import AdvisorClient, options, recommendation_of
from .errors import (
    AdvisorError,
    FieldViolation,
    InvalidArgumentError,
    InvalidDatasetError,
    JobCancelledError,
    JobFailedError,
    NotFoundError,
    ServerUnavailableError,
)

__all__ = [
    "AdvisorClient",
    "AdvisorError",
    "FieldViolation",
    "InvalidArgumentError",
    "InvalidDatasetError",
    "JobCancelledError",
    "JobFailedError",
    "NotFoundError",
    "ServerUnavailableError",
    "options",
    "recommendation_of",
]
