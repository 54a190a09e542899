"""Complexity of text structure, per example (Arora et al. 2020).

- Sentence tasks: the mean distance, in tokens, between each word and its syntactic head in a
  dependency parse (root and punctuation arcs left out; ``backends/parser.py``). Pairs pool the
  arcs of both texts.
- Token tagging: the number of tokens each entity spans (BIO/IOB spans as ``seqeval`` reads them).

An example with no arc (a one-word text) or no entity has no value: ``nan``, which the means and a
median split leave out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..backends.parser import Parser
from ..progress import Check, no_check

# Long documents are parsed up to this many words per text: the mean arc length of a document's
# first sentences estimates its mean well, and parsing stays within the profiling budget.
MAX_PARSE_WORDS = 64


def dependency_distance(
    parser: Parser, inputs: Sequence[tuple[str, ...]], check: Check = no_check
) -> np.ndarray:
    """Per example, the mean head-dependent distance over every text of the example."""
    flat = [_truncate(text) for example in inputs for text in example]
    owner = [i for i, example in enumerate(inputs) for _ in example]
    sums = np.zeros(len(inputs))
    arcs = np.zeros(len(inputs))
    for n, doc in enumerate(parser.parse(flat, check)):
        distances = [abs(tok.i - tok.head.i) for tok in doc if tok.dep_ not in ("ROOT", "punct")]
        sums[owner[n]] += sum(distances)
        arcs[owner[n]] += len(distances)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(arcs > 0, sums / np.maximum(arcs, 1), math.nan)


def _truncate(text: str) -> str:
    parts = text.split(maxsplit=MAX_PARSE_WORDS)
    return " ".join(parts[:MAX_PARSE_WORDS]) if len(parts) > MAX_PARSE_WORDS else text


def entity_spans(tags: Sequence[Sequence[str]]) -> list[list[int]]:
    """The length in tokens of each entity of each example."""
    from seqeval.metrics.sequence_labeling import get_entities

    return [[end - start + 1 for _, start, end in get_entities(list(seq))] for seq in tags]


def entity_span_length(tags: Sequence[Sequence[str]]) -> np.ndarray:
    """Per example, the mean number of tokens its entities span (``nan`` without entities)."""
    return np.array([float(np.mean(s)) if s else math.nan for s in entity_spans(tags)])


def nanmean(values: np.ndarray) -> float:
    """Mean over the defined values (0 when none is defined)."""
    finite = values[~np.isnan(values)] if len(values) else values
    return float(finite.mean()) if len(finite) else 0.0
