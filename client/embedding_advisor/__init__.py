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
    DeadlineExceededError,
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
    from .advice_options import options
    from .aio import AsyncAdvisorClient
    from .client import AdvisorClient
    from .output import as_dict
    from .results import (
        Adaptation,
        Budget,
        Confidence,
        Embedding,
        FeatureBackend,
        JobState,
        Precision,
        Pretraining,
        Priority,
        TaskType,
        recommendation_of,
    )
    from .v1 import advisor_pb2 as pb

_ENUMS = (
    "Adaptation", "Budget", "Confidence", "Embedding", "FeatureBackend", "JobState", "Precision",
    "Pretraining", "Priority", "TaskType",
)  # fmt: skip
# Imported on first use: the errors above import nothing from gRPC, so the server core can raise
# them without pulling the client's gRPC code.
_LAZY = {
    "AdvisorClient": ".client",
    "AsyncAdvisorClient": ".aio",
    "options": ".advice_options",
    "as_dict": ".output",
    "recommendation_of": ".results",
    **{name: ".results" for name in _ENUMS},
}

__all__ = [
    "AdvisorClient",
    "AdvisorError",
    "AsyncAdvisorClient",
    "DeadlineExceededError",
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
    "as_dict",
    "options",
    "pb",
    "recommendation_of",
    # the enums (_ENUMS)
    "Adaptation",
    "Budget",
    "Confidence",
    "Embedding",
    "FeatureBackend",
    "JobState",
    "Precision",
    "Pretraining",
    "Priority",
    "TaskType",
]


def __getattr__(name: str):
    import importlib

    if name == "pb":  # the protocol's messages: embedding_advisor.v1.advisor_pb2
        return importlib.import_module(".v1.advisor_pb2", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
