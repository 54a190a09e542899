"""The full-scale recipe for the advised continued pretraining: in words (``PretrainingAdvice.
recipe``) and as a JSON config (``recipe_config``) that a pipeline can read.

TAPT follows Gururangan et al. 2020: 100 epochs over the task's training texts, batches of 256,
lr 1e-4 with 6% warm-up. DAPT on a user's corpus: Gururangan et al. trained 12.5k steps of 2,048
sequences on 2-8 billion tokens per domain; a user's corpus is usually far smaller, so the recipe
reads the whole corpus for up to ``FULL_DAPT_EPOCHS`` epochs (at most ``FULL_DAPT_STEPS`` steps of
256), stopping when the masked-LM loss on a held-out slice of it stops falling. DAPT+TAPT: the
one, then the other. Steps, pieces and hours on this machine come from the pilot's measured
masked-LM speed.

Hours on one GPU are a projection, labelled as one: the run's floating-point operations (its
pieces times the operations per piece that the pilot counted on its first step, forward and
backward, ``adapt/continued.py``) over a reference accelerator's bf16 peak, at a range of assumed
shares of it (``REFERENCE_GPU``): a small encoder keeps a GPU less busy than a BERT-base one, and
how busy is not measured here. The JSON config carries the operations, so a pipeline can price the
run at its own hardware's measured rate.
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
KIND_WORDS = {"tapt": "TAPT", "dapt": "DAPT", "dapt_tapt": "DAPT+TAPT"}


@dataclass(frozen=True)
class Accelerator:
    """The GPU a projection prices the run on: its dense bf16 tensor peak, and the range of
    shares of it a masked-LM run is assumed to keep busy (not measured here)."""

    name: str
    peak_flops: float  # per second
    busy: tuple[float, float]  # the assumed share of the peak: least, most

    def hours(self, flops: float) -> tuple[float, float]:
        """The run's hours at the most, then the least, assumed share."""
        return tuple(flops / (self.peak_flops * b) / 3600 for b in reversed(self.busy))

    def words(self) -> str:
        low, high = self.busy
        return (
            f"{self.name}, if the run keeps {low:.0%}-{high:.0%} of its "
            f"{self.peak_flops / 1e12:,.0f} TFLOP/s bf16 peak busy"
        )


# NVIDIA's H100 SXM datasheet: 989 TFLOP/s of dense bf16 tensor throughput (1,979 with
# sparsity). The 10-40% is an assumption, not a measurement.
REFERENCE_GPU = Accelerator("one NVIDIA H100 SXM", 989e12, (0.10, 0.40))


@dataclass(frozen=True)
class Stage:
    texts: str  # what it reads, in words
    count: int  # how many texts
    epochs: int
    steps: int
    pieces: float  # pieces in all (epochs included)
    hours: float  # on this machine, at the pilot's speed
    rate: float  # the pilot's masked-LM pieces per second
    flops: float  # floating-point operations in all (0: the pilot did not count them)
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
            + (f", {self.flops / 1e15:,.1f} PFLOP" if self.flops else "")
        )

    @property
    def gpu_hours(self) -> tuple[float, float] | None:
        """Projected on ``REFERENCE_GPU`` (least, most); None: the operations were not counted."""
        return REFERENCE_GPU.hours(self.flops) if self.flops else None


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
        pieces * run.mlm_flops_per_piece,
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
        f"{steps[0].upper()}{steps[1:]}. In all ~{hours:.1f} h on this machine; "
        f"{_gpu_words(parts)}. Then fine-tune from the adapted weights with the advised recipe."
    )


def cost_words(kind: str, runs: dict[str, PretrainingRun], train_texts: int) -> str:
    """What a full-scale run of ``kind`` would cost, in a sentence: for an answer that advises
    none, so the user sees what a longer run than the pilot's would take."""
    parts = stages(kind, runs, train_texts)
    hours = sum(s.hours for s in parts)
    what = ", then ".join(_brief(s) for s in parts)
    return (
        f"A full-scale {KIND_WORDS[kind]} run ({what}) would take ~{_short(hours)} on this machine; "
        f"{_gpu_words(parts)}."
    )


def _brief(s: Stage) -> str:
    texts = "documents" if s.texts == CORPUS else "texts"
    return f"{s.steps:,} steps of {FULL_BATCH} over {s.count:,} {texts}"


def _gpu_hours(parts: list[Stage]) -> tuple[float, float] | None:
    hours = [s.gpu_hours for s in parts]
    if any(h is None for h in hours):
        return None
    return sum(h[0] for h in hours), sum(h[1] for h in hours)  # type: ignore[index]


def _gpu_words(parts: list[Stage]) -> str:
    gpu = _gpu_hours(parts)
    if gpu is None:
        return "GPU time not projected (the pilot did not count its operations)"
    return (
        f"projected from its operations alone (loading, evaluation and overheads not counted), "
        f"not measured: {_short(gpu[0])} to {_short(gpu[1])} on {REFERENCE_GPU.words()}"
    )


def _short(hours: float) -> str:
    if hours >= 1:
        return f"{hours:.1f} h"
    return f"{hours * 60:.1f} min" if hours * 60 >= 1 else f"{max(hours * 3600, 1):.0f} s"


def _rounded(hours: tuple[float, float] | None) -> list[float] | None:
    return None if hours is None else [round(h, 4) for h in hours]


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
                    "training_flop": s.flops or None,
                    "hours_one_gpu_projected": _rounded(s.gpu_hours),
                }
                for s in parts
            ],
            "gpu_projection": {  # least and most hours: the most, then the least busy
                "accelerator": REFERENCE_GPU.name,
                "peak_tflops_bf16": REFERENCE_GPU.peak_flops / 1e12,
                "share_of_peak_assumed": list(REFERENCE_GPU.busy),
                "measured": False,
                "hours": _rounded(_gpu_hours(parts)),
            },
            "then": "fine-tune from the adapted weights with the advised fine-tuning recipe",
        },
        indent=2,
    )
