"""The dataset profile: size and shape, the three Arora et al. metrics, unseen words, domain shift.

What is measured on what (every sample seeded with the request's seed, every size reported):
- labels, imbalance and split sizes: the full splits;
- word lengths, OOV against the static vectors, word-piece fragmentation, held-out unseen rate and
  unigram overlap: up to ``max_train`` training and as many test examples;
- per-example complexity, ambiguity and unseen-word prevalence: the held-out sample the pilots
  score (``max_held_out``), against the statistics of the profiled training examples;
- masked-LM loss: ``MLM_EXAMPLES`` training examples.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..backends.mlm import MLMProbe
from ..backends.parser import Parser
from ..backends.tokens import text_columns
from ..backends.vectors import StaticVectors
from ..data.dataset import Dataset, words
from ..data.reference import REFERENCE_NAME
from ..data.sampling import sample
from ..progress import Check, Report, no_check, no_report
from ..schema import DatasetProfile, DomainShift, ExampleMetrics, LabelCount, LengthStats
from . import complexity, domain
from .linguistic import TrainStats, pieces_per_word

MLM_EXAMPLES = 200
DEFAULT_MAX_TRAIN = 100_000


def length_stats(lengths: list[int]) -> LengthStats:
    arr = np.asarray(lengths, dtype=float)
    if arr.size == 0:
        return LengthStats(mean=0.0, median=0.0, p95=0.0, max=0)
    return LengthStats(
        mean=float(arr.mean()),
        median=float(np.median(arr)),
        p95=float(np.percentile(arr, 95)),
        max=int(arr.max()),
    )


@dataclass
class ProfileTools:
    """What the profile needs beyond the data; each part is optional."""

    vectors: StaticVectors
    tokenizer: object | None = None
    parser: Parser | None = None
    mlm: MLMProbe | None = None
    mlm_note: str = ""


def _label_counts(train: Dataset, test: Dataset) -> list[LabelCount]:
    train_counts, test_counts = train.label_counts(), test.label_counts()
    return [
        LabelCount(
            label=label,
            train_count=train_counts.get(label, 0),
            test_count=test_counts.get(label, 0),
        )
        for label, _ in (train_counts + test_counts).most_common()
    ]


def _piece_lengths(tokenizer, data: Dataset) -> tuple[LengthStats, float]:
    if data.is_tagging:
        enc = tokenizer([list(t) for t in data.inputs], is_split_into_words=True)
    else:
        enc = tokenizer(*text_columns(data.inputs))
    lengths = [len(ids) for ids in enc["input_ids"]]
    limit = getattr(tokenizer, "model_max_length", 512)
    limit = limit if limit and limit < 100_000 else 512
    return length_stats(lengths), float(np.mean([n > limit for n in lengths]))


def _texts(data: Dataset) -> list[tuple[str, ...]]:
    return [(" ".join(x),) for x in data.inputs] if data.is_tagging else list(data.inputs)


def _complexity(
    held: Dataset, parser: Parser | None, report: Report, check: Check
) -> tuple[str, str, np.ndarray, float]:
    """``(measure, parser name, per-example values, mean)`` of text-structure complexity."""
    if held.is_tagging:
        per_example = complexity.entity_span_length(held.targets)
        spans = [n for s in complexity.entity_spans(held.targets) for n in s]
        return "entity span length", "", per_example, float(np.mean(spans)) if spans else 0.0
    if parser is None:
        return "", "", np.full(len(held), np.nan), 0.0
    report(0.2, f"parsing {len(held)} held-out examples")
    per_example = complexity.dependency_distance(parser, held.inputs, check)
    return "dependency distance", parser.name, per_example, complexity.nanmean(per_example)


def _domain_shift(
    all_words: list[list[str]],
    train_p: Dataset,
    tools: ProfileTools,
    seed: int,
    report: Report,
    check: Check,
) -> DomainShift:
    """Unigram overlap with the reference sample, and the masked-LM losses when a probe is given."""
    report(0.55, "unigram overlap with the reference sample")
    overlap = domain.unigram_overlap(domain.content_words(all_words), seed=seed)
    shift = DomainShift(
        reference=REFERENCE_NAME,
        unigram_overlap=overlap.overlap,
        unigram_overlap_ceiling=overlap.ceiling,
        unigram_similarity=overlap.similarity,
        overlap_top_k=overlap.top_k,
        overlap_tokens=overlap.tokens_compared,
        mlm_note=tools.mlm_note,
    )
    if tools.mlm is None:
        return shift
    report(0.7, f"masked-LM loss on {min(len(train_p), MLM_EXAMPLES)} examples")
    loss = tools.mlm.loss(_texts(sample(train_p, MLM_EXAMPLES, seed)), seed, check)
    return shift.model_copy(
        update=dict(
            mlm_loss=loss.mean,
            reference_mlm_loss=tools.mlm.reference_loss.mean,
            mlm_head="pretrained" if tools.mlm.pretrained_head else "warmed up",
            mlm_examples=loss.examples,
        )
    )


def profile_dataset(
    train: Dataset,
    test: Dataset,
    tools: ProfileTools,
    test_split_made: bool,
    seed: int = 0,
    max_held_out: int = 1000,
    max_train: int = DEFAULT_MAX_TRAIN,
    report: Report = no_report,
    check: Check = no_check,
) -> DatasetProfile:
    tagging = train.is_tagging
    train_p, test_p = sample(train, max_train, seed), sample(test, max_train, seed)
    held = sample(test, max_held_out, seed)
    report(0.05, "counting words")
    train_words, test_words = words(train_p.inputs, train.task), words(test_p.inputs, test.task)
    held_words = words(held.inputs, test.task)
    all_words = train_words + test_words
    occurrences = Counter(w for ws in all_words for w in ws)
    missing = {w for w in occurrences if tools.vectors.lookup(w) < 0}
    total = sum(occurrences.values())
    stats = TrainStats(train_words, train_p.targets, tagging)
    ambiguity = stats.ambiguity(held_words)
    prevalence = stats.unseen_prevalence(held_words)
    check()
    measure, parser_name, per_example, complexity_mean = _complexity(
        held, tools.parser, report, check
    )
    check()
    pieces, truncated, fragmentation = None, 0.0, 0.0
    if tools.tokenizer is not None:
        report(0.45, "counting encoder word pieces")
        pieces, truncated = _piece_lengths(tools.tokenizer, held)
        fragmentation = pieces_per_word(tools.tokenizer, all_words)
    shift = _domain_shift(all_words, train_p, tools, seed, report, check)
    present = [c for c in train.label_counts().values() if c > 0]
    report(1.0, "profile done")
    return DatasetProfile(
        task=train.task,
        num_train=len(train),
        num_test=len(test),
        test_split_made=test_split_made,
        labels=_label_counts(train, test),
        imbalance_ratio=float(max(present) / min(present)),
        length_words=length_stats([len(ws) for ws in all_words]),
        vectors_oov_rate=sum(occurrences[w] for w in missing) / total if total else 0.0,
        vectors_oov_type_rate=len(missing) / len(occurrences) if occurrences else 0.0,
        vectors_name=tools.vectors.name,
        ambiguity_mean=float(ambiguity.mean()) if len(ambiguity) else 0.0,
        unseen_prevalence_mean=float(prevalence.mean()) if len(prevalence) else 0.0,
        test_unseen_rate=stats.unseen_rate(test_words),
        encoder_pieces_per_word=fragmentation,
        complexity_mean=complexity_mean,
        complexity_measure=measure,
        parser=parser_name,
        held_out_profiled=len(held),
        train_profiled=len(train_p),
        length_pieces=pieces,
        encoder_truncated_rate=truncated,
        domain=shift,
        examples=ExampleMetrics(
            split=test.source,
            lines=list(held.lines),
            complexity=[float(v) for v in per_example],
            ambiguity=[float(v) for v in ambiguity],
            unseen_prevalence=[float(v) for v in prevalence],
        ),
    )
