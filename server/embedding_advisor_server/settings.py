"""Server settings: flags and ``ADVISOR_*`` environment variables, one pydantic model for both."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .core.models import Budget, FeatureBackend
from .core.resources import default_cache_dir


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "embedding-advisor"


class ServerSettings(BaseSettings):
    """Settings of ``advise-server`` (and of the CLI's embedded server)."""

    model_config = SettingsConfigDict(
        env_prefix="ADVISOR_", cli_kebab_case=True, cli_prog_name="advise-server"
    )

    host: str = Field("127.0.0.1", description="address to listen on ([::] for every interface)")
    port: int = Field(50051, ge=0, le=65535, description="port to listen on; 0 picks a free one")
    data_dir: Path = Field(
        default_factory=default_data_dir, description="where datasets and the job database live"
    )
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="derived model parts kept between runs (the encoder's warmed-up MLM head)",
    )
    db_path: Path | None = Field(
        None, description="the SQLite job database (default DATA_DIR/jobs.sqlite3)"
    )
    workers: int = Field(1, ge=1, le=64, description="advice jobs run at once")
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
    feature_backend: FeatureBackend = Field(
        FeatureBackend.ONNX_FP32,
        description="default runtime of frozen-encoder features: onnx_fp32, onnx_int8 or torch",
    )
    budget: Budget = Field(
        Budget.QUICK, description="default pilot effort: quick, standard or thorough"
    )
    max_upload_bytes: int = Field(2 * 1024**3, ge=1, description="largest dataset accepted")
    max_message_bytes: int = Field(
        16 * 1024**2, ge=1024**2, description="largest gRPC message accepted"
    )
    grace_seconds: float = Field(5.0, ge=0, description="time given to in-flight calls on shutdown")
    log_level: str = Field("INFO", description="logging level")

    @property
    def job_db(self) -> Path:
        return self.db_path or self.data_dir / "jobs.sqlite3"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "datasets"
