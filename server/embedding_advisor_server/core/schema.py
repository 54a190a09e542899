"""The core's domain objects: plain pydantic models, persisted as JSON in the job store and sent on
the wire. Field names and enum values match the proto (``proto/embedding_advisor/v1``) one to one,
so that one walker (``convert.py``) translates every message."""

from __future__ import annotations

import math
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .enums import (  # noqa: F401  (re-exported: the models and their enums in one place)
    Adaptation,
    Budget,
    Confidence,
    Embedding,
    FeatureBackend,
    JobState,
    Precision,
    PretrainingKind,
    Priority,
    TaskType,
)


class _Model(BaseModel):
    # NaN marks a per-example value that is not defined (no entity, no dependency arc); it must
    # survive the job store's JSON.
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants")


class AdviceOptions(_Model):
    """What a caller may tune. ``None`` means the server's default."""

    encoder: str | None = None
    vectors: str | None = None
    seed: int = Field(0, ge=0, le=2**32 - 1)
    test_fraction: float = Field(0.2, gt=0.0, lt=0.9, allow_inf_nan=False)
    max_train_examples: int | None = Field(None, ge=10)
    max_eval_examples: int | None = Field(None, ge=10)
    feature_backend: FeatureBackend = FeatureBackend.UNSPECIFIED
    budget: Budget = Budget.UNSPECIFIED
    budget_seconds: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    target_size: int = Field(0, ge=0)
    priority: Priority = Priority.UNSPECIFIED
    tolerance_points: float | None = Field(None, ge=0.0, le=100.0, allow_inf_nan=False)
    min_examples_per_second: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    max_latency_ms: float = Field(0.0, ge=0.0, allow_inf_nan=False)
    precision: Precision = Precision.UNSPECIFIED
    transductive: bool = False
    domain_corpus_id: str | None = None
    inference_volume: int = Field(0, ge=0)
    cross_fit_examples: int | None = Field(None, ge=0)


class DatasetInfo(_Model):
    dataset_id: str
    size_bytes: int
    task: TaskType
    num_examples: int
    already_stored: bool = False


class CorpusInfo(_Model):
    corpus_id: str
    size_bytes: int
    num_documents: int
    text_bytes: int
    format: str
    compressed: bool = False
    already_stored: bool = False


class LabelCount(_Model):
    label: str
    train_count: int
    test_count: int


class LengthStats(_Model):
    mean: float
    median: float
    p95: float
    max: int


class ExampleMetrics(_Model):
    """The Arora et al. metrics per held-out example, as columns aligned with ``lines``."""

    split: str  # the file ``lines`` refer to: "train" (held out by the advisor's split) or "test"
    lines: list[int]  # 1-based line of each example in its file
    complexity: list[float]
    ambiguity: list[float]
    unseen_prevalence: list[float]


class DomainShift(_Model):
    reference: str
    unigram_overlap: float
    unigram_overlap_ceiling: float
    unigram_similarity: float
    overlap_top_k: int
    overlap_tokens: int
    mlm_loss: float = 0.0
    reference_mlm_loss: float = 0.0
    mlm_head: str = ""  # "pretrained", "warmed up", or "" when unavailable
    mlm_examples: int = 0
    mlm_note: str = ""


class DatasetProfile(_Model):
    task: TaskType
    num_train: int
    num_test: int
    test_split_made: bool
    labels: list[LabelCount]
    imbalance_ratio: float
    length_words: LengthStats
    vectors_oov_rate: float
    vectors_oov_type_rate: float
    vectors_name: str
    ambiguity_mean: float = 0.0
    unseen_prevalence_mean: float = 0.0
    test_unseen_rate: float = 0.0
    encoder_pieces_per_word: float = 0.0
    complexity_mean: float = 0.0
    complexity_measure: str = ""
    parser: str = ""
    held_out_profiled: int = 0
    train_profiled: int = 0
    length_pieces: LengthStats | None = None
    encoder_truncated_rate: float = 0.0
    domain: DomainShift | None = None
    examples: ExampleMetrics | None = None


class Interval(_Model):
    low: float
    high: float
    level: float = 0.95


class CurvePoint(_Model):
    size: int
    score: float
    interval: Interval
    seeds: int


class Extrapolation(_Model):
    size: int
    score: float
    interval: Interval  # one training run's 95% prediction interval
    fitted: bool
    mean_interval: Interval | None = None  # the expected score's (the mean over runs) 95% interval


class CurveFit(_Model):
    a: float
    b: float
    c: float
    fitted: bool


class PilotResult(_Model):
    arm: str
    label: str = ""
    short_label: str = ""
    embedding: Embedding
    description: str
    score: float
    interval: Interval
    num_train: int
    num_eval: int
    featurize_seconds: float = 0.0
    train_seconds: float = 0.0
    examples_per_second: float = 0.0
    curve: list[CurvePoint] = []
    at_full_size: Extrapolation | None = None
    at_target_size: Extrapolation | None = None
    peak_memory_mib: float = 0.0
    logme: float = math.nan
    fit: CurveFit | None = None
    examples_per_second_interval: Interval | None = None
    latency_ms: float = 0.0
    latency_p95_ms: float = 0.0


class BucketGap(_Model):
    gap: float
    interval: Interval
    examples: int


class BucketedGap(_Model):
    profile_metric: str
    versus: str
    median: float
    low: BucketGap
    high: BucketGap


class Option(_Model):
    arm: str
    embedding: Embedding
    adaptation: Adaptation
    label: str
    expected: Extrapolation
    basis: str
    examples_per_second: float = 0.0
    train_seconds: float = 0.0
    examples_per_second_interval: Interval | None = None
    train_seconds_at_decision: float = 0.0
    latency_ms: float = 0.0
    latency_p95_ms: float = 0.0
    convergence: str = ""
    epoch_gain: float = 0.0
    recipe: str = ""
    recipe_config: str = ""


class Decision(_Model):
    answer: str
    evidence: Option | None = None
    alternative: Option | None = None
    gain: float = 0.0
    gain_interval: Interval | None = None
    confidence: Confidence = Confidence.UNSPECIFIED
    reason: str = ""


class PretrainingPilot(_Model):
    num_train: int
    base_score: float
    adapted_score: float
    gain: float
    gain_interval: Interval
    noise: str = ""
    held_out_mlm_loss_before: float = 0.0
    held_out_mlm_loss_after: float = 0.0
    mlm_seconds: float = 0.0
    mlm_epochs: int = 0
    mlm_steps: int = 0
    mlm_texts: int = 0
    mlm_pieces: int = 0
    finetune_seconds: float = 0.0
    recipe: str = ""
    transductive: bool = False
    corpus_documents: int = 0
    paired_on: str = ""
    mlm_flops_per_piece: float = 0.0


class AdaptedWeights(_Model):
    kind: PretrainingKind
    files: list[str] = []
    size_bytes: int = 0


class PretrainingAdvice(_Model):
    kind: PretrainingKind
    measured: bool = False
    reason: str = ""
    signals: list[str] = []
    tapt: PretrainingPilot | None = None
    dapt_projection: str = ""
    recipe: str = ""
    dapt: PretrainingPilot | None = None
    dapt_tapt: PretrainingPilot | None = None
    adapted_weights: AdaptedWeights | None = None
    recipe_config: str = ""


class Machine(_Model):
    cpu: str = ""
    cpu_cores: int = 0
    memory_gib: float = 0.0
    accelerator: str = ""
    bf16_units: str = ""
    python: str = ""
    torch: str = ""
    platform: str = ""


class RunInfo(_Model):
    server_version: str = ""
    dataset_id: str = ""
    test_dataset_id: str = ""
    options: AdviceOptions | None = None
    machine: Machine | None = None


class Recommendation(_Model):
    embedding: Embedding
    headline: str
    reasons: list[str]
    metric: str
    pilots: list[PilotResult]
    profile: DatasetProfile
    gap: float
    gap_interval: Interval
    encoder: str
    vectors: str
    anything_learned: bool
    bucketed_gaps: list[BucketedGap] = []
    pilot_notes: list[str] = []
    choice: Option | None = None
    runner_up: Option | None = None
    confidence: Confidence = Confidence.UNSPECIFIED
    trade_off: str = ""
    embedding_decision: Decision | None = None
    adaptation_decision: Decision | None = None
    pretraining: PretrainingAdvice | None = None
    priority: Priority = Priority.UNSPECIFIED
    tolerance_points: float = 0.0
    min_examples_per_second: float = 0.0
    decision_size: int = 0
    logme_rank_correlation: float = math.nan
    excluded: list[str] = []
    options: list[Option] = []
    precision: str = ""
    run: RunInfo | None = None
    max_latency_ms: float = 0.0
    inference_volume: int = 0


class Progress(_Model):
    stage: str
    fraction: float = Field(ge=0.0, le=1.0)
    message: str = ""


class Job(_Model):
    job_id: str
    state: JobState
    dataset_id: str
    test_dataset_id: str | None = None
    options: AdviceOptions
    create_time: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    progress: Progress | None = None
    error: str | None = None
    recommendation: Recommendation | None = None
