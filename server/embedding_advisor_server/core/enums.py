"""The enums of the core's domain objects (``schema.py``, which re-exports them); their values
match the proto's enum values one to one (``convert.py``)."""

from __future__ import annotations

import enum


class TaskType(str, enum.Enum):
    TEXT_CLASSIFICATION = "text_classification"
    TEXT_PAIR_CLASSIFICATION = "text_pair_classification"
    TOKEN_TAGGING = "token_tagging"


class Embedding(str, enum.Enum):
    UNSPECIFIED = "unspecified"
    CONTEXTUAL = "contextual"
    STATIC = "static"
    RANDOM = "random"


class FeatureBackend(str, enum.Enum):
    UNSPECIFIED = "unspecified"
    ONNX_FP32 = "onnx_fp32"
    ONNX_INT8 = "onnx_int8"
    TORCH = "torch"


class Precision(str, enum.Enum):
    UNSPECIFIED = "unspecified"
    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"


class Budget(str, enum.Enum):
    UNSPECIFIED = "unspecified"
    QUICK = "quick"
    STANDARD = "standard"
    THOROUGH = "thorough"


class Priority(str, enum.Enum):
    UNSPECIFIED = "unspecified"
    ACCURACY = "accuracy"
    BALANCED = "balanced"
    COST = "cost"


class Confidence(str, enum.Enum):
    UNSPECIFIED = "unspecified"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Adaptation(str, enum.Enum):
    UNSPECIFIED = "unspecified"
    FINE_TUNE = "fine_tune"
    FREEZE = "freeze"


class PretrainingKind(str, enum.Enum):
    UNSPECIFIED = "unspecified"
    NONE = "none"
    TAPT = "tapt"
    DAPT = "dapt"
    DAPT_TAPT = "dapt_tapt"


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)
