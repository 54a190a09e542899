"""The pilots' features, once per job: the encoder on the held-out examples (which measures its
speed), the pool shrunk to what a deadline allows, static and random vectors, the encoder on the
pool, and LogME of each source's pooled features. ``runner.py`` trains the heads on them."""

from __future__ import annotations

import math
import time

import numpy as np

from ..backends.precision import Resolved, resolve
from ..data.dataset import Dataset
from ..data.sampling import disjoint_samples, sample_indices
from ..evidence.evidence import CURVE_ROUNDS
from ..evidence.logme import logme, logme_tagging
from ..evidence.metrics import bootstrap_weights
from ..progress import Deadline, scaled
from ..schema import Precision
from .arms import ENCODER, INPUTS, NONE, RANDOM_VECTORS, STATIC_VECTORS
from .cost import Throughput, throughput
from .features import FeatureSet, measured, random_vectors, static_sequences
from .plan import ENCODING_SHARE, MIN_CURVE_SIZE

# Shares of the pilot stage's progress, in order of work.
PHASES = {
    "held_out": (0.02, 0.12),
    "vectors": (0.13, 0.15),
    "pool": (0.15, 0.45),
    "logme": (0.46, 0.47),
    "headlines": (0.47, 0.55),
    "finetune": (0.55, 0.72),
    "curves": (0.72, 0.78),
    "finetune_rest": (0.78, 0.82),
    "folds": (0.82, 0.88),
    "tapt": (0.88, 0.99),
}


def transferability(features, targets, tagging: bool) -> float:
    """LogME of pooled features (tagging: per-word rows) on their labels; NaN when undefined
    (a single class)."""
    try:
        return logme_tagging(features, targets) if tagging else logme(features, targets)
    except ValueError:
        return math.nan


class Featuriser:
    """One job's pilot data: the pool and held-out examples, the models, the plan, the deadline,
    and each feature source's features, computed once (``featurise``)."""

    def __init__(
        self,
        train,
        held_out,
        encoder,
        vectors,
        metric,
        seed,
        check,
        report,
        plan,
        precision=None,
        deadline: Deadline | None = None,
        cross_fit: int = 0,
    ):
        """``cross_fit``: the held-out examples were split from the training file, so slices of
        the pool may be scored too, until this many examples are (``folds.py``; 0: never)."""
        self.train, self.held_out = train, held_out
        self.cross_fit = cross_fit
        self.precision: Resolved = precision or resolve(Precision.FP32)
        self.encoder, self.vectors = encoder, vectors
        self.metric, self.seed, self.plan = metric, seed, plan
        self.check, self.report = check, report
        self.tagging = train.is_tagging
        # The job's deadline when it has one (it counts loading and profiling), else the plan's.
        deadline = deadline or Deadline.after(plan.seconds)
        self.deadline = deadline.at if deadline else None
        self.unafforded: list[str] = []  # arms with no run at all: the budget ran out
        self.notes: list[str] = []
        self.pool = train
        self.rate = 0.0  # the encoder's examples per second
        self.batches: list[int] = []  # examples per timed featurisation batch
        self.batch_seconds: list[float] = []
        self.features: dict[str, FeatureSet] = {}
        self.random = None  # the random vectors (``_vector_features``)
        self.logme: dict[str, float] = {}
        # The labels every evaluation has a column for, so that evaluations of other examples
        # add up (``folds.py``); tagging's entity counts need none.
        self.labels = None if self.tagging else sorted(set(train.targets) | set(held_out.targets))
        self.folds: list[np.ndarray] = []  # pool positions of each further fold (``folds.py``)
        self._score_folds()

    def _score_folds(self) -> None:
        """The scored examples' rows: the held-out examples first, then each further fold's
        (``folds``); and the replicates over them for the pruning bounds (``pruning.py``)."""
        self.held_rows = np.arange(len(self.held_out))
        self.scored = len(self.held_out) + sum(len(f) for f in self.folds)
        self.weights = bootstrap_weights(self.scored, CURVE_ROUNDS, self.seed)

    def fold_rows(self, j: int) -> np.ndarray:
        """Further fold ``j``'s rows among the scored examples (after the held-out examples and
        the folds before it)."""
        start = len(self.held_out) + sum(len(f) for f in self.folds[:j])
        return np.arange(start, start + len(self.folds[j]))

    def plan_folds(self) -> None:
        """The further folds of a cross-fit, when the held-out examples were split from the
        training file: disjoint samples of the pool of the held-out examples' size, as many as
        it takes to score ``cross_fit`` examples, at most ``plan.folds - 1`` (none from
        that many held-out examples on)."""
        held = len(self.held_out)
        if not self.cross_fit or held < 1:
            return
        wanted = math.ceil(self.cross_fit / held) - 1
        count = min(self.plan.folds - 1, wanted, len(self.pool) // held)
        self.folds = disjoint_samples(self.pool, held, count, self.seed)
        self._score_folds()

    def time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def _encode(self, data: Dataset, part: str, phase: str) -> list:
        report = scaled(self.report, *PHASES[phase])
        encoder = self.encoder

        stamps = [time.perf_counter()]

        def on_batch(done: int, total: int) -> None:
            stamps.append(time.perf_counter())
            report(done / total, f"{encoder.name}: encoding the {part} examples")

        out = self.encoder_features(data.inputs, on_batch)
        # Every batch is full but the last: what each timed batch held.
        size, n = encoder.batch_size, len(data)
        self.batches += [min(size, n - i * size) for i in range(len(stamps) - 1)]
        self.batch_seconds += list(np.diff(stamps))
        return out

    def encoder_features(self, inputs, on_batch=None, encoder=None, check=None) -> list:
        """``encoder``'s (default: the job's) frozen features of ``inputs``, one ``(features,)``
        per example: word states for tagging, else word-piece states; in the job's precision."""
        encoder = encoder or self.encoder
        features = encoder.word_features if self.tagging else encoder.sequence_features
        with self.precision.autocast():  # torch backends only; ONNX Runtime keeps its own
            return [(f,) for f in features(inputs, check or self.check, on_batch)]

    def encoder_cost(self) -> Throughput:
        """The frozen encoder's inference throughput on its runtime and batch size, with its
        spread over the timed batches of both featurisation passes: the price of every option
        that runs this encoder (frozen or fine-tuned: the same architecture), heads aside."""
        return throughput(self.batches, self.batch_seconds, seed=self.seed)

    def encoder_backend(self) -> str:
        """The frozen encoder's runtime in words, with torch's precision where it applies."""
        backend = self.encoder.backend
        return (
            f"{backend}, bf16" if self.precision.bf16 and backend.startswith("torch") else backend
        )

    def featurise(self) -> None:
        """Every source's features, once; the pool shrunk first when a deadline demands it."""
        held, seconds_held, peak_held = measured(
            lambda: self._encode(self.held_out, "held-out", "held_out")
        )
        self.rate = len(self.held_out) / max(seconds_held, 1e-6)
        self._fit_pool_to_deadline()
        self.plan_folds()
        self.check()
        self._vector_features()
        train, seconds, peak = measured(lambda: self._encode(self.pool, "train", "pool"))
        states = "each word's first-piece state" if self.tagging else "word-piece states"
        self.features[ENCODER] = FeatureSet(
            f"Frozen {self.encoder.name} ({self.encoder_backend()})",
            states,
            "each word's first-piece state" if self.tagging else "mean-pooled states",
            train,
            held,
            seconds_held + seconds,
            max(peak_held, peak),
            self.tagging,
        )
        # Fine-tuning and the baseline read the examples themselves.
        for source in (INPUTS, NONE):
            self.features[source] = FeatureSet("", "", "", self.pool.inputs, self.held_out.inputs)
        self.check()
        self.report(PHASES["logme"][0], "LogME of the frozen features")
        for source in (STATIC_VECTORS, ENCODER, RANDOM_VECTORS):
            pooled, _ = self.features[source].view(pooled=True)
            self.logme[source] = transferability(pooled, self.pool.targets, self.tagging)
        self.check()

    def one(self, source: str, i: int):
        """Held-out example ``i`` as ``source`` features it when it comes alone (one request):
        what a head reads, computed afresh at batch size 1."""
        example = self.held_out.subset([i])
        if source == ENCODER:
            return self.encoder_features(example.inputs)[0]
        if source in (STATIC_VECTORS, RANDOM_VECTORS):
            vectors = self.vectors if source == STATIC_VECTORS else self.random
            return static_sequences(vectors, example)[0]
        return example.inputs[0]  # fine-tuning and the baseline read the example itself

    def _fit_pool_to_deadline(self) -> None:
        left = self.time_left()
        if left is None:
            return
        # Encoding the pool gets a share of what is left; the heads and other arms the rest.
        affordable = int(self.rate * max(0.0, left) * ENCODING_SHARE)
        train = self.train
        if affordable < len(train):
            n = max(min(MIN_CURVE_SIZE, len(train)), affordable)
            self.pool = train.subset(sample_indices(train, n, self.seed))
            self.notes.append(
                f"Pilots trained on {n} of {len(train)} examples to fit the "
                f"{self.plan.seconds:g}-second budget (the encoder encodes ~{self.rate:.0f} "
                "examples/s)."
            )

    def _vector_features(self) -> None:
        vectors, tagging = self.vectors, self.tagging
        rand = random_vectors([self.pool, self.held_out], vectors.dim, self.seed)
        self.random = rand
        self.report(PHASES["vectors"][0], f"{vectors.name} and random vectors: features")
        per_word = "one per word" if tagging else ""
        for source, vecs, name, suffix in (
            (STATIC_VECTORS, vectors, f"{vectors.name} word vectors", ""),
            (RANDOM_VECTORS, rand, rand.name.capitalize(), " (the floor)"),
        ):
            (train, held), seconds, peak = measured(
                lambda vecs=vecs: (
                    static_sequences(vecs, self.pool),
                    static_sequences(vecs, self.held_out),
                )
            )
            self.features[source] = FeatureSet(
                name, per_word, per_word or "averaged", train, held, seconds, peak, tagging, suffix
            )
            self.check()

    # -- training -----------------------------------------------------------------------------
