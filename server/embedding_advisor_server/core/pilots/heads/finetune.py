"""The fine-tuned encoder arm: all weights trained, a minimal head, a small recipe grid.

Peters et al. 2019: fine-tuning needs only a minimal head (here: a linear layer over the
mean-pooled last hidden states; for tagging, over each word's first piece). What the project
learned on real data: a fixed recipe can collapse on small sets, a short one under-trains and a
long one stopped half-way is not annealed (``finetune_recipe.py``), so each run's schedule is
sized in optimiser steps and decays to 0 at its end, each learning rate of a small grid trains
its whole schedule, and the last (annealed) epoch of the rate that scores best there on a dev
slice held out of the run's training examples is kept (with ``patience``: early stopping, and
the best dev epoch). The dev score of every epoch judges whether the run had converged
(``evidence/convergence.py``). The chosen recipe is part of the arm's description and of the
config handed over for the full-size run. Runs on CUDA when torch sees a GPU, on the CPU
otherwise.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ...backends.precision import Resolved, resolve
from ...backends.tokens import first_pieces, text_columns
from ...backends.torch_encoder import Encoder
from ...evidence.convergence import (
    CONVERGED,
    EXTRAPOLATED,
    UNJUDGED,
    Convergence,
    judge,
    should_stop,
)
from ...evidence.metrics import evaluate
from ...progress import Check, Report, no_report
from ...schema import Precision
from .base import DEV_FRACTION, HeadContext, HeadRun, dev_split
from .finetune_recipe import FineTuneRecipe


class _Model:
    """Encoder + linear head; labels are indices into ``classes``."""

    def __init__(self, encoder: Encoder, classes: list[str], tagging: bool, precision: Resolved):
        import torch

        self.torch = torch
        self.tokenizer = encoder.tokenizer
        self.body = copy.deepcopy(encoder.model).to(precision.device).train()
        self.head = torch.nn.Linear(encoder.dim, len(classes)).to(precision.device)
        self.dropout = torch.nn.Dropout(0.1)
        self.classes = classes
        self.tagging = tagging
        self.precision = precision
        self.device = precision.device

    def parameters(self):
        return [*self.body.parameters(), *self.head.parameters()]

    def state(self) -> dict:
        return {
            "body": {k: v.detach().clone() for k, v in self.body.state_dict().items()},
            "head": {k: v.detach().clone() for k, v in self.head.state_dict().items()},
        }

    def load(self, state: dict) -> None:
        self.body.load_state_dict(state["body"])
        self.head.load_state_dict(state["head"])

    def encode(self, inputs: Sequence, max_length: int):
        if self.tagging:
            enc = self.tokenizer(
                [list(x) for x in inputs],
                is_split_into_words=True,
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
        else:
            enc = self.tokenizer(
                *text_columns(inputs),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
        return enc

    def logits(self, enc):
        """float32 logits; the forward pass in the run's precision (bf16: autocast)."""
        feed = {k: v.to(self.device) for k, v in enc.items()}
        with self.precision.autocast():
            hidden = self.dropout(self.body(**feed).last_hidden_state)
            if self.tagging:
                return self.head(hidden).float()  # batch x pieces x classes
            mask = feed["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled).float()

    def lengths(self, inputs: Sequence, max_length: int) -> np.ndarray:
        """Each example's word pieces (one tokeniser pass, no padding): what batches group by."""
        if self.tagging:
            enc = self.tokenizer(
                [list(x) for x in inputs],
                is_split_into_words=True,
                truncation=True,
                max_length=max_length,
            )
        else:
            enc = self.tokenizer(*text_columns(inputs), truncation=True, max_length=max_length)
        return np.asarray([len(ids) for ids in enc["input_ids"]])

    def targets(self, enc, targets: Sequence):
        torch = self.torch
        index = {c: i for i, c in enumerate(self.classes)}
        if not self.tagging:
            return torch.tensor([index[t] for t in targets], device=self.device)
        out = torch.full(enc["input_ids"].shape, -100, dtype=torch.long)
        for row, tags in enumerate(targets):
            for pos, word in first_pieces(enc.word_ids(row)):
                out[row, pos] = index.get(tags[word], 0)
        return out.to(self.device)

    def predict(self, inputs: Sequence, batch_size: int, max_length: int, check: Check) -> list:
        torch = self.torch
        self.body.eval()
        self.dropout.eval()
        out: list = []
        order = np.argsort(self.lengths(inputs, max_length), kind="stable")
        preds: dict[int, object] = {}
        with torch.inference_mode():
            for start in range(0, len(order), batch_size * 2):
                check()
                idx = order[start : start + batch_size * 2]
                batch = [inputs[i] for i in idx]
                enc = self.encode(batch, max_length)
                best = self.logits(enc).argmax(-1).cpu().numpy()
                for row, i in enumerate(idx):
                    if self.tagging:
                        tags = ["O"] * len(inputs[i])
                        for pos, word in first_pieces(enc.word_ids(row)):
                            tags[word] = self.classes[best[row, pos]]
                        preds[i] = tags
                    else:
                        preds[i] = self.classes[best[row]]
        out = [preds[i] for i in range(len(inputs))]
        self.body.train()
        self.dropout.train()
        return out


MEGABATCH = 50  # batches per length-sorted group


def grouped_batches(lengths: np.ndarray, batch: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch's batches, grouped by length as Hugging Face's ``group_by_length`` does: shuffle,
    sort each group of ``MEGABATCH`` batches by length, cut it into batches, shuffle the batches.
    Every example once per epoch, in random company of similar length: far less padding (random
    batches of 16 padded the example's reviews to 1.8x their pieces, MRPC's pairs to 1.4x)."""
    order = rng.permutation(len(lengths))
    out: list[np.ndarray] = []
    group = batch * MEGABATCH
    for start in range(0, len(order), group):
        chunk = order[start : start + group]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        out += [chunk[i : i + batch] for i in range(0, len(chunk), batch)]
    return [out[i] for i in rng.permutation(len(out))]


def adamw(parameters, lr: float):
    """AdamW (weight decay 0.01), fused where torch has the kernel: one fused step over every
    tensor instead of a Python loop per tensor (MiniLM on 2 CPU cores: 20 ms a step vs 124)."""
    import torch

    params = list(parameters)
    try:
        return torch.optim.AdamW(params, lr=lr, weight_decay=0.01, fused=True)
    except (RuntimeError, ValueError):  # no fused kernel for this device or dtype
        return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)


def _classes(targets: Sequence, tagging: bool) -> list[str]:
    if not tagging:
        return sorted(set(targets))
    classes = sorted({t for tags in targets for t in tags})
    return classes if "O" in classes else ["O", *classes]


class FineTuneHead:
    """Fine-tunes a copy of ``encoder`` on ``x`` (the examples' inputs) with the recipe grid,
    chooses the rate and epoch on a dev slice, and predicts with that state."""

    def __init__(
        self,
        encoder: Encoder,
        tagging: bool,
        metric: str,
        seed: int,
        recipe: FineTuneRecipe | None = None,
        report: Report = no_report,
        precision: Resolved | None = None,
    ) -> None:
        self.encoder, self.tagging, self.metric, self.seed = encoder, tagging, metric, seed
        self.recipe = recipe or FineTuneRecipe()
        self.report = report
        self.precision = precision or resolve(Precision.FP32)

    @classmethod
    def for_context(cls, ctx: HeadContext, seed: int) -> FineTuneHead:
        if ctx.encoder is None:
            raise ValueError("fine-tuning needs an encoder")
        return cls(
            ctx.encoder,
            ctx.tagging,
            ctx.metric,
            seed,
            ctx.finetune_recipe,
            ctx.report,
            ctx.precision,
        )

    def fit(self, x: Sequence, y: Sequence, check: Check) -> HeadRun:
        recipe = self.recipe
        classes = _classes(y, self.tagging)
        fit_idx, dev_idx = dev_split(len(x), self.seed)
        data = (
            [x[i] for i in fit_idx],
            [y[i] for i in fit_idx],
            [x[i] for i in dev_idx],
            [y[i] for i in dev_idx],
        )
        rates = recipe.rates(len(classes), self.tagging)
        batch, epochs = recipe.batch(len(data[0])), recipe.epochs(len(data[0]))
        planned, done = epochs * len(rates), 0
        t0 = time.perf_counter()
        kept: _Run | None = None
        early = recipe.patience > 0 and bool(data[2])
        for k, lr in enumerate(rates):  # each its whole schedule; the best kept epoch's dev wins
            run = self._run(classes, lr, batch, epochs, data, check)
            while len(run.scores) < epochs and not (
                early and should_stop(run.scores, recipe.patience)
            ):
                done += 1
                self._epoch(run, min(done / planned, 1.0), check, early)
            done = (k + 1) * epochs  # a rate stopped early: its share of the progress is done
            if kept is None or _kept_score(run, early) > _kept_score(kept, early):
                kept = run  # the other rate's model goes: one model in memory beside this one
        assert kept is not None
        train_seconds = time.perf_counter() - t0
        judged = judge(kept.scores, recipe.patience) if data[2] else Convergence(UNJUDGED)
        if early:
            kept.model.load(kept.best_state)
        elif data[2]:  # the schedule's annealed end is kept, whatever epoch peaked on dev
            judged = replace(judged, epoch=len(kept.scores))
        return self._result(
            kept, judged, rates, (batch, epochs), len(data[2]), train_seconds, check
        )

    def _run(self, classes, lr, batch, epochs, data, check) -> _Run:
        import torch

        torch.manual_seed(self.seed)
        model = _Model(self.encoder, classes, self.tagging, self.precision)
        return _Run(lr, model, self._train(model, lr, batch, epochs, *data, check))

    def _epoch(self, run: _Run, done: float, check: Check, keep_best: bool) -> None:
        """One more epoch of ``run``; with ``keep_best`` (early stopping), keeps its state when
        its dev score is the best so far."""
        epoch, score = next(run.epochs)
        run.scores.append(score)
        self.report(
            done, f"fine-tuning: lr {run.lr:g}, epoch {epoch}: dev {self.metric} {100 * score:.1f}"
        )
        if keep_best and (len(run.scores) == 1 or score > max(run.scores[:-1])):
            run.best_state = run.model.state()

    def _result(self, run, judged, rates, schedule, dev, train_seconds, check) -> HeadRun:
        recipe, model = self.recipe, run.model
        batch, epochs = schedule
        grid = "/".join(f"{v:g}" for v in rates)
        epoch = judged.epoch or len(run.scores)
        stop = {
            CONVERGED: "converged",
            EXTRAPOLATED: "still improving at its end",
            UNJUDGED: "no dev slice: the last epoch",
        }[judged.verdict]
        if len(run.scores) < epochs:
            stop = f"stopped early, {patience_words(recipe.patience)}"
        kept = "the best dev epoch" if recipe.patience else "the last (annealed) epoch"
        on = "each word's first piece" if self.tagging else "the mean-pooled states"
        return HeadRun(
            predict=lambda inputs: model.predict(
                inputs, recipe.batch_size, recipe.max_length, check
            ),
            description=(
                f"Fine-tuned {self.encoder.name} (all weights, torch on {model.device}, "
                f"{self.precision.precision.value}), linear head on {on}; lr {run.lr:g} (of "
                f"{grid}) on a {dev}-example dev slice, epoch {epoch} of {len(run.scores)} "
                f"kept ({kept}; lr decaying to 0 over {epochs} epochs: {stop}; length-grouped "
                f"batches of {batch})"
            ),
            train_seconds=train_seconds,
            epochs=epoch,
            learning_rate=run.lr,
            dev_score=run.scores[epoch - 1] if dev else float("nan"),
            convergence=judged,
            recipe={
                "head": f"fine-tuned encoder, linear layer on {on}",
                "encoder": self.encoder.name,
                "learning_rate": run.lr,
                "learning_rates_tried": list(rates),
                "schedule_steps": recipe.steps,
                "min_epochs": recipe.min_epochs,
                "max_epochs": recipe.max_epochs,
                "early_stopping_patience": recipe.patience,
                "pilot_epochs": epoch,
                "pilot_schedule_epochs": epochs,
                "batch_size": recipe.batch_size,
                "small_batch": recipe.small_batch,
                "max_length": recipe.max_length,
                "optimizer": "AdamW, weight decay 0.01, gradient clipping 1.0",
                "schedule": f"linear warm-up over {recipe.warmup:.0%} of the steps, then linear "
                "decay to 0 at the last epoch",
                "dev_fraction": DEV_FRACTION,
                "precision": self.precision.precision.value,
            },
        )

    def _train(self, model, lr, batch, epochs, fit_x, fit_y, dev_x, dev_y, check):
        """Train ``model`` at ``lr`` over ``epochs`` epochs, the rate decaying to 0 at the last;
        yields ``(epoch, dev score)`` after each epoch (the caller decides when to stop)."""
        import torch

        recipe = self.recipe
        n_classes = len(model.classes)
        opt = adamw(model.parameters(), lr)
        steps = epochs * max(1, -(-len(fit_x) // batch))
        warm = max(1, int(recipe.warmup * steps))
        lengths = model.lengths(fit_x, recipe.max_length)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(steps - warm, 1)))
        )
        loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
        rng = np.random.default_rng(self.seed)
        for epoch in range(1, epochs + 1):
            for idx in grouped_batches(lengths, batch, rng):
                check()
                enc = model.encode([fit_x[i] for i in idx], recipe.max_length)
                y = model.targets(enc, [fit_y[i] for i in idx])
                logits = model.logits(enc)
                loss = loss_fn(logits.reshape(-1, n_classes), y.reshape(-1))
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
            score = 0.0
            if dev_x:
                preds = model.predict(dev_x, recipe.batch_size, recipe.max_length, check)
                score = evaluate(self.metric, dev_y, preds).score()
            yield epoch, score


def _kept_score(run: _Run, best: bool) -> float:
    """The dev score of the epoch ``run`` keeps: its best (early stopping) or its last."""
    return max(run.scores) if best else run.scores[-1]


@dataclass
class _Run:
    """One learning rate's training: its model, its epochs (a generator), dev scores so far and
    the state of its best epoch."""

    lr: float
    model: _Model
    epochs: Iterator
    scores: list[float] = field(default_factory=list)
    best_state: dict | None = None


def patience_words(patience: int) -> str:
    return f"{patience} epoch{'s' if patience != 1 else ''} without a gain"
