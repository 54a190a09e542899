"""Fine-tuning's recipe: the learning rates it tries, its stopping rule and batches."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FineTuneRecipe:
    """The grid and the stopping rule. Each run trains until its dev score has not improved for
    ``patience`` epochs, at most ``max_epochs`` (``evidence/convergence.py``), after at least
    ``least`` epochs: enough for ``min_steps`` optimiser steps (a few dozen steps leave a small run at the
    majority class: MRPC, 500 examples, 2 epochs of 16: 40.3 macro-F1). With several learning
    rates, each trains ``probe_epochs`` epochs and the best on dev goes on. Multi-class and
    tagging tasks, whose fine-tuning is sensitive to the rate, try ``sensitive_rates`` (empty:
    ``learning_rates``). Runs under ``SMALL_RUN`` examples take batches of ``small_batch``; the
    rate warms up over ``warmup`` of the cap's steps, then decays linearly to 0 at the cap."""

    learning_rates: tuple[float, ...] = (5e-5, 1e-4)
    max_epochs: int = 8
    batch_size: int = 16
    max_length: int = 128
    min_steps: int = 0
    patience: int = 2
    probe_epochs: int = 2
    sensitive_rates: tuple[float, ...] = ()
    small_batch: int = 8
    warmup: float = 0.06

    def rates(self, classes: int, tagging: bool) -> tuple[float, ...]:
        """The learning rates tried on a task with ``classes`` labels (or tags)."""
        sensitive = tagging or classes > 2
        return (self.sensitive_rates or self.learning_rates) if sensitive else self.learning_rates

    def batch(self, examples: int) -> int:
        """The batch size for a run that trains on ``examples``."""
        return self.small_batch if examples < SMALL_RUN else self.batch_size

    def least(self, examples: int, rates: int = 1) -> int:
        """Epochs before early stopping may stop a run on ``examples`` (``rates`` tried)."""
        per_epoch = max(1, -(-examples // self.batch(examples)))
        wanted = max(-(-self.min_steps // per_epoch), self.probe_epochs if rates > 1 else 1)
        return min(wanted, self.max_epochs)

    def expected_epochs(self, examples: int, rates: int = 1) -> int:
        """The epochs a run is planned to cost: the probes, then the kept rate until early
        stopping (``patience`` epochs past a best at ``least``, at most the cap)."""
        rest = min(self.least(examples, rates) + self.patience, self.max_epochs)
        return rest + (rates - 1) * min(self.probe_epochs, self.max_epochs)




SMALL_RUN = 800
