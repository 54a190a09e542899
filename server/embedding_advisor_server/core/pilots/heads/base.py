"""The protocol every head follows, scikit-learn style: built with its settings, ``fit(x, y,
check)`` returns a ``HeadRun`` whose ``predict`` scores new examples with the fitted head.

``x`` is what the arm's featuriser gives (``pilots/features.py``): per-example arrays for the
frozen-feature heads, the examples' inputs for fine-tuning. ``y`` holds one label per example, or
one tag sequence per example for token tagging.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ...backends.precision import Resolved, device
from ...evidence.convergence import CONVEX, Convergence
from ...progress import Check, Report, no_report

if TYPE_CHECKING:  # the heads import torch only when they train
    from ...backends.torch_encoder import Encoder
    from .bilstm import BiLSTMRecipe
    from .finetune import FineTuneRecipe

DEV_FRACTION = 0.15
MIN_DEV = 10


@dataclass
class HeadRun:
    """A fitted head: ``predict(x)`` gives one label (tagging: one tag sequence) per example."""

    predict: Callable[[Sequence], list] = field(repr=False)
    description: str
    train_seconds: float
    epochs: int = 0
    learning_rate: float = 0.0
    dev_score: float = float("nan")
    # Whether training had converged (``evidence/convergence.py``); without epochs: a convex fit.
    convergence: Convergence = field(default_factory=lambda: Convergence(CONVEX))
    # The recipe to train this head at full size, as a JSON-ready config (``recipe.py``).
    recipe: dict = field(default_factory=dict)


class Head(Protocol):
    def fit(self, x: Sequence, y: Sequence, check: Check) -> HeadRun: ...


@dataclass(frozen=True)
class HeadContext:
    """What a head may need beyond its seed: the task, the encoder to fine-tune, the heads'
    recipes (None: their defaults), where fine-tuning reports its epochs, and the precision torch
    computes in (None: fp32)."""

    tagging: bool
    metric: str
    encoder: Encoder | None = None
    finetune_recipe: FineTuneRecipe | None = None
    bilstm_recipe: BiLSTMRecipe | None = None
    report: Report = no_report
    precision: Resolved | None = None


HeadFactory = Callable[[HeadContext, int], Head]  # (context, seed) -> an unfitted head


def dev_size(n: int) -> int:
    """How many of ``n`` training examples the dev slice holds: 15% (at least 10), none when
    ``n`` < 20."""
    return max(MIN_DEV, int(n * DEV_FRACTION)) if n >= 2 * MIN_DEV else 0


def dev_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(fit, dev)`` indices: a seeded dev slice of ``dev_size(n)`` examples."""
    n_dev = dev_size(n)
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_dev:]), np.sort(order[:n_dev])


__all__ = [
    "DEV_FRACTION",
    "Head",
    "HeadContext",
    "HeadFactory",
    "HeadRun",
    "dev_size",
    "dev_split",
    "device",
]
