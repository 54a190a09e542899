"""Domain shift, part one: overlap of the top-10K unigrams with the reference sample.

Gururangan et al. 2020 measure domain similarity as the overlap of the 10,000 most frequent
unigrams (stopwords removed) of comparable samples of two domains. Here the two samples are made
comparable by size: both are cut to the same number of content-word tokens (seeded, whole examples
or paragraphs), and when either side has fewer than 10,000 distinct words the top-K shrinks to the
smaller vocabulary. Overlap still grows with sample size (rare words are noisy), so the same figure
is measured between two disjoint halves of the reference at the same size and K: the reference's
overlap with itself, the ceiling a general-domain dataset would reach. ``similarity`` = overlap /
ceiling is then comparable across dataset sizes (1: as close to Wikipedia as Wikipedia itself).

Content words: lower case, alphabetic (inner ``'`` and ``-`` allowed), not a spaCy English stopword.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..data import reference
from ..data.text import tokenize

TOP_K = 10_000
_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def content_words(examples: Sequence[Sequence[str]]) -> list[list[str]]:
    stop = _stopwords()
    out = []
    for ws in examples:
        lowered = (w.lower() for w in ws)
        out.append([w for w in lowered if w not in stop and _WORD.fullmatch(w)])
    return out


@lru_cache(maxsize=1)
def reference_words() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(ws) for ws in content_words([tokenize(p) for p in reference.paragraphs()]))


@dataclass(frozen=True)
class Overlap:
    overlap: float  # share of the top-K words the dataset and the reference have in common
    ceiling: float  # the same share between two disjoint halves of the reference
    top_k: int
    tokens_compared: int  # content-word tokens per side

    @property
    def similarity(self) -> float:
        return self.overlap / self.ceiling if self.ceiling else 0.0


def _counts(examples: Sequence[Sequence[str]], tokens: int, rng: np.random.Generator) -> Counter:
    counts: Counter = Counter()
    taken = 0
    for i in rng.permutation(len(examples)):
        if taken >= tokens:
            break
        ws = examples[i][: tokens - taken]
        counts.update(ws)
        taken += len(ws)
    return counts


def _top(counts: Counter, k: int) -> set[str]:
    return {w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]}


def unigram_overlap(
    dataset: Sequence[Sequence[str]],
    ref: Sequence[Sequence[str]] | None = None,
    seed: int = 0,
    top_k: int = TOP_K,
) -> Overlap:
    """Top-K unigram overlap of ``dataset`` (content words per example) with ``ref``."""
    ref = reference_words() if ref is None else ref
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ref))
    half_a = [ref[i] for i in order[::2]]
    half_b = [ref[i] for i in order[1::2]]
    tokens = min(sum(len(ws) for ws in side) for side in (dataset, half_a, half_b))
    if tokens == 0:
        return Overlap(0.0, 0.0, 0, 0)
    mine, a, b = (_counts(side, tokens, rng) for side in (dataset, half_a, half_b))
    k = min(top_k, len(mine), len(a), len(b))
    top_a = _top(a, k)
    return Overlap(len(_top(mine, k) & top_a) / k, len(_top(b, k) & top_a) / k, k, tokens)
