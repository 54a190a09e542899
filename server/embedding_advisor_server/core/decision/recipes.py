"""The full-scale recipe for the advised continued pretraining: in words (``PretrainingAdvice.
recipe``) and as a JSON config (``recipe_config``) that a pipeline can read.

TAPT follows Gururangan et al. 2020: 100 epochs over the task's training texts, batches of 256,
lr 1e-4 with 6% warm-up. DAPT on a user's corpus: Gururangan et al. trained 12.5k steps of 2,048
sequences on 2-8 billion tokens per domain; a user's corpus is usually far smaller, so the recipe
reads the whole corpus for up to ``FULL_DAPT_EPOCHS`` epochs (at most ``FULL_DAPT_STEPS`` steps of
256), stopping when the masked-LM loss on a held-out slice of it stops falling. DAPT+TAPT: the
one, then the other. Steps, pieces and hours on this machine come from the pilot's measured
masked-LM speed; GPU time is not measured.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from ..evidence.adaptation import PretrainingRun

FULL_TAPT_EPOCHS = 100
FULL_BATCH = 256
FULL_DAPT_EPOCHS = 10
FULL_DAPT_STEPS = 12_500
CORPUS, TASK = "the domain corpus", "the task's training texts"


@dataclass(frozen=True)
class Stage:
    texts: str  # what it reads, in words
    count: int  # how many texts
    epochs: int
    steps: int
    pieces: float  # pieces in all (epochs included)
    hours: float  # on this machine, at the pilot's speed
    rate: float  # the pilot's masked-LM pieces per second
    learning_rate: float
    max_length: int
    whole_word: bool

    def words(self) -> str:
        what = (
            f"the domain corpus's {self.count:,} documents"
            if self.texts == CORPUS
            else f"the task's {self.count:,} training texts (labels unused)"
        )
        return (
            f"masked-LM training on {what}: up to "
            f"{self.epochs} epochs or until the masked-LM loss on a held-out slice stops falling, "
            f"batches of {FULL_BATCH} (accumulate gradients), lr {self.learning_rate:g} with 6% "
            f"warm-up and linear decay, 15% "
            f"{'whole-word' if self.whole_word else '80/10/10'} masking, {self.max_length} pieces "
            f"max: {self.steps:,} steps, about {self.pieces / 1e6:,.1f} M pieces; at the pilot's "
            f"{self.rate:,.0f} pieces/s ~{self.hours:.1f} h on this machine"
        )


def _stage(run: PretrainingRun, texts: str, count: int, epochs: int, max_steps: int = 0) -> Stage:
    per_batch = math.ceil(count / FULL_BATCH)
    steps = epochs * per_batch
    if max_steps and steps > max_steps:
        steps, epochs = max_steps, max(1, max_steps // max(per_batch, 1))
    pieces = steps * FULL_BATCH * run.mlm_pieces / max(run.mlm_texts, 1)
    pieces = min(pieces, epochs * count * run.mlm_pieces / max(run.mlm_texts, 1))
    rate = run.mlm_pieces * run.mlm_epochs_run / max(run.mlm_seconds, 1e-6)
    return Stage(
        texts,
        count,
        epochs,
        steps,
        pieces,
        pieces / rate / 3600,
        rate,
        run.recipe.learning_rate,
        run.recipe.max_length,
        run.recipe.whole_word,
    )


def stages(kind: str, runs: dict[str, PretrainingRun], train_texts: int) -> list[Stage]:
    """The full-scale stages of ``kind`` ("tapt", "dapt", "dapt_tapt"), priced with the pilots'
    measured speeds (``runs`` by kind)."""
    out = []
    if kind in ("dapt", "dapt_tapt"):
        dapt = runs.get("dapt") or runs[kind]  # DAPT+TAPT carries the corpus size too
        out.append(
            _stage(
                dapt,
                CORPUS,
                dapt.corpus_documents,
                FULL_DAPT_EPOCHS,
                FULL_DAPT_STEPS,
            )
        )
    if kind in ("tapt", "dapt_tapt"):
        out.append(_stage(runs[kind], TASK, train_texts, FULL_TAPT_EPOCHS))
    return out


def recipe_text(kind: str, runs: dict[str, PretrainingRun], train_texts: int) -> str:
    parts = stages(kind, runs, train_texts)
    hours = sum(s.hours for s in parts)
    steps = "; then ".join(s.words() for s in parts)
    return (
        f"{steps[0].upper()}{steps[1:]}. In all ~{hours:.1f} h on this machine (GPU time not "
        "measured). Then fine-tune from the adapted weights with the advised recipe."
    )


def recipe_config(kind: str, runs: dict[str, PretrainingRun], train_texts: int) -> str:
    """The same recipe as a JSON object."""
    parts = stages(kind, runs, train_texts)
    return json.dumps(
        {
            "kind": kind,
            "stages": [
                {
                    "texts": s.texts,
                    "num_texts": s.count,
                    "objective": "masked-LM, 15% of pieces",
                    "masking": "whole-word" if s.whole_word else "80/10/10",
                    "max_epochs": s.epochs,
                    "steps": s.steps,
                    "batch_size": FULL_BATCH,
                    "learning_rate": s.learning_rate,
                    "warmup_fraction": 0.06,
                    "schedule": "linear decay",
                    "max_length": s.max_length,
                    "early_stopping": "masked-LM loss on a held-out slice",
                    "pieces": round(s.pieces),
                    "hours_this_machine": round(s.hours, 2),
                }
                for s in parts
            ],
            "then": "fine-tune from the adapted weights with the advised fine-tuning recipe",
        },
        indent=2,
    )
