"""Quick dataset statistics: size, labels, lengths and the static vectors' OOV rate."""

from __future__ import annotations

from collections import Counter

import numpy as np

from . import linguistic
from .dataset import Dataset, words
from .models import DatasetProfile, LabelCount, LengthStats
from .resources import StaticVectors


def length_stats(lengths: list[int]) -> LengthStats:
    arr = np.asarray(lengths, dtype=float)
    return LengthStats(
        mean=float(arr.mean()),
        median=float(np.median(arr)),
        p95=float(np.percentile(arr, 95)),
        max=int(arr.max()),
    )


def profile_dataset(
    train: Dataset, test: Dataset, vectors: StaticVectors, test_split_made: bool, tokenizer=None
) -> DatasetProfile:
    train_counts, test_counts = train.label_counts(), test.label_counts()
    labels = [
        LabelCount(
            label=label,
            train_count=train_counts.get(label, 0),
            test_count=test_counts.get(label, 0),
        )
        for label, _ in (train_counts + test_counts).most_common()
    ]
    present = [c for c in train_counts.values() if c > 0]
    train_words, test_words = words(train.inputs, train.task), words(test.inputs, test.task)
    all_words = train_words + test_words
    occurrences = Counter(w for ws in all_words for w in ws)
    missing = {w for w in occurrences if vectors.lookup(w) < 0}
    total = sum(occurrences.values())
    return DatasetProfile(
        task=train.task,
        num_train=len(train),
        num_test=len(test),
        test_split_made=test_split_made,
        labels=labels,
        imbalance_ratio=float(max(present) / min(present)),
        length_words=length_stats([len(ws) for ws in all_words]),
        vectors_oov_rate=sum(occurrences[w] for w in missing) / total if total else 0.0,
        vectors_oov_type_rate=len(missing) / len(occurrences) if occurrences else 0.0,
        vectors_name=vectors.name,
        ambiguity_mean=float(
            linguistic.ambiguity(train_words, train.targets, test_words, train.is_tagging).mean()
        ),
        unseen_prevalence_mean=float(linguistic.unseen_prevalence(train_words, test_words).mean()),
        test_unseen_rate=linguistic.unseen_rate(train_words, test_words),
        encoder_pieces_per_word=(
            linguistic.pieces_per_word(tokenizer, all_words) if tokenizer is not None else 0.0
        ),
    )
