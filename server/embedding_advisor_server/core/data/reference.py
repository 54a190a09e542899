"""The general-domain reference sample: English Wikipedia prose shipped with the server.

4,738 paragraphs (396k words) from the 106 Wikipedia articles of the excerpt that gensim ships as
test data, cleaned by ``scripts/build_reference.py`` (provenance and license in
``data/REFERENCE.md``). Wikipedia is the general domain of BERT-family pretraining, so the sample
stands for "text the encoder already knows" when the profiler measures domain shift.
"""

from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path

REFERENCE_PATH = Path(__file__).resolve().parents[2] / "data" / "reference_wikipedia.txt.gz"
REFERENCE_NAME = "English Wikipedia sample (106 articles, 396k words)"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


@lru_cache(maxsize=1)
def paragraphs() -> tuple[str, ...]:
    with gzip.open(REFERENCE_PATH, "rt", encoding="utf-8") as fh:
        return tuple(line.rstrip("\n") for line in fh if line.strip())


@lru_cache(maxsize=1)
def sentences(min_words: int = 5) -> tuple[str, ...]:
    """The sample split into sentences (a simple punctuation rule; good enough for MLM text)."""
    return tuple(
        s for p in paragraphs() for s in _SENTENCE_END.split(p) if len(s.split()) >= min_words
    )
