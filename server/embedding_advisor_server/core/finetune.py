"""The fine-tuned encoder arm: all weights trained, a minimal head, a small recipe grid.

Peters et al. 2019: fine-tuning needs only a minimal head (here: a linear layer over the
mean-pooled last hidden states; for tagging, over each word's first piece). What the project
learned on real data: a fixed recipe can collapse on small sets, so each run tries a small grid of
learning rates, trains up to ``max_epochs`` and keeps the epoch and rate that score best on a dev
slice held out of the run's training examples (early stopping). The chosen recipe is part of the
arm's description. Runs on CUDA when torch sees a GPU, on the CPU otherwise.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .dataset import Dataset
from .heads import dev_split, device
from .metrics import evaluate
from .resources import Encoder, first_pieces, text_columns

Check = Callable[[], None]
Report = Callable[[str], None]


@dataclass(frozen=True)
class Recipe:
    """The grid: each learning rate trains ``max_epochs`` epochs, or more on a small run, so that
    it makes at least ``min_steps`` optimiser steps (at most ``epoch_cap`` epochs); runs under
    ``SMALL_RUN`` examples take batches of ``small_batch``. A few dozen steps leave a small run at
    the majority class (MRPC, 500 examples, 2 epochs of 16: 40.3 macro-F1)."""

    learning_rates: tuple[float, ...] = (5e-5, 1e-4)
    max_epochs: int = 3
    batch_size: int = 16
    max_length: int = 128
    min_steps: int = 0
    epoch_cap: int = 6
    small_batch: int = 8

    def batch(self, examples: int) -> int:
        """The batch size for a run that trains on ``examples``."""
        return self.small_batch if examples < SMALL_RUN else self.batch_size

    def epochs(self, examples: int) -> int:
        """Epochs for a run that trains on ``examples``."""
        per_epoch = max(1, -(-examples // self.batch(examples)))
        wanted = -(-self.min_steps // per_epoch)
        return max(self.max_epochs, min(wanted, self.epoch_cap))


SMALL_RUN = 800


@dataclass
class FineTuned:
    predictions: list
    description: str
    train_seconds: float
    predict_seconds: float
    learning_rate: float
    epochs: int
    dev_score: float


class _Model:
    """Encoder + linear head; labels are indices into ``classes``."""

    def __init__(self, encoder: Encoder, classes: list[str], tagging: bool, dev: str) -> None:
        import torch

        self.torch = torch
        self.tokenizer = encoder.tokenizer
        self.body = copy.deepcopy(encoder.model).to(dev).train()
        self.head = torch.nn.Linear(encoder.dim, len(classes)).to(dev)
        self.dropout = torch.nn.Dropout(0.1)
        self.classes = classes
        self.tagging = tagging
        self.device = dev

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
        feed = {k: v.to(self.device) for k, v in enc.items()}
        hidden = self.dropout(self.body(**feed).last_hidden_state)
        if self.tagging:
            return self.head(hidden)  # batch x pieces x classes
        mask = feed["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled)

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
        order = np.argsort([len(str(x)) for x in inputs], kind="stable")
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


def fine_tune(
    encoder: Encoder,
    train: Dataset,
    held_out: Dataset,
    metric: str,
    seed: int,
    recipe: Recipe,
    check: Check,
    report: Report = lambda message: None,
) -> FineTuned:
    """Fine-tune on ``train`` with the recipe grid, choose on a dev slice, predict ``held_out``."""
    import torch

    tagging = train.is_tagging
    classes = sorted({t for tags in train.targets for t in tags} if tagging else set(train.targets))
    if tagging and "O" not in classes:
        classes = ["O", *classes]
    fit_idx, dev_idx = dev_split(len(train), seed)
    fit_set, dev_set = train.subset(fit_idx.tolist()), train.subset(dev_idx.tolist())
    dev = device()
    epochs, batch = recipe.epochs(len(fit_set)), recipe.batch(len(fit_set))

    t0 = time.perf_counter()
    best: tuple[float, float, int, dict] | None = None
    model = None
    for lr in recipe.learning_rates:
        torch.manual_seed(seed)
        model = _Model(encoder, classes, tagging, dev)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
        steps = epochs * max(1, -(-len(fit_set) // batch))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s, steps=steps: max(0.0, 1.0 - s / steps)
        )
        loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
        rng = np.random.default_rng(seed)
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(fit_set))
            for start in range(0, len(order), batch):
                check()
                idx = order[start : start + batch]
                enc = model.encode([fit_set.inputs[i] for i in idx], recipe.max_length)
                y = model.targets(enc, [fit_set.targets[i] for i in idx])
                logits = model.logits(enc)
                loss = loss_fn(logits.reshape(-1, len(classes)), y.reshape(-1))
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
            if len(dev_set):
                preds = model.predict(dev_set.inputs, recipe.batch_size, recipe.max_length, check)
                score = evaluate(metric, dev_set.targets, preds).score()
            else:
                score = 0.0
            report(f"fine-tuning: lr {lr:g}, epoch {epoch}: dev {metric} {100 * score:.1f}")
            # Without a dev slice (tiny data) nothing can be chosen: keep the last epoch.
            better = score >= best[0] if best is not None and not len(dev_set) else None
            if best is None or (score > best[0] if better is None else better):
                best = (score, lr, epoch, model.state())
    train_seconds = time.perf_counter() - t0
    assert best is not None and model is not None
    score, lr, chosen, state = best
    model.load(state)
    t1 = time.perf_counter()
    predictions = model.predict(held_out.inputs, recipe.batch_size, recipe.max_length, check)
    predict_seconds = time.perf_counter() - t1
    grid = "/".join(f"{x:g}" for x in recipe.learning_rates)
    return FineTuned(
        predictions=predictions,
        description=(
            f"Fine-tuned {encoder.name} (all weights, torch on {dev}), linear head on "
            + ("each word's first piece" if tagging else "the mean-pooled states")
            + f"; lr {lr:g} and {chosen} epoch(s) chosen on a {len(dev_set)}-example dev slice "
            f"(grid lr {grid}, up to {epochs} epochs, batches of {batch})"
        ),
        train_seconds=train_seconds,
        predict_seconds=predict_seconds,
        learning_rate=lr,
        epochs=chosen,
        dev_score=score,
    )
