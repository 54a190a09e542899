"""The encoder on torch: a Hugging Face model that turns texts into features (no training here).

``OnnxEncoder`` (``onnx_encoder.py``) is the same with its forward pass in ONNX Runtime.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ..progress import Check
from . import precision
from .bundled import ENCODER_NAME, default_encoder_path
from .checks import bad_option
from .hub import transformers
from .tokens import first_pieces, text_columns

OnBatch = Callable[[int, int], None]  # (batches done, batches in all)


def on_torch(encoder: Encoder) -> Encoder:
    """``encoder`` (an ``OnnxEncoder`` too) computing on its torch model: a shallow copy, the
    model shared. An ONNX graph holds the weights it was exported with; this follows
    ``encoder.model``, so it reads weights loaded since (``adapt/continued.adapted_encoder``)."""
    view = copy.copy(encoder)
    view.__class__ = Encoder
    view.backend = "torch eager" if view.device == "cpu" else f"torch eager on {view.device}"
    return view


class Encoder:
    """A Hugging Face encoder that turns texts into features (no training here)."""

    def __init__(
        self, path: Path, max_length: int = 256, batch_size: int = 32, device: str | None = None
    ) -> None:
        """``device``: where torch runs the forward pass (None: the GPU when torch sees one)."""
        import torch

        hf = transformers()
        if not path.is_dir() or not (path / "config.json").exists():
            raise bad_option(
                "encoder", f"{path} is not a Hugging Face model directory (no config.json)"
            )
        try:
            self.tokenizer = hf.AutoTokenizer.from_pretrained(path)
            self.model = hf.AutoModel.from_pretrained(path)
        except Exception as exc:  # a broken directory: say which and why
            # The loader's own message may quote the folder's files: name only what went wrong.
            raise bad_option(
                "encoder",
                f"cannot load the encoder from {path}: not a Hugging Face model directory with "
                f"weights and a tokenizer ({type(exc).__name__})",
            ) from None
        self.device = device or precision.device()
        self.model.eval().to(self.device)
        self.path = path
        self.name = path.name if path != default_encoder_path() else ENCODER_NAME
        self.dim = int(self.model.config.hidden_size)
        self.max_length = min(max_length, getattr(self.tokenizer, "model_max_length", max_length))
        self.batch_size = batch_size
        self.backend = "torch eager" if self.device == "cpu" else f"torch eager on {self.device}"
        self._torch = torch

    def _batches(self, lengths: Sequence[int]) -> list[np.ndarray]:
        # Similar lengths together: far less padding, a large speed-up on CPU.
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def hidden(self, enc: dict[str, np.ndarray]) -> np.ndarray:
        """Last hidden states (batch, pieces, dim) of one tokenised batch: torch eager here."""
        torch = self._torch
        with torch.inference_mode():
            feed = {k: torch.from_numpy(v).to(self.device) for k, v in enc.items()}
            states = self.model(**feed).last_hidden_state
            return states.float().cpu().numpy()  # float32 also under bf16 autocast

    def _encode(self, *args, **kwargs) -> dict[str, np.ndarray]:
        return self.tokenizer(
            *args,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="np",
            **kwargs,
        )

    def _states(
        self, inputs: Sequence[tuple[str, ...]], check: Check, on_batch: OnBatch | None
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(example indices, last hidden states, attention mask)`` per batch; a pair is encoded
        jointly as ``[CLS] a [SEP] b [SEP]``."""
        batches = self._batches([sum(len(t) for t in x) for x in inputs])
        for done, idx in enumerate(batches, start=1):
            check()
            enc = self._encode(*text_columns([inputs[i] for i in idx]))
            yield idx, self.hidden(dict(enc)), enc["attention_mask"]
            if on_batch:
                on_batch(done, len(batches))

    def sentence_features(
        self, inputs: Sequence[tuple[str, ...]], check: Check, on_batch: OnBatch | None = None
    ) -> np.ndarray:
        """Mean-pooled last hidden states, one vector per example."""
        out = np.zeros((len(inputs), self.dim), dtype=np.float32)
        for idx, hidden, attention in self._states(inputs, check, on_batch):
            mask = attention[..., None].astype(hidden.dtype)
            out[idx] = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1.0)
        return out

    def sequence_features(
        self, inputs: Sequence[tuple[str, ...]], check: Check, on_batch: OnBatch | None = None
    ) -> list[np.ndarray]:
        """The last hidden state of every word piece (special pieces included), one
        ``(pieces, dim)`` float16 array per example: the input of a sequence head."""
        out: list[np.ndarray] = [np.empty(0)] * len(inputs)
        for idx, hidden, attention in self._states(inputs, check, on_batch):
            for row, i in enumerate(idx):
                out[i] = hidden[row][attention[row].astype(bool)].astype(np.float16)
        return out

    def word_features(
        self, tokens: Sequence[Sequence[str]], check: Check, on_batch: OnBatch | None = None
    ) -> list[np.ndarray]:
        """One contextual vector per given word: its first word piece. Truncated words get zeros."""
        if not getattr(self.tokenizer, "is_fast", False):
            raise bad_option("encoder", "token tagging needs a fast tokenizer (tokenizer.json)")
        out = [np.zeros((len(t), self.dim), dtype=np.float32) for t in tokens]
        batches = self._batches([len(t) for t in tokens])
        for done, idx in enumerate(batches, start=1):
            check()
            enc = self._encode([list(tokens[i]) for i in idx], is_split_into_words=True)
            hidden = self.hidden(dict(enc))
            for row, i in enumerate(idx):
                for pos, word in first_pieces(enc.word_ids(row)):
                    out[i][word] = hidden[row, pos]
            if on_batch:
                on_batch(done, len(batches))
        return out
