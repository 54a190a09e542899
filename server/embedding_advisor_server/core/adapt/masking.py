"""Masked-LM inputs: BERT's masking (Devlin et al. 2019) through Hugging Face's collator.

15% of the word pieces that are not special tokens or padding are chosen; of those, 80% become
``[MASK]``, 10% a random piece and 10% stay as they are; the loss is taken on the chosen pieces
only (labels -100 elsewhere). Whole-word masking chooses whole words (every piece of a chosen
word), and then, as in Google's whole-word BERT and Hugging Face's collator, masks all of them
(no random or kept pieces). Pairs are encoded jointly, as the task's model reads them.

The tokenizer runs once per text (``tokenise``); each batch is padded and masked afresh
(``Masker``), from a seeded generator, so that the same seed masks the same pieces.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass

from ..backends.tokens import text_columns

MASK_RATE = 0.15


def texts_of(inputs: Sequence, tagging: bool) -> list[tuple[str, ...]]:
    """The texts a masked LM reads from a dataset's inputs: a tagged example's words joined by
    spaces; texts and text pairs as they are."""
    if tagging:
        return [(" ".join(words),) for words in inputs]
    return [tuple(x) for x in inputs]


def tokenise(
    tokenizer, texts: Sequence[tuple[str, ...]], max_length: int, whole_word: bool = False
) -> list[dict]:
    """Each text (or pair) tokenised once, truncated to ``max_length``: input ids, attention and
    token types, the special-token mask, and for whole-word masking the offsets that tell which
    pieces make a word."""
    if not texts:
        return []
    if not all(isinstance(t, tuple) for t in texts):  # a bare string would be read as columns
        raise TypeError("tokenise takes texts as tuples of one text (or two, for pairs)")
    enc = tokenizer(
        *text_columns(list(texts)),
        truncation=True,
        max_length=max_length,
        return_special_tokens_mask=True,
        return_offsets_mapping=whole_word,
    )
    keys = list(enc.keys())
    return [{k: enc[k][i] for k in keys} for i in range(len(texts))]


@functools.cache
def _collator() -> type:
    """Hugging Face's collator, seeded alike in any process: the base class, outside a process
    named ``MainProcess``, expects to be in a DataLoader worker and refuses a seed otherwise,
    and the server runs jobs in worker processes (``jobs/workers.py``)."""
    from transformers import DataCollatorForLanguageModeling

    class SeededCollator(DataCollatorForLanguageModeling):
        def create_rng(self, return_tensors=None):
            self.generator = self.get_generator(self.seed, return_tensors)
            self._generator_pid = os.getpid()

    return SeededCollator


@dataclass
class Masker:
    """Pads and masks batches of ``tokenise``'s rows; ``seed`` fixes the masking sequence."""

    tokenizer: object
    seed: int
    whole_word: bool = False
    rate: float = MASK_RATE

    def __post_init__(self) -> None:
        if getattr(self.tokenizer, "mask_token_id", None) is None:
            raise ValueError("the tokenizer has no mask token: masked-LM training needs one")
        self._collate = _collator()(
            self.tokenizer,
            mlm_probability=self.rate,
            whole_word_mask=self.whole_word,
            mask_replace_prob=1.0 if self.whole_word else 0.8,
            random_replace_prob=0.0 if self.whole_word else 0.1,
            seed=self.seed,
        )

    def __call__(self, rows: Sequence[dict]) -> dict:
        """A padded batch with ``input_ids`` masked and ``labels`` (-100 where not chosen); an
        example that drew no piece gets its first maskable one, so every row counts."""
        import torch

        rows = [dict(r) for r in rows]
        if self.whole_word:  # the collator pads ids and masks, not the offsets: pad them here
            width = max(len(r["input_ids"]) for r in rows)
            for r in rows:
                r["offset_mapping"] = list(r["offset_mapping"]) + [(0, 0)] * (
                    width - len(r["offset_mapping"])
                )
        batch = self._collate(rows)
        labels = batch["labels"]
        none = (labels == -100).all(1)
        if bool(none.any()):
            ids = batch["input_ids"]
            for row in torch.nonzero(none).flatten().tolist():
                special = rows[row]["special_tokens_mask"]
                pos = next((p for p, s in enumerate(special) if not s), None)
                if pos is None:
                    continue  # nothing but special tokens (an empty text)
                for p in self._word_at(rows[row], pos):
                    labels[row, p] = ids[row, p]
                    ids[row, p] = self.tokenizer.mask_token_id
        return batch

    def _word_at(self, row: dict, pos: int) -> list[int]:
        """``pos``, and with whole-word masking the pieces after it that continue its word
        (offsets that touch: the collator's notion of a word)."""
        out = [pos]
        if not self.whole_word:
            return out
        offsets, special = row["offset_mapping"], row["special_tokens_mask"]
        while out[-1] + 1 < len(special) and not special[out[-1] + 1]:
            if offsets[out[-1] + 1][0] != offsets[out[-1]][1]:
                break
            out.append(out[-1] + 1)
        return out
