"""Tokenizer helpers shared by the encoders, the masked-LM probe, the profile and fine-tuning."""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def text_columns(inputs: Sequence[tuple[str, ...]]) -> tuple[list[str], list[str] | None]:
    """A tokenizer's two text arguments for texts or text pairs: the first texts, and the second
    ones (``None`` for single texts), so that a pair is encoded jointly."""
    firsts = [x[0] for x in inputs]
    seconds = [x[1] for x in inputs] if inputs and len(inputs[0]) > 1 else None
    return firsts, seconds


def first_pieces(word_ids: Sequence[int | None]) -> Iterator[tuple[int, int]]:
    """``(piece position, word index)`` of each word's first word piece."""
    seen: set[int] = set()
    for pos, word in enumerate(word_ids):
        if word is not None and word not in seen:
            seen.add(word)
            yield pos, word
