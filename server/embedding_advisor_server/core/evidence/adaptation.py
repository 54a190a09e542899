"""A continued-pretraining pilot's evidence: the same run from the original and from the adapted
weights (same training sample, seed and recipe), and the gain between them. The run paired on is
fine-tuning's headline, or (``paired_on`` "frozen", the quick budget's cheap pair) logistic
regression on the frozen encoder's pooled states at the pool size.

The gain's 95% interval is paired: each bootstrap replicate re-weights the held-out examples the
same way for both runs, so what the examples share cancels. It also carries training noise (the
seed-to-seed spread of one run, ``curves.Noise``): two single runs differ by that noise even with
no gain at all, so each replicate adds the difference of two draws. The noise comes from
paired arm's own seeds when it ran several, else the largest seed noise any arm measured
(``evidence.training_noise``), else none (then the interval says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .curves import Noise
from .metrics import Evaluation, interval

if TYPE_CHECKING:
    from ..adapt.continued import MLMRecipe


@dataclass
class PretrainingRun:
    """One continued-pretraining pilot (``pilots/adaptive.py``)."""

    kind: str  # "tapt", "dapt" or "dapt_tapt"
    size: int  # training examples of both paired runs
    seed: int
    base: Evaluation  # the paired run from the original weights
    adapted: Evaluation  # ... and from the adapted weights
    mlm_seconds: float
    # The paired run from the adapted weights (frozen: with its encoding, and the first pilot
    # also the original weights' encoding and run)
    finetune_seconds: float
    mlm_epochs: int  # the epoch kept
    mlm_epochs_run: int  # the epochs trained, which the masked-LM seconds paid for
    mlm_steps: int
    mlm_texts: int
    mlm_pieces: int  # per epoch
    recipe: MLMRecipe  # the masked-LM recipe the pilot ran
    dev_loss_before: float  # masked-LM loss on the pilot's own dev slice of the texts
    dev_loss_after: float
    held_out_loss_before: float  # ... and on the held-out task text (never trained on unless
    held_out_loss_after: float  # transductive)
    transductive: bool = False
    corpus_documents: int = 0  # DAPT: documents in the domain corpus
    prior_seconds: float = 0.0  # masked-LM seconds of the pilot it continued from (DAPT+TAPT)
    model: object = field(default=None, repr=False)  # the adapted masked-LM model (an artifact)
    # What the gain was measured on: "finetune" (fine-tuning's headline) or "frozen" (logistic
    # regression on the frozen encoder's pooled states).
    paired_on: str = "finetune"
    # One masked-LM training step's FLOPs per non-padding piece (0: not counted).
    mlm_flops_per_piece: float = 0.0


@dataclass(frozen=True)
class Gain:
    point: float
    low: float
    high: float
    noise: str  # where the training noise came from, in words ("" = none assumed)


def paired_gain(
    run: PretrainingRun,
    weights: np.ndarray,
    noise: Noise | None,
    noise_source: str = "",
    seed: int = 0,
) -> Gain:
    """The adapted run's score minus the base run's, with its paired 95% interval (module doc)."""
    point = run.adapted.score() - run.base.score()
    samples = run.adapted.resampled(weights) - run.base.resampled(weights)
    if noise is not None:
        rng = np.random.default_rng(seed)
        spread = float(noise.spread(run.size))
        samples = samples + rng.normal(size=samples.shape) * spread * np.sqrt(2.0)
    low, high = interval(samples)
    return Gain(point, min(low, point), max(high, point), noise_source if noise else "")
