"""Seeded splits and subsamples of a dataset, stratified by label where every label allows it."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from .dataset import Dataset


def split(dataset: Dataset, test_fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """A seeded split; stratified by label for classification when every label has two examples."""
    n_test = math.ceil(len(dataset) * test_fraction)  # as scikit-learn rounds a fraction
    return _split(dataset, len(dataset) - n_test, seed)


def sample(dataset: Dataset, n: int | None, seed: int) -> Dataset:
    """A seeded subsample of exactly ``min(n, len)`` examples, stratified by label where possible."""
    if n is None or len(dataset) <= n:
        return dataset
    kept, _ = _split(dataset, n, seed)
    return kept


def sample_indices(dataset: Dataset, n: int, seed: int) -> np.ndarray:
    """Positions of ``sample(dataset, n, seed)``'s examples in ``dataset``, ascending."""
    if len(dataset) <= n:
        return np.arange(len(dataset))
    return _split_indices(dataset, n, seed)[0]


def disjoint_samples(dataset: Dataset, n: int, count: int, seed: int) -> list[np.ndarray]:
    """Up to ``count`` disjoint seeded samples of exactly ``n`` examples each (positions,
    ascending), each stratified by label where possible: the folds of a cross-fit."""
    left = np.arange(len(dataset))
    out: list[np.ndarray] = []
    for k in range(count):
        if n < 1 or len(left) < n:
            break
        pick = (
            left if len(left) == n else left[_split_indices(dataset.subset(left), n, seed + k)[0]]
        )
        out.append(np.sort(pick))
        left = np.setdiff1d(left, pick)
    return out


def _split(dataset: Dataset, n_train: int, seed: int) -> tuple[Dataset, Dataset]:
    train_idx, test_idx = _split_indices(dataset, n_train, seed)
    return dataset.subset(train_idx), dataset.subset(test_idx)


def _split_indices(dataset: Dataset, n_train: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(dataset))
    n_test = len(dataset) - n_train
    stratify = None
    if not dataset.is_tagging:
        counts = Counter(dataset.targets)
        if min(counts.values()) >= 2 and n_test >= len(counts) and n_train >= len(counts):
            stratify = dataset.targets
    train_idx, test_idx = train_test_split(
        indices, train_size=n_train, test_size=n_test, random_state=seed, stratify=stratify
    )
    return np.sort(train_idx), np.sort(test_idx)
