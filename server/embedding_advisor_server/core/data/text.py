"""Word tokenisation for static vectors and length statistics.

GloVe 6B was trained on lower-cased text split Penn-Treebank style, so clitics are split off
(``don't`` -> ``do n't``, ``it's`` -> ``it 's``) and punctuation stands alone.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+(?=n't)|n't|'\w+|\w+|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Split ``text`` into words, keeping the original case."""
    return _WORD.findall(text)
