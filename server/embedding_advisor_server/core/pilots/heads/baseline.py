"""The majority-class baseline: what every option must beat before anything counts as learned."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ...progress import Check
from .base import HeadContext, HeadRun


class MajorityHead:
    """Predicts the most frequent training label; for tagging, ``O`` for every word (no
    entities). ``x`` is ignored at fit time; at predict time it only gives the lengths."""

    def __init__(self, tagging: bool) -> None:
        self.tagging = tagging

    @classmethod
    def for_context(cls, ctx: HeadContext, seed: int) -> MajorityHead:
        return cls(ctx.tagging)

    def fit(self, x: Sequence, y: Sequence, check: Check) -> HeadRun:
        check()
        if self.tagging:
            return HeadRun(
                lambda inputs: [["O"] * len(tokens) for tokens in inputs],
                "Tags every word O (no entities)",
                0.0,
            )
        label = Counter(y).most_common(1)[0][0]
        return HeadRun(
            lambda inputs: [label] * len(inputs),
            f"Always predicts the most frequent label ({label!r})",
            0.0,
        )
