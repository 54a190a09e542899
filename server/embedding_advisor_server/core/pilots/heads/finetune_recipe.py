"""Fine-tuning's recipe: the learning rates it tries, how long its schedule runs, its stopping
rule and batches.

What the project measured (``benchmarks/results/finetune_schedules.json``; test scores on 1,000
examples): on aclsum (7 classes, 2,000 examples) the learning rate decayed to 0 over 4 epochs
reached 62.1 macro-F1; decayed over 8 epochs and stopped at the best dev epoch (4), 59.5. A run
stopped part-way down its schedule is not annealed. And at the end of a whole schedule the last
epoch scored as well as the best dev epoch or better in every run measured (aclsum at 500: 55.5
against 54.2 at lr 1e-4, 54.7 against 53.2 at 2e-4): a dev slice of 75 examples picks a peak of
its own noise. So a run's schedule is sized in optimiser steps (``steps``: epochs enough for that
many, at least ``min_epochs``, at most ``max_epochs``), decays to 0 at its end, and the end is
kept; the dev score of every epoch says whether the run had converged (``convergence.py``). With
``patience`` > 0 a run stops early after that many epochs without a dev gain and keeps its best
epoch instead (no preset does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .base import dev_size

SMALL_RUN = 800  # runs on fewer examples take ``small_batch``


@dataclass(frozen=True)
class FineTuneRecipe:
    """The grid, the schedule and what is kept. Each learning rate trains its whole schedule
    (warm-up over ``warmup`` of its steps, then linear decay to 0 at ``epochs``) and keeps its
    last epoch (``patience`` > 0: stops early and keeps its best epoch); the rate whose kept
    epoch scores best on dev wins. Multi-class and tagging tasks, whose fine-tuning is sensitive
    to the rate, try ``sensitive_rates`` (empty: ``learning_rates``)."""

    learning_rates: tuple[float, ...] = (1e-4,)
    steps: int = 400
    min_epochs: int = 2
    max_epochs: int = 10
    patience: int = 0
    sensitive_rates: tuple[float, ...] = ()
    batch_size: int = 16
    small_batch: int = 8
    max_length: int = 128
    warmup: float = 0.06

    def rates(self, classes: int, tagging: bool) -> tuple[float, ...]:
        """The learning rates tried on a task with ``classes`` labels (or tags)."""
        sensitive = tagging or classes > 2
        return (self.sensitive_rates or self.learning_rates) if sensitive else self.learning_rates

    def batch(self, examples: int) -> int:
        """The batch size for a run that trains on ``examples``."""
        return self.small_batch if examples < SMALL_RUN else self.batch_size

    def epochs(self, examples: int) -> int:
        """The schedule's epochs for a run that trains on ``examples``: enough for ``steps``
        optimiser steps, within ``[min_epochs, max_epochs]``."""
        per_epoch = max(1, math.ceil(examples / self.batch(examples)))
        return min(max(math.ceil(self.steps / per_epoch), self.min_epochs), self.max_epochs)

    def at_size(self, size: int) -> tuple[int, int]:
        """``(batch, epochs)`` of the schedule for a training set of ``size`` examples (its
        dev slice held out), as a full-size run takes it."""
        fit = size - dev_size(size)
        return self.batch(fit), self.epochs(fit)

    def expected_epochs(self, examples: int, rates: int = 1) -> int:
        """The epochs a run is planned to cost: each rate's whole schedule (early stopping may
        cut it short)."""
        return self.epochs(examples) * max(rates, 1)
