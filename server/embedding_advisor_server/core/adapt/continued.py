"""Continued masked-LM pretraining of a BERT-family encoder (Gururangan et al. 2020's TAPT/DAPT).

Starts from the masked-LM probe's model (``backends/mlm.py``): the checkpoint's own MLM head
when it has one, otherwise the head tied to the word embeddings that the profile warmed up on
general text; then trains every weight jointly (AdamW, linear warm-up and decay, gradient
clipping at 1, torch autocast in the job's precision). The loss is taken at the masked pieces
only: the hidden states there go through the head, not the whole sequence (15% of the
vocabulary products).

A seeded 15% of the texts is kept out as a dev slice (fixed masking): its loss is measured before
training and after each epoch, and the weights of the best epoch are kept; training stops after
``patience`` epochs without a gain, at ``max_epochs``, or when ``check`` raises (cancel, the
deadline). The caller gets the adapted encoder weights and what it cost, with the floating-point
operations of training per non-padding piece: torch's ``FlopCounterMode`` counts the first step
(forward and backward, as run) per position of its padded batch, and the positions and pieces of
every step trained scale that to a piece (so the first batch's padding does not decide it): what
prices the full-scale run on other hardware (``decision/recipes.py``).
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..backends.precision import Resolved
from ..backends.torch_encoder import on_torch
from ..pilots.heads.base import dev_split
from ..pilots.heads.finetune import adamw, grouped_batches
from ..progress import Check, Report, no_report
from .masking import Masker, tokenise


@dataclass(frozen=True)
class MLMRecipe:
    """Masked-LM training: Gururangan et al. used lr 1e-4 and 6% warm-up with batches of 256
    over 100 epochs for TAPT; a pilot gets a few epochs of small batches."""

    learning_rate: float = 1e-4
    batch_size: int = 32
    max_epochs: int = 1
    patience: int = 1
    max_length: int = 128
    whole_word: bool = False
    warmup: float = 0.06

    def describe(self) -> str:
        masking = "whole-word" if self.whole_word else "80/10/10"
        return (
            f"lr {self.learning_rate:g}, batches of {self.batch_size}, up to {self.max_epochs} "
            f"epoch(s), {masking} masking of 15% of pieces, {self.max_length} pieces max"
        )


@dataclass
class Adapted:
    """The adapted masked-LM model (its best epoch), its encoder weights (the base model's
    state, no head) and what it took."""

    model: object = field(repr=False)
    state: dict = field(repr=False)
    epochs: int  # the epoch kept (0: none beat the start)
    epochs_run: int  # epochs trained (early stopping may keep an earlier one)
    steps: int
    seconds: float
    texts: int  # texts trained on
    pieces: int  # non-padding pieces per epoch
    flops_per_piece: float  # training FLOPs per non-padding piece (0: not counted)
    dev_loss_before: float
    dev_loss_after: float
    recipe: MLMRecipe


class _Trainer:
    def __init__(self, model, tokenizer, precision: Resolved, seed: int) -> None:
        import torch

        self.torch = torch
        self.model = model
        self.tokenizer = tokenizer
        self.precision = precision
        self.seed = seed
        prefix = next(n for n in ("cls", "lm_head") if hasattr(model, n))
        self.head = getattr(model, prefix)

    def loss(self, batch: dict, reduction: str = "mean"):
        """Cross-entropy at the masked pieces (float32)."""
        torch = self.torch
        labels = batch.pop("labels").to(self.precision.device)
        feed = {k: v.to(self.precision.device) for k, v in batch.items()}
        chosen = labels != -100
        with self.precision.autocast():
            hidden = self.model.base_model(**feed).last_hidden_state[chosen]
            logits = self.head(hidden).float()
        return torch.nn.functional.cross_entropy(logits, labels[chosen], reduction=reduction)

    def dev_loss(self, rows: list[dict], batch_size: int, check: Check) -> float:
        """Mean loss per masked piece on ``rows``, masked the same way every time."""
        if not rows:
            return float("nan")
        torch = self.torch
        masker = Masker(self.tokenizer, self.seed + 7919)
        total, count = 0.0, 0
        self.model.eval()
        with torch.inference_mode():
            for start in range(0, len(rows), batch_size):
                check()
                batch = masker(rows[start : start + batch_size])
                count += int((batch["labels"] != -100).sum())
                total += float(self.loss(batch, reduction="sum"))
        self.model.train()
        return total / max(count, 1)


def continue_pretraining(
    mlm_model,
    tokenizer,
    texts: Sequence[tuple[str, ...]],
    recipe: MLMRecipe,
    precision: Resolved,
    seed: int,
    check: Check,
    report: Report = no_report,
) -> Adapted:
    """Masked-LM training of a copy of ``mlm_model`` (a ``*ForMaskedLM``; left untouched) on
    ``texts``: see the module's notes."""
    import torch

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    model = copy.deepcopy(mlm_model).to(precision.device).train()
    for p in model.parameters():
        p.requires_grad_(True)
    rows = tokenise(tokenizer, texts, recipe.max_length, recipe.whole_word)
    fit_idx, dev_idx = dev_split(len(rows), seed)
    fit = [rows[i] for i in fit_idx]
    dev = [rows[i] for i in dev_idx]
    trainer = _Trainer(model, tokenizer, precision, seed)
    masker = Masker(tokenizer, seed, recipe.whole_word)
    lengths = np.asarray([len(r["input_ids"]) for r in fit])
    pieces = int(lengths.sum())  # per epoch; the rows are truncated already, never padded
    per_epoch = max(1, -(-len(fit) // recipe.batch_size))
    total = per_epoch * recipe.max_epochs
    warm = max(1, int(recipe.warmup * total))
    opt = adamw(model.parameters(), recipe.learning_rate)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(total - warm, 1)))
    )
    before = trainer.dev_loss(dev, recipe.batch_size * 2, check)
    best = (before, 0, _state(model))
    rng = np.random.default_rng(seed)
    steps, stale, epochs_run = 0, 0, 0
    per_position, positions = 0.0, 0  # FLOPs per padded position; positions trained
    for epoch in range(1, recipe.max_epochs + 1):
        epochs_run = epoch
        for k, idx in enumerate(grouped_batches(lengths, recipe.batch_size, rng)):
            check()
            batch = masker([fit[i] for i in idx])
            positions += batch["input_ids"].numel()
            loss, flops = _backward(trainer, batch, opt, count=steps == 0)
            per_position = per_position or flops
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            steps += 1
            if k % 10 == 0:
                done = (epoch - 1 + k / per_epoch) / recipe.max_epochs
                report(done, f"masked-LM epoch {epoch}: loss {loss.item():.2f}")
        after = trainer.dev_loss(dev, recipe.batch_size * 2, check)
        report(epoch / recipe.max_epochs, f"masked-LM epoch {epoch}: dev loss {after:.3f}")
        if not dev or after < best[0]:
            best, stale = (after, epoch, _state(model)), 0
        else:
            stale += 1
            if stale >= recipe.patience:
                break
    model.load_state_dict(best[2])
    model.eval()
    return Adapted(
        model=model,
        state={k: v.detach().clone() for k, v in model.base_model.state_dict().items()},
        epochs=best[1],
        epochs_run=epochs_run,
        steps=steps,
        seconds=time.perf_counter() - t0,
        texts=len(rows),
        pieces=pieces,
        flops_per_piece=per_position * positions / max(pieces * epochs_run, 1),
        dev_loss_before=before,
        dev_loss_after=best[0],
        recipe=recipe,
    )


def _backward(trainer: _Trainer, batch: dict, opt, count: bool):
    """One training step's forward and backward: the loss, and with ``count`` its floating-point
    operations per position of the padded batch (else 0)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False) if count else None
    with counter or contextlib.nullcontext():
        opt.zero_grad()
        loss = trainer.loss(batch)
        loss.backward()
    if counter is None:
        return loss, 0.0
    return loss, counter.get_total_flops() / max(batch["input_ids"].numel(), 1)


def _state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def adapted_encoder(encoder, state: dict):
    """A copy of ``encoder`` (``backends/torch_encoder.Encoder``) with the adapted weights,
    computing on torch (an ONNX graph would hold the original's): what fine-tuning and frozen
    features then start from. Weights the masked-LM form lacks (BERT's pooler, unused by the
    heads) keep the original's values."""
    adapted = on_torch(encoder)
    adapted.model = copy.deepcopy(encoder.model)
    missing, unexpected = adapted.model.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("pooler.") for k in missing):
        raise ValueError(
            f"the adapted weights do not fit the encoder (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]})"
        )
    adapted.model.eval()
    return adapted
