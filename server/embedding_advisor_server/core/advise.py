"""The advice pipeline: dataset -> profile -> pilots -> recommendation, with progress and cancel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .blobs import BlobStore
from .dataset import Dataset, check_pairing, parse_jsonl, sample, split
from .decide import Preferences
from .jobs import JobControl
from .metrics import bootstrap_weights, choose_metric
from .mlm import MLMUnavailable
from .models import (
    AdviceOptions,
    Budget,
    DatasetProfile,
    FeatureBackend,
    Priority,
    Recommendation,
)
from .profile import ProfileTools, profile_dataset
from .recommend import recommend
from .resources import ResourceCache
from .runner import Plan, run_pilots

BOOTSTRAP_ROUNDS = 1000


@dataclass(frozen=True)
class Defaults:
    """Server-side defaults for options a request leaves unset."""

    encoder: str | None = None
    vectors: str | None = None
    max_train_examples: int = 2000
    max_eval_examples: int = 1000
    feature_backend: FeatureBackend = FeatureBackend.ONNX_FP32
    budget: Budget = Budget.QUICK


@dataclass(frozen=True)
class Splits:
    train: Dataset
    test: Dataset
    test_split_made: bool


class Pipeline:
    """Runs the stages over uploaded datasets, with the server's defaults and model cache."""

    def __init__(self, blobs: BlobStore, resources: ResourceCache, defaults: Defaults) -> None:
        self.blobs = blobs
        self.resources = resources
        self.defaults = defaults

    def load_splits(
        self, dataset_id: str, test_dataset_id: str | None, options: AdviceOptions
    ) -> Splits:
        """Read the uploaded file(s), check them together, and make the seeded split when needed."""
        data = parse_jsonl(self.blobs.read(dataset_id), source="train")
        test = (
            parse_jsonl(self.blobs.read(test_dataset_id), source="test")
            if test_dataset_id
            else None
        )
        check_pairing(data, test)
        if test is not None:
            return Splits(data, test, test_split_made=False)
        train, test = split(data, options.test_fraction, options.seed)
        return Splits(train, test, test_split_made=True)

    def profile(
        self, dataset_id: str, test_dataset_id: str | None, options: AdviceOptions
    ) -> DatasetProfile:
        splits = self.load_splits(dataset_id, test_dataset_id, options)
        return self._profile(
            splits, options, self.resources.tokenizer(options.encoder or self.defaults.encoder)
        )

    def _profile(
        self,
        splits: Splits,
        options: AdviceOptions,
        tokenizer,
        report: Callable[[float, str], None] = lambda fraction, message: None,
        check: Callable[[], None] = lambda: None,
    ) -> DatasetProfile:
        encoder = options.encoder or self.defaults.encoder
        tools = ProfileTools(
            vectors=self.resources.vectors(options.vectors or self.defaults.vectors),
            tokenizer=tokenizer,
        )
        if not splits.train.is_tagging:
            report(0.0, "loading the dependency parser")
            tools.parser = self.resources.parser()
        check()
        try:
            tools.mlm = self.resources.mlm(encoder, lambda message: report(0.5, message))
        except MLMUnavailable as exc:
            tools.mlm_note = str(exc)
        check()
        return profile_dataset(
            splits.train,
            splits.test,
            tools,
            splits.test_split_made,
            seed=options.seed,
            max_held_out=options.max_eval_examples or self.defaults.max_eval_examples,
            report=report,
            check=check,
        )

    def advise(
        self,
        dataset_id: str,
        test_dataset_id: str | None,
        options: AdviceOptions,
        control: JobControl,
    ) -> Recommendation:
        control.report("load", 0.01, "reading the dataset")
        splits = self.load_splits(dataset_id, test_dataset_id, options)
        control.check()
        control.report("load", 0.03, "loading the static vectors")
        vectors = self.resources.vectors(options.vectors or self.defaults.vectors)
        control.check()
        backend = options.feature_backend
        if backend is FeatureBackend.UNSPECIFIED:
            backend = self.defaults.feature_backend
        control.report("load", 0.06, f"loading the encoder ({backend.value})")
        encoder = self.resources.frozen_encoder(
            options.encoder or self.defaults.encoder, backend.value
        )
        control.check()

        def profile_report(fraction: float, message: str) -> None:
            control.report("profile", 0.08 + 0.07 * fraction, message)

        prof = self._profile(splits, options, encoder.tokenizer, profile_report, control.check)
        metric = choose_metric(
            splits.train.is_tagging, len(splits.train.label_counts()), prof.imbalance_ratio
        )
        max_train = options.max_train_examples or self.defaults.max_train_examples
        max_eval = options.max_eval_examples or self.defaults.max_eval_examples
        train = sample(splits.train, max_train, options.seed)
        held_out = sample(splits.test, max_eval, options.seed)
        control.check()

        def report(fraction: float, message: str) -> None:
            control.report("pilot", 0.15 + 0.8 * fraction, message)

        outcome = run_pilots(
            train,
            held_out,
            encoder,
            vectors,
            metric,
            options.seed,
            control.check,
            report,
            Plan.of(
                options.budget
                if options.budget is not Budget.UNSPECIFIED
                else self.defaults.budget,
                options.budget_seconds,
            ),
            decision_size=options.target_size or len(splits.train),
        )
        control.report("recommend", 0.97, "weighing the evidence")
        weights = bootstrap_weights(len(held_out), BOOTSTRAP_ROUNDS, options.seed)
        return recommend(
            prof,
            outcome.runs,
            metric,
            weights,
            encoder.name,
            vectors.name,
            target_size=options.target_size,
            held_out_lines=list(held_out.lines),
            notes=outcome.notes,
            seed=options.seed,
            prefs=preferences(options),
        )


def preferences(options: AdviceOptions) -> Preferences:
    """The decision rule's preferences; a latency bound becomes a throughput bound."""
    bound = options.min_examples_per_second
    if options.max_latency_ms:
        bound = max(bound, 1000.0 / options.max_latency_ms)
    return Preferences(
        priority=options.priority
        if options.priority is not Priority.UNSPECIFIED
        else Priority.BALANCED,
        tolerance_points=options.tolerance_points,
        min_examples_per_second=bound,
    )
