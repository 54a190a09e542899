"""``AdviceOptions`` built from the words users type (``onnx-fp32``, ``quick``, ``cost``)."""

from __future__ import annotations

from .output import enum_word
from .v1 import advisor_pb2 as pb


def choices(enum) -> list[str]:
    """The values of a proto enum as users spell them (``FEATURE_BACKEND_ONNX_FP32`` ->
    ``onnx-fp32``), the unspecified one left out."""
    return [enum_word(enum.DESCRIPTOR, v.number) for v in enum.DESCRIPTOR.values if v.number]


def _enum(enum, prefix: str, field: str, value: str | None) -> int:
    if not value:
        return 0
    spelled = value.lower().replace("_", "-")
    if spelled not in choices(enum):
        raise ValueError(f"{field} must be one of {', '.join(choices(enum))}, not {value!r}")
    return enum.Value(prefix + spelled.upper().replace("-", "_"))


def options(
    *,
    encoder: str | None = None,
    vectors: str | None = None,
    seed: int | None = None,
    test_fraction: float | None = None,
    max_train_examples: int | None = None,
    max_eval_examples: int | None = None,
    feature_backend: str | None = None,
    budget: str | None = None,
    budget_seconds: float | None = None,
    target_size: int | None = None,
    priority: str | None = None,
    tolerance_points: float | None = None,
    min_examples_per_second: float | None = None,
    max_latency_ms: float | None = None,
    precision: str | None = None,
    transductive: bool = False,
    domain_corpus_id: str | None = None,
    inference_volume: int | None = None,
    cross_fit_examples: int | None = None,
) -> pb.AdviceOptions:
    """Build ``AdviceOptions``; ``None`` leaves the server's default. ``feature_backend``:
    ``onnx-fp32``, ``onnx-int8`` or ``torch``; ``budget``: ``quick``, ``standard`` or
    ``thorough``; ``priority``: ``accuracy``, ``balanced`` or ``cost``; ``precision``: ``auto``,
    ``fp32`` or ``bf16``; ``transductive``: task-adaptive pretraining may read the held-out
    inputs too; ``domain_corpus_id``: an uploaded domain corpus (``AdvisorClient.upload_corpus``)
    for the DAPT pilots; ``inference_volume``: examples the deployment will score, against which
    the decision weighs training time (unset: one million); ``cross_fit_examples``: with no test
    file, the examples the pilots score at least, cross-fitting the contested options on further
    folds of the training file (0: none)."""
    return pb.AdviceOptions(
        priority=_enum(pb.Priority, "PRIORITY_", "priority", priority),
        tolerance_points=tolerance_points,
        min_examples_per_second=min_examples_per_second or 0.0,
        max_latency_ms=max_latency_ms or 0.0,
        inference_volume=inference_volume or 0,
        feature_backend=_enum(
            pb.FeatureBackend, "FEATURE_BACKEND_", "feature_backend", feature_backend
        ),
        budget=_enum(pb.Budget, "BUDGET_", "budget", budget),
        precision=_enum(pb.Precision, "PRECISION_", "precision", precision),
        budget_seconds=budget_seconds or 0.0,
        target_size=target_size or 0,
        encoder=encoder or "",
        vectors=vectors or "",
        seed=seed,
        test_fraction=test_fraction or 0.0,
        max_train_examples=max_train_examples or 0,
        max_eval_examples=max_eval_examples or 0,
        transductive=transductive,
        domain_corpus_id=domain_corpus_id or "",
        cross_fit_examples=cross_fit_examples,
    )


def with_corpus(advice_options: pb.AdviceOptions | None, corpus_id: str) -> pb.AdviceOptions:
    """A copy of ``advice_options`` that measures DAPT on the uploaded corpus ``corpus_id`` (the
    caller's options stay as they were)."""
    chosen = pb.AdviceOptions()
    if advice_options is not None:
        chosen.CopyFrom(advice_options)
    chosen.domain_corpus_id = corpus_id
    return chosen
