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
  with the best dev score (stops after ``patience`` epochs without a gain); small runs use smaller
  batches, so that they too get some updates per epoch. CUDA when torch sees one.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .metrics import evaluate

Check = Callable[[], None]
# One example: one (positions, dim) array per side.
Example = tuple[np.ndarray, ...]
DEV_FRACTION = 0.15
MIN_DEV = 10


@dataclass(frozen=True)
class HeadRecipe:
    hidden: int = 128  # per direction
    dropout: float = 0.3  # on the pooled states (tagging: on each state)
    input_dropout: float = 0.1
    learning_rate: float = 2e-3
    batch_size: int = 32  # smaller for small runs: at least 16 updates an epoch, batches >= 8
    max_epochs: int = 20
    patience: int = 3
    max_positions: int = 256


@dataclass
class HeadResult:
    predictions: list
    description: str
    train_seconds: float
    epochs: int
    dev_score: float


def dev_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(fit, dev)`` indices: a seeded 15% dev slice (at least 10), none when ``n`` < 20."""
    n_dev = max(MIN_DEV, int(n * DEV_FRACTION)) if n >= 2 * MIN_DEV else 0
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_dev:]), np.sort(order[:n_dev])


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _network(dim: int, sides: int, classes: int, tagging: bool, recipe: HeadRecipe):
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


def fit_predict_sequences(
    x_train: Sequence[Example],
    y_train: Sequence,
    x_eval: Sequence[Example],
    tagging: bool,
    metric: str,
    seed: int,
    check: Check,
    recipe: HeadRecipe | None = None,
) -> HeadResult:
    """Train the BiLSTM head on ``x_train`` (dev slice held out), predict ``x_eval``. For tagging,
    ``y_train`` holds one tag sequence per example, one tag per position."""
    import torch

    recipe = recipe or HeadRecipe()
    if tagging:
        classes = sorted({t for tags in y_train for t in tags} | {"O"})
    else:
        classes = sorted(set(y_train))
    index = {c: i for i, c in enumerate(classes)}
    sides = len(x_train[0])
    dim = x_train[0][0].shape[1]
    dev = device()
    fit_idx, dev_idx = dev_split(len(x_train), seed)
    torch.manual_seed(seed)
    net = _network(dim, sides, len(classes), tagging, recipe).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=recipe.learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    loss_sum = torch.nn.CrossEntropyLoss(ignore_index=-100, reduction="sum")
    rng = np.random.default_rng(seed)

    def targets(gold: Sequence, rows: np.ndarray, width: int):
        if not tagging:
            return torch.tensor([index.get(gold[i], -100) for i in rows], device=dev)
        y = torch.full((len(rows), width), -100, dtype=torch.long)
        for r, i in enumerate(rows):
            tags = gold[i][: recipe.max_positions]
            y[r, : len(tags)] = torch.tensor([index.get(t, -100) for t in tags])
        return y.to(dev)

    def predict(examples: Sequence[Example], gold: Sequence | None = None) -> tuple[list, float]:
        """Predictions, and the mean loss against ``gold`` when given."""
        net.eval()
        out: list = [None] * len(examples)
        loss, count = 0.0, 0
        with torch.inference_mode():
            for rows in _batches(examples, recipe.batch_size * 4, None):
                check()
                batch = _tensors([examples[i] for i in rows], sides, recipe.max_positions, dev)
                logits = net(batch)
                if gold is not None:
                    y = targets(gold, rows, logits.shape[1] if tagging else 0)
                    loss += float(loss_sum(logits.reshape(-1, len(classes)), y.reshape(-1)))
                    count += int((y != -100).sum())
                best = logits.argmax(-1).cpu().numpy()
                for r, i in enumerate(rows):
                    if tagging:
                        n = len(examples[i][0])
                        tags = [classes[k] for k in best[r, : min(n, recipe.max_positions)]]
                        out[i] = tags + ["O"] * (n - len(tags))
                    else:
                        out[i] = classes[best[r]]
        net.train()
        return out, loss / max(count, 1)

    fit = [x_train[i] for i in fit_idx]
    dev_x = [x_train[i] for i in dev_idx]
    dev_y = [y_train[i] for i in dev_idx]
    t0 = time.perf_counter()
    best: tuple[tuple[float, float], int, dict] | None = None
    batch_size = int(np.clip(len(fit) // 16, 8, recipe.batch_size))
    for epoch in range(1, recipe.max_epochs + 1):
        net.train()
        for rows in _batches(fit, batch_size, rng):
            check()
            batch = _tensors([fit[i] for i in rows], sides, recipe.max_positions, dev)
            logits = net(batch)
            y = targets(y_train, fit_idx[rows], logits.shape[1] if tagging else 0)
            loss = loss_fn(logits.reshape(-1, len(classes)), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
        # The best dev score wins, a lower dev loss breaks ties (a head still predicting the
        # majority class is learning while its loss falls). Without a dev slice (tiny data)
        # nothing can be chosen: the last epoch is kept.
        if dev_x:
            predicted, loss = predict(dev_x, dev_y)
            key = (evaluate(metric, dev_y, predicted).score(), -loss)
        else:
            key = (0.0, 0.0)
        if best is None or key > best[0] or not dev_x:
            best = (key, epoch, copy.deepcopy(net.state_dict()))
        elif epoch - best[1] >= recipe.patience:
            break
    train_seconds = time.perf_counter() - t0
    assert best is not None
    (score, _), chosen, state = best
    net.load_state_dict(state)
    predictions, _ = predict(x_eval)
    return HeadResult(
        predictions=predictions,
        description=(
            f"BiLSTM head ({recipe.hidden} per direction, "
            + ("a tag per word" if tagging else "max-pooled")
            + f"), {chosen} of up to {recipe.max_epochs} epochs chosen on a "
            f"{len(dev_x)}-example dev slice"
        ),
        train_seconds=train_seconds,
        epochs=chosen,
        dev_score=score,
    )
