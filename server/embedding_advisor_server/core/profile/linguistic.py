"""Per-example linguistic metrics of Arora et al. 2020 (*Contextual Embeddings: When Are They Worth
It?*), measured on the held-out split against statistics of the training split.

- **Ambiguity in word usage.** Sentence tasks: the mean, over the example's words, of the entropy
  (bits) of the word's label distribution in training (every occurrence counts the label of its
  example). Token tagging: the mean, over the sentence's tokens, of the number of distinct tags the
  token takes in training. Words never seen in training have no distribution and are left out of
  the mean (an example with none scores 0).
- **Prevalence of unseen words.** The mean, over the example's words, of 1 / (training count of the
  word); a word never seen in training counts as if seen once (weight 1, the largest).

Words are compared in lower case. Each function returns one value per example, so that pilots can
split the held-out set at the median as the paper does.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

Words = Sequence[Sequence[str]]


def _lower(examples: Words) -> list[list[str]]:
    return [[w.lower() for w in ws] for ws in examples]


def word_label_entropy(train_words: Words, train_labels: Sequence[str]) -> dict[str, float]:
    """Entropy in bits of each training word's label distribution."""
    return _entropy(_lower(train_words), train_labels)


def _entropy(lowered: list[list[str]], labels: Sequence[str]) -> dict[str, float]:
    by_word: dict[str, Counter] = defaultdict(Counter)
    for ws, label in zip(lowered, labels, strict=True):
        for w in ws:
            by_word[w][label] += 1
    out = {}
    for w, counts in by_word.items():
        n = sum(counts.values())
        out[w] = -sum(c / n * math.log2(c / n) for c in counts.values())
    return out


def token_label_variety(train_tokens: Words, train_tags: Sequence[Sequence[str]]) -> dict[str, int]:
    """Number of distinct tags each training token takes."""
    return _variety(_lower(train_tokens), train_tags)


def _variety(lowered: list[list[str]], tags_seq: Sequence[Sequence[str]]) -> dict[str, int]:
    tags_of: dict[str, set] = defaultdict(set)
    for ws, tags in zip(lowered, tags_seq, strict=True):
        for w, tag in zip(ws, tags, strict=True):
            tags_of[w].add(tag)
    return {w: len(t) for w, t in tags_of.items()}


class TrainStats:
    """The training split's word statistics, computed once (one lower-casing, one count)."""

    def __init__(
        self, train_words: Words, train_targets: Sequence | None = None, tagging: bool = False
    ) -> None:
        lowered = _lower(train_words)
        self.counts = Counter(w for ws in lowered for w in ws)
        self.label_values: dict = {}
        if train_targets is not None:
            self.label_values = (
                _variety(lowered, train_targets) if tagging else _entropy(lowered, train_targets)
            )

    def ambiguity(self, examples: Words) -> np.ndarray:
        """Per-example mean label entropy (tagging: distinct tags) over the known words."""
        out = np.zeros(len(examples))
        for i, ws in enumerate(_lower(examples)):
            known = [self.label_values[w] for w in ws if w in self.label_values]
            out[i] = float(np.mean(known)) if known else 0.0
        return out

    def unseen_prevalence(self, examples: Words) -> np.ndarray:
        """Per-example mean of 1 / training count over the example's words (unseen: 1)."""
        out = np.zeros(len(examples))
        for i, ws in enumerate(_lower(examples)):
            out[i] = float(np.mean([1.0 / max(self.counts[w], 1) for w in ws])) if ws else 0.0
        return out

    def unseen_rate(self, examples: Words) -> float:
        """Share of the word occurrences in ``examples`` never seen in training."""
        flat = [w for ws in _lower(examples) for w in ws]
        return sum(w not in self.counts for w in flat) / len(flat) if flat else 0.0


def ambiguity(
    train_words: Words, train_targets: Sequence, examples: Words, tagging: bool
) -> np.ndarray:
    """Per-example ambiguity of ``examples`` against the training split (see the module doc)."""
    return TrainStats(train_words, train_targets, tagging).ambiguity(examples)


def unseen_prevalence(train_words: Words, examples: Words) -> np.ndarray:
    """Per-example mean of 1 / training count over the example's words (unseen: 1)."""
    return TrainStats(train_words).unseen_prevalence(examples)


def unseen_rate(train_words: Words, examples: Words) -> float:
    """Share of the word occurrences in ``examples`` never seen in training."""
    return TrainStats(train_words).unseen_rate(examples)


def pieces_per_word(tokenizer, examples: Words, max_words: int = 50_000) -> float:
    """Mean number of word pieces the encoder's tokenizer splits a word into (first ``max_words``)."""
    flat = [w for ws in examples for w in ws][:max_words]
    if not flat:
        return 0.0
    encoded = tokenizer(flat, add_special_tokens=False)["input_ids"]
    return float(np.mean([max(len(ids), 1) for ids in encoded]))
