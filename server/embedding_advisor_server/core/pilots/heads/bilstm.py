"""The sequence head shared by the frozen-feature arms: a one-layer BiLSTM.

Arora et al. 2020 compare frozen BERT, GloVe and random embeddings under the same downstream
sequence model, and what this project measured agrees: mean-pooled GloVe with logistic regression
lost 6-20 points to a one-layer BiLSTM over the same vectors on every dataset tried. So the frozen
encoder, the static vectors and the random vectors all get this head (Peters et al. 2019: frozen
features need a richer head than fine-tuning does).

- Sentence tasks: the BiLSTM reads the example's vectors; its states are max-pooled over positions,
  then dropout and a linear layer. The encoder reads a pair jointly (one sequence); static and
  random vectors give the two sides separately, each read by the same BiLSTM, combined as
  ``[u, v, |u-v|, u*v]``.
- Token tagging: a label per position (word).
- Training: Adam, up to ``max_epochs`` over the run's examples less a dev slice, keeping the epoch
  with the best dev score (stops after ``patience`` epochs without a gain: converged; a run still
  improving at the cap is judged by epoch extrapolation, ``evidence/convergence.py``); small runs
  use smaller batches, so that they too get some updates per epoch. CUDA when torch sees one.
- A head often sits on a plateau first (one or two classes predicted, the dev score flat) for 4
  to 11 epochs before it learns: seen on bbc_news, MRPC and drug reviews at 400 examples
  (``benchmarks/bilstm_plateau.py``). Stopping there kept heads near the majority class, so early
  stopping waits for ``min_epochs`` epochs, and for a dev score that differs from the others (a
  head whose every dev score is the same has not begun to learn). In ``advise eval``'s sweeps
  (five sets at 500 examples, 45 BiLSTM runs) this changed 11 runs: 10 rose, by 0.3 to 21.1
  points (six by more than 5), one fell by 0.9.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ...evidence.convergence import UNJUDGED, Convergence, judge
from ...evidence.metrics import evaluate
from ...progress import Check
from .base import DEV_FRACTION, HeadContext, HeadRun, dev_split, device

# One example: one (positions, dim) array per side.
Example = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class BiLSTMRecipe:
    hidden: int = 128  # per direction
    dropout: float = 0.3  # on the pooled states (tagging: on each state)
    input_dropout: float = 0.1
    learning_rate: float = 2e-3
    batch_size: int = 32  # smaller for small runs: at least 16 updates an epoch, batches >= 8
    max_epochs: int = 20
    patience: int = 3
    # no early stop before this epoch, nor on a plateau (module notes); 0: neither wait
    min_epochs: int = 10
    max_positions: int = 256


def _network(dim: int, sides: int, classes: int, tagging: bool, recipe: BiLSTMRecipe):
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class BiLSTMHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.drop = nn.Dropout(recipe.dropout)
            self.drop_in = nn.Dropout(recipe.input_dropout)
            self.lstm = nn.LSTM(dim, recipe.hidden, batch_first=True, bidirectional=True)
            width = 2 * recipe.hidden * (4 if sides == 2 and not tagging else 1)
            self.out = nn.Linear(width, classes)

        def states(self, x, lengths):
            packed = pack_padded_sequence(
                self.drop_in(x), lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            states, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True)
            return states  # batch x positions x 2*hidden

        def forward(self, batch):
            if tagging:
                x, lengths = batch[0]
                return self.out(self.drop(self.states(x, lengths)))
            pooled = []
            for x, lengths in batch:
                states = self.states(x, lengths)
                pad = torch.arange(states.shape[1], device=x.device)[None, :] >= lengths[:, None]
                pooled.append(states.masked_fill(pad[..., None], float("-inf")).amax(1))
            if len(pooled) == 2:
                u, v = pooled
                pooled = [torch.cat([u, v, (u - v).abs(), u * v], dim=1)]
            return self.out(self.drop(pooled[0]))

    return BiLSTMHead()


def _tensors(examples: Sequence[Example], sides: int, max_positions: int, dev: str):
    """Per side: a zero-padded float batch and the lengths (an empty side reads one zero vector)."""
    import torch

    out = []
    for side in range(sides):
        arrays = [e[side][:max_positions] for e in examples]
        lengths = [max(1, len(a)) for a in arrays]
        dim = arrays[0].shape[1]
        x = np.zeros((len(arrays), max(lengths), dim), dtype=np.float32)
        for row, a in enumerate(arrays):
            x[row, : len(a)] = a
        out.append((torch.from_numpy(x).to(dev), torch.tensor(lengths, device=dev)))
    return out


def _batches(examples: Sequence[Example], size: int, rng: np.random.Generator | None):
    """Batches of similar lengths (far less padding); shuffled batch order when ``rng``."""
    lengths = [sum(len(s) for s in e) for e in examples]
    order = np.argsort(lengths, kind="stable")
    if rng is not None:  # jitter the lengths so batches differ between epochs
        order = np.argsort(np.asarray(lengths) + rng.uniform(0, 3, len(lengths)), kind="stable")
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


class _Net:
    """The network with its classes, and the two things training does with it: predict (with
    the loss against gold labels when given) and turn gold labels into targets."""

    def __init__(self, x_train, y_train, tagging: bool, recipe: BiLSTMRecipe, seed: int) -> None:
        import torch

        if tagging:
            self.classes = sorted({t for tags in y_train for t in tags} | {"O"})
        else:
            self.classes = sorted(set(y_train))
        self.index = {c: i for i, c in enumerate(self.classes)}
        self.sides = len(x_train[0])
        self.tagging, self.recipe = tagging, recipe
        self.dev = device()
        dim = x_train[0][0].shape[1]
        torch.manual_seed(seed)
        self.net = _network(dim, self.sides, len(self.classes), tagging, recipe).to(self.dev)
        self.loss_sum = torch.nn.CrossEntropyLoss(ignore_index=-100, reduction="sum")

    def batch(self, examples: Sequence[Example]):
        return _tensors(examples, self.sides, self.recipe.max_positions, self.dev)

    def targets(self, gold: Sequence, rows: np.ndarray, width: int):
        import torch

        if not self.tagging:
            return torch.tensor([self.index.get(gold[i], -100) for i in rows], device=self.dev)
        y = torch.full((len(rows), width), -100, dtype=torch.long)
        for r, i in enumerate(rows):
            tags = gold[i][: self.recipe.max_positions]
            y[r, : len(tags)] = torch.tensor([self.index.get(t, -100) for t in tags])
        return y.to(self.dev)

    def predict(
        self, examples: Sequence[Example], check: Check, gold: Sequence | None = None
    ) -> tuple[list, float]:
        """Predictions, and the mean loss against ``gold`` when given."""
        import torch

        net, classes, limit = self.net, self.classes, self.recipe.max_positions
        net.eval()
        out: list = [None] * len(examples)
        loss, count = 0.0, 0
        with torch.inference_mode():
            for rows in _batches(examples, self.recipe.batch_size * 4, None):
                check()
                logits = net(self.batch([examples[i] for i in rows]))
                if gold is not None:
                    y = self.targets(gold, rows, logits.shape[1] if self.tagging else 0)
                    loss += float(self.loss_sum(logits.reshape(-1, len(classes)), y.reshape(-1)))
                    count += int((y != -100).sum())
                best = logits.argmax(-1).cpu().numpy()
                for r, i in enumerate(rows):
                    if self.tagging:
                        n = len(examples[i][0])
                        tags = [classes[k] for k in best[r, : min(n, limit)]]
                        out[i] = tags + ["O"] * (n - len(tags))
                    else:
                        out[i] = classes[best[r]]
        net.train()
        return out, loss / max(count, 1)


class BiLSTMHead:
    """Trains the BiLSTM (a dev slice held out of ``x``) and predicts with its best epoch."""

    def __init__(
        self, tagging: bool, metric: str, seed: int, recipe: BiLSTMRecipe | None = None
    ) -> None:
        self.tagging, self.metric, self.seed = tagging, metric, seed
        self.recipe = recipe or BiLSTMRecipe()

    @classmethod
    def for_context(cls, ctx: HeadContext, seed: int) -> BiLSTMHead:
        return cls(ctx.tagging, ctx.metric, seed, ctx.bilstm_recipe)

    def fit(self, x: Sequence[Example], y: Sequence, check: Check) -> HeadRun:
        import torch

        recipe, tagging = self.recipe, self.tagging
        fit_idx, dev_idx = dev_split(len(x), self.seed)
        model = _Net(x, y, tagging, recipe, self.seed)
        net, n_classes = model.net, len(model.classes)
        opt = torch.optim.Adam(net.parameters(), lr=recipe.learning_rate)
        loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
        rng = np.random.default_rng(self.seed)
        fit = [x[i] for i in fit_idx]
        dev_x, dev_y = [x[i] for i in dev_idx], [y[i] for i in dev_idx]
        t0 = time.perf_counter()
        best: tuple[tuple[float, float], int, dict] | None = None
        scores: list[float] = []
        batch_size = int(np.clip(len(fit) // 16, 8, recipe.batch_size))
        for epoch in range(1, recipe.max_epochs + 1):
            net.train()
            for rows in _batches(fit, batch_size, rng):
                check()
                logits = net(model.batch([fit[i] for i in rows]))
                gold = model.targets(y, fit_idx[rows], logits.shape[1] if tagging else 0)
                loss = loss_fn(logits.reshape(-1, n_classes), gold.reshape(-1))
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
                opt.step()
            # The best dev score wins, a lower dev loss breaks ties (a head still predicting the
            # majority class is learning while its loss falls). Without a dev slice (tiny data)
            # nothing can be chosen: the last epoch is kept.
            if dev_x:
                predicted, dev_loss = model.predict(dev_x, check, dev_y)
                key = (evaluate(self.metric, dev_y, predicted).score(), -dev_loss)
                scores.append(key[0])
            else:
                key = (0.0, 0.0)
            if best is None or key > best[0] or not dev_x:
                best = (key, epoch, copy.deepcopy(net.state_dict()))
            elif _may_stop(scores, recipe) and epoch - best[1] >= recipe.patience:
                break
        train_seconds = time.perf_counter() - t0
        assert best is not None
        (score, _), chosen, state = best
        net.load_state_dict(state)
        return HeadRun(
            predict=lambda x_eval: model.predict(x_eval, check)[0],
            description=(
                f"BiLSTM head ({recipe.hidden} per direction, "
                + ("a tag per word" if tagging else "max-pooled")
                + f"), {chosen} of up to {recipe.max_epochs} epochs chosen on a "
                f"{len(dev_x)}-example dev slice"
            ),
            train_seconds=train_seconds,
            epochs=chosen,
            dev_score=score,
            convergence=_verdict(scores, chosen, bool(dev_x)),
            recipe={
                "head": "BiLSTM, "
                + ("a tag per word" if tagging else "max-pooled states, then a linear layer"),
                "hidden_per_direction": recipe.hidden,
                "dropout": recipe.dropout,
                "input_dropout": recipe.input_dropout,
                "learning_rate": recipe.learning_rate,
                "optimizer": "Adam, gradient clipping 5.0",
                "batch_size": recipe.batch_size,
                "max_epochs": recipe.max_epochs,
                "early_stopping_patience": recipe.patience,
                "early_stopping_from_epoch": recipe.min_epochs,
                "pilot_epochs": chosen,
                "max_positions": recipe.max_positions,
                "dev_fraction": DEV_FRACTION,
            },
        )


def _may_stop(scores: list[float], recipe: BiLSTMRecipe) -> bool:
    """Early stopping may end a run once it has trained ``min_epochs`` epochs and its dev scores
    are not all the same (a head still on its plateau has not begun to learn); with
    ``min_epochs`` 0, at any epoch."""
    if not recipe.min_epochs:
        return True
    return len(scores) >= recipe.min_epochs and max(scores) > min(scores)


def _verdict(scores: list[float], chosen: int, dev: bool) -> Convergence:
    """Early stopping's verdict on the dev scores (``convergence.judge``), with the epoch the head
    kept (a lower dev loss breaks its ties)."""
    if not dev:
        return Convergence(UNJUDGED, chosen, chosen)
    return replace(judge(scores, 1), epoch=chosen)
