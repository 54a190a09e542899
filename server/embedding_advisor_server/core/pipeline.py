"""The advice pipeline: dataset -> profile -> pilots -> evidence -> recommendation, with progress
and cancel. Wires the stages and owns what share of a job's progress each stage is worth
(``STAGES``); the stages themselves know nothing of jobs."""

from __future__ import annotations

from dataclasses import dataclass, replace

from embedding_advisor.errors import InvalidArgumentError

from .. import __version__
from .adapt.corpus import Corpus
from .adapt.weights import keep_adapted
from .backends import precision
from .backends.cache import ResourceCache
from .backends.mlm import MLMUnavailable
from .config import PipelineDefaults
from .data.blobs import BlobStore
from .data.dataset import Dataset
from .data.parse import check_pairing, parse_jsonl
from .data.sampling import sample, split
from .decision.decide import Preferences
from .decision.recommend import recommend
from .evidence.metrics import bootstrap_weights, choose_metric
from .jobs.artifacts import ArtifactStore
from .jobs.manager import JobControl
from .pilots.plan import Plan
from .pilots.runner import run_pilots
from .profile.profile import ProfileTools, profile_dataset
from .progress import Check, Deadline, Report, StageProgress, no_check, no_report
from .provenance import run_info
from .schema import (
    AdviceOptions,
    Budget,
    DatasetProfile,
    FeatureBackend,
    Precision,
    Priority,
    Recommendation,
)

BOOTSTRAP_ROUNDS = 1000
# Each stage's share of a job's progress, as (start, end) fractions.
STAGES = {
    "load": (0.0, 0.08),
    "profile": (0.08, 0.15),
    "pilot": (0.15, 0.95),
    "recommend": (0.97, 1.0),
}


@dataclass(frozen=True)
class Splits:
    train: Dataset
    test: Dataset
    test_split_made: bool


class Pipeline:
    """Runs the stages over uploaded datasets, with the server's defaults and model cache."""

    def __init__(
        self,
        blobs: BlobStore,
        resources: ResourceCache,
        defaults: PipelineDefaults,
        corpora: BlobStore | None = None,
        artifacts: ArtifactStore | None = None,
    ) -> None:
        """``corpora``: the uploaded domain corpora; ``artifacts``: where a job keeps its
        adapted encoder (None: nothing is kept)."""
        self.blobs = blobs
        self.resources = resources
        self.defaults = defaults
        self.corpora = corpora
        self.artifacts = artifacts

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
        self,
        dataset_id: str,
        test_dataset_id: str | None,
        options: AdviceOptions,
        check: Check = no_check,
    ) -> DatasetProfile:
        """The profile alone; ``check`` raises to stop it (the caller's deadline passed, or it
        went away), between stages and within the parse and masked-LM loops."""
        splits = self.load_splits(dataset_id, test_dataset_id, options)
        check()
        tokenizer = self.resources.tokenizer(self._encoder(options))
        return self._profile(splits, options, tokenizer, check=check)

    def _encoder(self, options: AdviceOptions) -> str | None:
        return options.encoder or self.defaults.encoder

    def _profile(
        self,
        splits: Splits,
        options: AdviceOptions,
        tokenizer,
        report: Report = no_report,
        check: Check = no_check,
        hurried: bool = False,
    ) -> DatasetProfile:
        """The profile; ``hurried`` (a budget in seconds): no MLM head is warmed up for it."""
        tools = ProfileTools(
            vectors=self.resources.vectors(options.vectors or self.defaults.vectors),
            tokenizer=tokenizer,
        )
        if not splits.train.is_tagging:
            report(0.0, "loading the dependency parser")
            tools.parser = self.resources.parser()
        check()
        if hurried and not self.resources.mlm_ready(self._encoder(options)):
            tools.mlm_note = (
                "skipped to fit the budget in seconds: the encoder has no masked-LM head and "
                "warming one up (once, then cached) takes ~15 s on 2 CPU cores"
            )
        else:
            try:
                tools.mlm = self.resources.mlm(
                    self._encoder(options), lambda message: report(0.5, message)
                )
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

    def _frozen_encoder(self, options: AdviceOptions, hurried: bool, report: Report, notes):
        """The encoder on the backend asked for; ``hurried`` (a budget in seconds): on torch when
        the ONNX export is not cached yet, with a note."""
        backend = options.feature_backend
        if backend is FeatureBackend.UNSPECIFIED:
            backend = self.defaults.feature_backend
        if hurried and not self.resources.ready(self._encoder(options), backend.value):
            notes.append(
                f"Frozen features on torch instead of {backend.value}: exporting the encoder to "
                "ONNX (once, then cached) would have taken a share of the budget in seconds."
            )
            backend = FeatureBackend.TORCH
        report(0.75, f"loading the encoder ({backend.value})")
        return self.resources.frozen_encoder(self._encoder(options), backend.value)

    def _probe(self, options: AdviceOptions):
        """The encoder's masked-LM probe for the TAPT pilot (loaded by the profile, so cached),
        or None when it has none or was not loaded."""
        path = self._encoder(options)
        if not self.resources.mlm_ready(path):
            return None
        try:
            return self.resources.mlm(path)
        except MLMUnavailable:
            return None

    def _effort(self, options: AdviceOptions) -> tuple[Budget, precision.Resolved]:
        """The pilots' budget and what torch computes in (the server's defaults where unset)."""
        budget = (
            options.budget if options.budget is not Budget.UNSPECIFIED else self.defaults.budget
        )
        computes_in = precision.resolve(
            options.precision
            if options.precision is not Precision.UNSPECIFIED
            else self.defaults.precision
        )
        return budget, computes_in

    def resolved(self, options: AdviceOptions) -> AdviceOptions:
        """``options`` with the server's defaults in place of what they leave unset."""
        d = self.defaults
        unset = {
            "encoder": (options.encoder, d.encoder),
            "vectors": (options.vectors, d.vectors),
            "max_train_examples": (options.max_train_examples, d.max_train_examples),
            "max_eval_examples": (options.max_eval_examples, d.max_eval_examples),
            "feature_backend": (options.feature_backend, d.feature_backend),
            "budget": (options.budget, d.budget),
            "precision": (options.precision, d.precision),
            "cross_fit_examples": (options.cross_fit_examples, d.cross_fit_examples),
        }
        return options.model_copy(
            update={
                name: default
                for name, (given, default) in unset.items()
                if default is not None
                and (given is None or getattr(given, "value", 0) == "unspecified")
            }
        )

    def _corpus(self, options: AdviceOptions) -> Corpus | None:
        if not options.domain_corpus_id:
            return None
        if self.corpora is None:
            raise InvalidArgumentError("this server keeps no domain corpora")
        return Corpus(self.corpora.path(options.domain_corpus_id), "domain corpus")

    def advise(
        self,
        dataset_id: str,
        test_dataset_id: str | None,
        options: AdviceOptions,
        control: JobControl,
    ) -> Recommendation:
        deadline = Deadline.after(options.budget_seconds)  # counts loading and profiling too
        stage = {name: StageProgress(control.report, name, *span) for name, span in STAGES.items()}
        load = stage["load"]
        load(0.1, "reading the dataset")
        splits = self.load_splits(dataset_id, test_dataset_id, options)
        control.check()
        load(0.4, "loading the static vectors")
        vectors = self.resources.vectors(options.vectors or self.defaults.vectors)
        control.check()
        notes: list[str] = []
        encoder = self._frozen_encoder(options, deadline is not None, load, notes)
        control.check()
        prof = self._profile(
            splits,
            options,
            encoder.tokenizer,
            stage["profile"],
            control.check,
            deadline is not None,
        )
        metric = choose_metric(
            splits.train.is_tagging, len(splits.train.label_counts()), prof.imbalance_ratio
        )
        resolved = self.resolved(options)  # the server's defaults where the request sets none
        train = sample(splits.train, resolved.max_train_examples, options.seed)
        held_out = sample(splits.test, resolved.max_eval_examples, options.seed)
        control.check()
        budget, computes_in = self._effort(options)
        outcome = run_pilots(
            train,
            held_out,
            encoder,
            vectors,
            metric,
            options.seed,
            control.check,
            stage["pilot"],
            Plan.of(budget, options.budget_seconds),
            decision_size=options.target_size or len(splits.train),
            precision=computes_in,
            deadline=deadline,
            probe=(probe := self._probe(options)),
            transductive=options.transductive,
            corpus=self._corpus(options),
            cross_fit=resolved.cross_fit_examples if splits.test_split_made else 0,
        )
        stage["recommend"](0.0, "weighing the evidence")
        advice = recommend(
            prof,
            outcome.runs,
            metric,
            bootstrap_weights(outcome.scored or len(held_out), BOOTSTRAP_ROUNDS, options.seed),
            encoder.name,
            vectors.name,
            target_size=options.target_size,
            held_out_lines=list(held_out.lines),
            notes=notes + outcome.notes,
            seed=options.seed,
            prefs=preferences(options),
            pretraining=outcome.pretraining,
        )
        run = run_info(__version__, dataset_id, test_dataset_id, resolved)
        advice = advice.model_copy(update={"precision": computes_in.describe(), "run": run})
        if self.artifacts is not None and outcome.pretraining and probe is not None:
            advice = keep_adapted(
                advice, outcome.pretraining, probe.tokenizer, self.artifacts, control.job_id
            )
        return advice


def preferences(options: AdviceOptions) -> Preferences:
    """The decision rule's preferences (its own defaults for what the options leave unset)."""
    prefs = Preferences(
        tolerance_points=options.tolerance_points,
        min_examples_per_second=options.min_examples_per_second,
        max_latency_ms=options.max_latency_ms,
        inference_volume=options.inference_volume,
    )
    if options.priority is not Priority.UNSPECIFIED:
        prefs = replace(prefs, priority=options.priority)
    return prefs
