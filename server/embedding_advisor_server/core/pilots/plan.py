"""How much the pilots do: the budget presets (learning-curve sizes, seeds, fine-tuning's sizes,
seeds, recipe grid and stopping rule, the TAPT pilot's masked-LM recipe) and a deadline in
seconds. Fine-tuning trains to convergence (early stopping on a dev slice) under every preset:
the larger presets spend their time on longer schedules and learning rates before extra seeds.
The quick preset's TAPT pilot pairs with the frozen encoder (an encoding, not a second
fine-tuning); the larger presets pair with fine-tuning, as the full-scale recipe trains it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..adapt.continued import MLMRecipe
from ..config import PipelineDefaults
from ..schema import Budget
from .heads.bilstm import BiLSTMRecipe
from .heads.finetune import FineTuneRecipe

MIN_CURVE_SIZE = 50
# Fine-tuning costs about this many forward passes per training example and epoch.
FINETUNE_COST = 3.0
# With a deadline, encoding the training pool may take this share of the time left: the BiLSTM
# heads of three arms at every curve size cost a few times the encoding.
ENCODING_SHARE = 0.25


@dataclass(frozen=True)
class Plan:
    """How much the pilots do: learning-curve points, seeds below the largest size, deadline,
    the sequence head's recipe; for fine-tuning (the costly arm): how many of the largest sizes,
    seeds below the largest size, and its recipe grid."""

    points: int
    seeds: int
    seconds: float = 0.0  # 0: no deadline
    finetune_points: int = 1
    finetune: FineTuneRecipe = field(default_factory=FineTuneRecipe)
    finetune_seeds: int = 1
    bilstm: BiLSTMRecipe = field(default_factory=BiLSTMRecipe)
    # Task-adaptive pretraining's masked-LM recipe (None: no TAPT pilot; the presets have one)
    tapt: MLMRecipe | None = None
    # DAPT (with a domain corpus): documents sampled per task text, read once
    dapt_documents: int = 1
    # What each continued-pretraining pilot pairs with: "finetune" (fine-tuning's headline run
    # again from the adapted weights) or "frozen" (the frozen encoder + logistic regression at
    # the pool size: an encoding of the pool, not a training of the encoder)
    tapt_pair: str = "finetune"
    # Cross-fitting (``folds.py``): the held-out examples and up to ``folds - 1`` slices of the
    # pool, each scored by the contested arms trained on the rest at the pool size (1: none)
    folds: int = 5
    # ... fine-tuning on at most this many (each fold fine-tunes the encoder once more)
    finetune_folds: int = 5

    @classmethod
    def of(cls, budget: Budget, seconds: float = 0.0) -> Plan:
        """The preset of ``budget`` (unspecified: the service's default budget)."""
        if budget is Budget.UNSPECIFIED:
            budget = PipelineDefaults.model_fields["budget"].default
        preset = PRESETS[budget]
        return replace(preset, seconds=seconds)

    def seeds_at(self, size: int, sizes: list[int]) -> range:
        """Seed offsets at ``size``: one at the largest size (the pool), ``seeds`` below it."""
        return range(1 if size == sizes[-1] else self.seeds)


PRESETS = {
    Budget.QUICK: Plan(
        3,
        2,
        finetune_points=2,
        finetune=FineTuneRecipe((1e-4,), steps=400),
        tapt=MLMRecipe(max_epochs=1),
        tapt_pair="frozen",  # a second fine-tuning would double fine-tuning's cost
        finetune_folds=3,  # two more fine-tunings, not four: ~70 s each on 400 tweets, 2 cores
    ),
    Budget.STANDARD: Plan(
        4,
        2,
        finetune_points=2,
        finetune=FineTuneRecipe((5e-5, 1e-4), steps=500, sensitive_rates=(5e-5, 1e-4, 2e-4)),
        tapt=MLMRecipe(max_epochs=3),
        dapt_documents=2,
    ),
    Budget.THOROUGH: Plan(
        5,
        3,
        finetune_points=3,
        finetune=FineTuneRecipe(
            (3e-5, 5e-5, 1e-4),
            steps=600,
            max_epochs=12,
            sensitive_rates=(5e-5, 1e-4, 2e-4, 3e-4),
        ),
        finetune_seeds=2,
        tapt=MLMRecipe(max_epochs=5, patience=2),
        dapt_documents=4,
    ),
}


def curve_sizes(pool: int, points: int, min_size: int = MIN_CURVE_SIZE) -> list[int]:
    """Halving sizes from the pool down, at most ``points``, none below ``min_size``."""
    sizes = [pool]
    while len(sizes) < points and sizes[-1] // 2 >= min(min_size, pool):
        sizes.append(sizes[-1] // 2)
    return sorted(set(sizes))
