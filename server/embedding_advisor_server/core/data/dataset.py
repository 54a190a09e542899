"""The dataset as the stages see it: checked examples of one task, with their file lines.

``parse.py`` reads a JSONL file into a ``Dataset``; ``sampling.py`` splits and subsamples it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..schema import TaskType
from .text import tokenize


@dataclass(frozen=True)
class Dataset:
    """A checked dataset.

    ``inputs[i]`` is ``(text,)`` for classification, ``(text_a, text_b)`` for pairs and the token
    tuple for tagging; ``targets[i]`` is the label string, or the tag tuple for tagging.
    """

    task: TaskType
    inputs: list[tuple[str, ...]]
    targets: list
    lines: list[int]
    source: str = "dataset"

    def __len__(self) -> int:
        return len(self.inputs)

    def subset(self, indices: Iterable[int]) -> Dataset:
        idx = list(indices)
        return Dataset(
            self.task,
            [self.inputs[i] for i in idx],
            [self.targets[i] for i in idx],
            [self.lines[i] for i in idx],
            self.source,
        )

    @property
    def is_tagging(self) -> bool:
        return self.task is TaskType.TOKEN_TAGGING

    def label_counts(self) -> Counter:
        """Labels, or for tagging every tag occurrence."""
        if self.is_tagging:
            return Counter(tag for tags in self.targets for tag in tags)
        return Counter(self.targets)


def words(inputs: Sequence[tuple[str, ...]], task: TaskType) -> list[list[str]]:
    """The words of each example: given tokens for tagging, else the tokenised text(s)."""
    if task is TaskType.TOKEN_TAGGING:
        return [list(tokens) for tokens in inputs]
    return [[w for text in example for w in tokenize(text)] for example in inputs]
