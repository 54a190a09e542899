"""The service's defaults, declared once. ``ServerSettings`` (the shell's settings, flags and
``ADVISOR_*`` environment variables) inherits these fields; the pipeline and the service read them
from there, and the CLI's help quotes them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from .backends.files import default_cache_dir
from .data.parse import DatasetLimits
from .schema import Budget, FeatureBackend, Precision

_LIMITS = DatasetLimits()  # the parser's own defaults, declared once there


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "embedding-advisor"


class PipelineDefaults(BaseModel):
    """What an advice request gets for the options it leaves unset."""

    encoder: str | None = Field(None, description="default encoder: a Hugging Face model directory")
    vectors: str | None = Field(
        None, description="default word-vector file (GloVe or word2vec format)"
    )
    max_train_examples: int = Field(
        2000, ge=10, description="default cap on a pilot's training examples"
    )
    max_eval_examples: int = Field(
        1000, ge=10, description="default cap on a pilot's held-out examples"
    )
    # 100 held-out examples cannot tell options 10 points apart (tweets_sentiment at 500
    # examples); from 500 the held-out examples' own noise is a few points, and each further fold
    # costs every contested arm a training on the pool's size (``pilots/folds.py``).
    cross_fit_examples: int = Field(
        500,
        ge=0,
        description="examples the pilots score at least when the held-out examples are split "
        "from the training file: the contested options are cross-fitted on further folds of the "
        "training file until this many are scored, at most 5 folds in all (0: never)",
    )
    feature_backend: FeatureBackend = Field(
        FeatureBackend.ONNX_FP32,
        description="default runtime of frozen-encoder features: onnx-fp32, onnx-int8 or torch",
    )
    budget: Budget = Field(
        Budget.QUICK, description="default pilot effort: quick, standard or thorough"
    )
    precision: Precision = Field(
        Precision.AUTO,
        description="default precision of torch's computations: auto (bf16 where the hardware "
        "has fast bf16 units), fp32 or bf16",
    )

    @field_validator("feature_backend", "budget", "precision", mode="before")
    @classmethod
    def _one_spelling(cls, value):
        """``onnx-fp32`` as the CLI and the JSON spell it (``onnx_fp32`` is accepted too)."""
        return value.strip().lower().replace("-", "_") if isinstance(value, str) else value


class ServiceConfig(PipelineDefaults):
    """The data plane's settings: the pipeline's defaults, how many jobs run at once, what it
    accepts and where derived model files are kept."""

    workers: int = Field(1, ge=1, le=64, description="advice jobs run at once")
    isolation: Literal["process", "thread"] = Field(
        "process",
        description="where jobs and profiles run: in worker processes (the server's own stays "
        "responsive, and a stopped task's memory goes back) or on the server's threads",
    )
    worker_niceness: int = Field(
        10, ge=0, le=19, description="how much lower the worker processes' CPU priority is"
    )
    max_upload_bytes: int = Field(2 * 1024**3, ge=1, description="largest dataset accepted")
    model_roots: list[Path] = Field(
        [],
        description="folders under which a client may name an encoder or vectors (besides the "
        "bundled models and the defaults); separate several with the path separator",
    )

    @field_validator("model_roots", mode="before")
    @classmethod
    def _split_roots(cls, value):
        """``ADVISOR_MODEL_ROOTS=/models:/data/vectors``, like ``PATH``."""
        if isinstance(value, str):
            return [p for p in value.split(os.pathsep) if p]
        return value

    max_corpus_bytes: int = Field(
        8 * 1024**3, ge=1, description="largest domain corpus accepted (as uploaded)"
    )
    max_artifact_bytes: int = Field(
        1024**3, ge=1, description="largest adapted encoder a job keeps (its files in all)"
    )
    max_rows: int = Field(_LIMITS.max_rows, ge=10, description="most examples in one dataset file")
    max_line_bytes: int = Field(
        _LIMITS.max_line_bytes,
        ge=1024,
        description="longest line (one example) of a dataset file, in bytes",
    )
    max_label_chars: int = Field(
        _LIMITS.max_label_chars, ge=1, description="longest label or tag, in characters"
    )
    max_labels: int = Field(
        _LIMITS.max_labels, ge=2, description="most distinct labels (or tags) in one dataset file"
    )
    max_queued_jobs: int = Field(
        32, ge=1, description="advice jobs waiting for a worker, at most; more are refused"
    )
    max_jobs_per_principal: int = Field(
        4,
        ge=1,
        description="queued and running jobs one principal may have at once (with authentication)",
    )
    max_concurrent_profiles: int = Field(
        2, ge=1, description="Profile calls computed at once; more are refused"
    )
    max_watchers: int = Field(
        16,
        ge=1,
        description="open WatchJob streams, at most (the rest of the server's threads "
        "stay free for other calls and health)",
    )
    retention_days: float = Field(
        0.0,
        ge=0.0,
        allow_inf_nan=False,
        description="delete finished jobs, and uploads no kept job names, this many days old "
        "(checked at start and hourly); 0 keeps everything",
    )
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="derived model parts kept between runs (the encoder's warmed-up MLM head)",
    )
