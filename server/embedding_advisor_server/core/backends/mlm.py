"""Domain shift, part two: the encoder's masked-LM loss on the dataset vs on the reference sample.

Gururangan et al. 2020 use the base model's MLM loss on target text as a second domain signal: the
higher it is relative to general text, the more continued pretraining (DAPT/TAPT) tends to pay.

How the loss is obtained:
- **The encoder ships an MLM head** (a user's BERT/RoBERTa directory saved with ``*ForMaskedLM``
  weights): it is used as is.
- **It does not** (the bundled all-MiniLM-L6-v2 is a sentence-embedding model; its checkpoint has no
  ``cls.predictions`` weights): a head is initialised with its decoder tied to the word embeddings
  (``AutoModelForMaskedLM`` does that), and the missing parameters only (transform and output bias;
  the bias starts at the reference's word-piece log-frequencies) are warmed up on 1,000 reference
  sentences with the encoder frozen. The head is cached on disk, keyed by the encoder's weights.

Why a warmed-up head still gives a usable *relative* signal: the encoder is frozen and the head has
only seen general-domain text, so loss on held-out reference sentences vs on dataset sentences
compares how predictable each text is from the same representations. Both losses are measured the
same way (same masking, same length cap, text unseen by the head). The absolute level is not
comparable with published figures (a small head, warmed briefly, on an encoder tuned for sentence
embeddings: expect losses near the word-piece unigram entropy, ~7 nats, rather than RoBERTa's ~1-2),
so the profile reports both losses and the advice reads their difference, never the level.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import reference
from .files import weights_digest, write_atomically
from .hub import transformers
from .tokens import text_columns

log = logging.getLogger(__name__)

WARM_UP = {
    "version": 2,  # 2: the missing head parameters start from the seed
    "train_sentences": 1000,
    "eval_sentences": 200,
    "max_length": 64,
    "mask_rate": 0.15,
    "epochs": 3,
    "lr": 2e-3,
    "batch_size": 256,
    "seed": 0,
}
HEAD_MODULES = ("cls", "lm_head")  # BERT family, RoBERTa family


class MLMUnavailable(Exception):
    """This encoder has no masked-LM form the probe can use (the reason is the message)."""


@dataclass(frozen=True)
class Loss:
    mean: float  # nats per masked word piece
    pieces: int  # masked word pieces scored
    examples: int


def head_file(path: Path, cache_dir: Path) -> Path:
    """Where the warmed-up head of the encoder at ``path`` is cached."""
    key = hashlib.sha256(
        (weights_digest(path) + json.dumps(WARM_UP, sort_keys=True)).encode()
        + reference.REFERENCE_PATH.read_bytes()
    ).hexdigest()[:20]
    return Path(cache_dir) / f"mlm-head-{key}.pt"


def cheap(path: Path, cache_dir: Path) -> bool:
    """Whether loading the probe costs no warm-up: the checkpoint has a masked-LM head (its
    config names one), or a warmed-up head is cached."""
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    heads = ("ForMaskedLM", "ForPreTraining")
    if any(a.endswith(heads) for a in config.get("architectures") or []):
        return True
    return head_file(path, cache_dir).exists()


class MLMProbe:
    """Scores masked-LM loss with the encoder's own head, or a warmed-up one (see module doc)."""

    def __init__(self, path: Path, cache_dir: Path | None = None, report=None) -> None:
        import torch

        hf = transformers()
        self._torch = torch
        try:
            self.tokenizer = hf.AutoTokenizer.from_pretrained(path)
            # The parameters the checkpoint lacks are initialised at random: from the recipe's
            # seed, so that the same encoder always gets the same warmed-up head (unseeded, the
            # reference loss moved by ~0.05 nats between runs), without touching the caller's RNG.
            with torch.random.fork_rng():
                torch.manual_seed(WARM_UP["seed"])
                self.model, info = hf.AutoModelForMaskedLM.from_pretrained(
                    path, output_loading_info=True
                )
        except Exception as exc:
            raise MLMUnavailable(f"no masked-LM form of {path.name}: {exc}") from exc
        if self.tokenizer.mask_token_id is None:
            raise MLMUnavailable(f"the tokenizer of {path.name} has no mask token")
        self.model.eval()
        self.head = next(
            (getattr(self.model, n) for n in HEAD_MODULES if hasattr(self.model, n)), None
        )
        missing = set(info.get("missing_keys", ()))
        self.pretrained_head = not missing
        self.reference_loss: Loss
        ref = reference.sentences()
        rng = np.random.default_rng(WARM_UP["seed"])
        order = rng.permutation(len(ref))
        n_train, n_eval = WARM_UP["train_sentences"], WARM_UP["eval_sentences"]
        eval_texts = [(ref[i],) for i in order[:n_eval]]
        if self.pretrained_head:
            self.reference_loss = self.loss(eval_texts, seed=WARM_UP["seed"])
            return
        if self.head is None:
            raise MLMUnavailable(
                f"{path.name} has no masked-LM head and the probe cannot warm one up for "
                f"{type(self.model).__name__}"
            )
        trainable = {name for name, _ in self.model.named_parameters() if name in missing}
        cache = head_file(path, cache_dir) if cache_dir is not None else None
        if cache is not None and cache.exists():
            saved = torch.load(cache, weights_only=True)
            self.model.load_state_dict(saved["state"], strict=False)
            self.reference_loss = Loss(**saved["reference_loss"])
            return
        if report:
            report("warming up a masked-LM head for the encoder (once; cached)")
        train_texts = [(ref[i],) for i in order[n_eval : n_eval + n_train]]
        self._warm_up(train_texts, trainable)
        self.reference_loss = self.loss(eval_texts, seed=WARM_UP["seed"])
        if cache is not None:
            state = {k: v for k, v in self.model.state_dict().items() if k in trainable}
            saved = {"state": state, "reference_loss": self.reference_loss.__dict__}
            write_atomically(cache, lambda tmp: torch.save(saved, tmp))

    def with_model(self, model) -> MLMProbe:
        """The same probe (tokenizer, masking, reference loss) scoring with ``model``, e.g. an
        adapted copy of this probe's model (``adapt/continued.py``)."""
        probe = copy.copy(self)
        probe.model = model.eval()
        probe.head = next((getattr(model, n) for n in HEAD_MODULES if hasattr(model, n)), None)
        return probe

    def _masked(self, inputs: Sequence[tuple[str, ...]], seed: int):
        """Batches of (encoding, mask of the masked positions, their true ids)."""
        torch = self._torch
        gen = torch.Generator().manual_seed(seed)
        tok = self.tokenizer
        for start in range(0, len(inputs), 32):
            enc = tok(
                *text_columns(inputs[start : start + 32]),
                padding=True,
                truncation=True,
                max_length=WARM_UP["max_length"],
                return_tensors="pt",
                return_special_tokens_mask=True,
            )
            ids = enc["input_ids"]
            candidates = (enc["attention_mask"] == 1) & (enc.pop("special_tokens_mask") == 0)
            mask = (torch.rand(ids.shape, generator=gen) < WARM_UP["mask_rate"]) & candidates
            # At least one masked piece per example that has any.
            first = candidates.float().argmax(1)
            rows = candidates.any(1) & ~mask.any(1)
            mask[rows, first[rows]] = True
            targets = ids[mask]
            enc["input_ids"] = ids.masked_fill(mask, tok.mask_token_id)
            yield enc, mask, targets

    def _states(self, inputs, seed: int):
        torch = self._torch
        states, targets = [], []
        with torch.inference_mode():
            for enc, mask, y in self._masked(inputs, seed):
                hidden = self.model.base_model(**enc).last_hidden_state
                states.append(hidden[mask])
                targets.append(y)
        return torch.cat(states), torch.cat(targets)

    def _warm_up(self, texts, trainable: set[str]) -> None:
        torch = self._torch
        states, targets = self._states(texts, seed=WARM_UP["seed"] + 1)
        prefix = next(n for n in HEAD_MODULES if hasattr(self.model, n)) + "."
        params = []
        for name, p in self.model.named_parameters():
            p.requires_grad_(name in trainable)
            if name in trainable:
                params.append(p)
        # Start the output bias at the reference's word-piece log-frequencies.
        bias = getattr(self.model.get_output_embeddings(), "bias", None)
        if bias is not None and any(n.endswith("bias") and "transform" not in n for n in trainable):
            counts = torch.bincount(targets, minlength=bias.shape[0]).float() + 0.1
            with torch.no_grad():
                bias.copy_(torch.log(counts / counts.sum()))
        head = self.head
        head.train()
        opt = torch.optim.AdamW(params, lr=WARM_UP["lr"], weight_decay=0.01)
        gen = torch.Generator().manual_seed(WARM_UP["seed"])
        for _ in range(WARM_UP["epochs"]):
            perm = torch.randperm(len(targets), generator=gen)
            for i in range(0, len(perm), WARM_UP["batch_size"]):
                b = perm[i : i + WARM_UP["batch_size"]]
                loss = torch.nn.functional.cross_entropy(head(states[b]), targets[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
        head.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        log.info(
            "warmed up the MLM head (%s) on %d masked pieces", prefix.rstrip("."), len(targets)
        )

    def loss(
        self,
        inputs: Sequence[tuple[str, ...]],
        seed: int = 0,
        check: Callable[[], None] = lambda: None,
    ) -> Loss:
        """Mean cross-entropy (nats) over the masked pieces of ``inputs`` (texts or text pairs)."""
        torch = self._torch
        total, pieces = 0.0, 0
        with torch.inference_mode():
            for enc, mask, targets in self._masked(inputs, seed):
                check()
                if self.head is not None:
                    hidden = self.model.base_model(**enc).last_hidden_state[mask]
                    logits = self.head(hidden)
                else:  # a pretrained head we cannot call apart: full forward
                    logits = self.model(**enc).logits[mask]
                total += float(torch.nn.functional.cross_entropy(logits, targets, reduction="sum"))
                pieces += int(len(targets))
        return Loss(total / pieces if pieces else 0.0, pieces, len(inputs))
