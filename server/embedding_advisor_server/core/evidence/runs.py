"""What the pilots measured: one ``ArmRun`` per option, with a ``CurveRun`` per training of its
head. The runner (``pilots/runner.py``) makes them; the evidence and the decision read them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..schema import Adaptation, Embedding
from .convergence import CONVEX, Convergence
from .metrics import Evaluation, Shifted


@dataclass
class CurveRun:
    """One training of an arm's head: ``size`` examples drawn with ``seed``. Cross-fitted
    (``pilots/folds.py``), the evaluation is of every fold: the held-out examples scored by this
    run and each other fold by a run trained on the rest (``held_out``: this run's own)."""

    size: int
    seed: int
    evaluation: Evaluation | Shifted
    train_seconds: float
    first_fold: Evaluation | None = None  # this run's held-out evaluation, when cross-fitted

    @property
    def held_out(self) -> Evaluation | Shifted:
        """This run's own score on the held-out examples."""
        return self.first_fold if self.first_fold is not None else self.evaluation


@dataclass
class ArmRun:
    arm: str
    embedding: Embedding
    description: str
    evaluation: Evaluation  # the head trained on the whole pilot pool (seed 0)
    num_train: int
    num_eval: int
    featurize_seconds: float = 0.0
    train_seconds: float = 0.0
    examples_per_second: float = 0.0
    # Its 95% interval (0, 0: not measured): timed batches resampled (``pilots/cost.py``).
    examples_per_second_low: float = 0.0
    examples_per_second_high: float = 0.0
    # One request's latency (an example alone), median and 95th percentile, ms; 0: not measured.
    latency_ms: float = 0.0
    latency_p95_ms: float = 0.0
    curve: list[CurveRun] = field(default_factory=list)
    peak_memory_mib: float = 0.0
    logme: float = math.nan  # LogME of the arm's pooled frozen features on the pool's labels
    adaptation: Adaptation = Adaptation.UNSPECIFIED
    label: str = ""  # in words, e.g. "fine-tuned all-MiniLM-L6-v2 (bundled)"
    short_label: str = ""  # for tables, e.g. "fine-tuned"
    # With a single size, the expected score borrows this arm's fitted gain (see candidates.py).
    borrows_curve_of: str = ""
    # How the headline run's training was judged (``convergence.py``): converged, by
    # epoch extrapolation (with the dev gain more epochs are expected to add), or a convex fit.
    convergence: Convergence = field(default_factory=lambda: Convergence(CONVEX))
    # The recipe to train the option at full size (JSON-ready; ``decision/train_recipe.py``).
    recipe: dict = field(default_factory=dict)
