"""The pilot runner: every arm at several training sizes and seeds, inside a budget.

Order of work, so that a budget in seconds can be kept:
1. the encoder featurises the held-out examples (needed anyway): this measures its speed;
2. with a deadline, the training pool shrinks to what the encoder can featurise in time (the same
   pool serves every arm, so the comparison stays fair), and the note says so;
3. static and random features, then the encoder's pool features, each computed once;
4. per arm, the head is trained at each learning-curve size (geometric, up to the pool) and seed;
   the largest size with seed 0 is the arm's headline run and always runs; other points are
   skipped once the deadline has passed, and the notes list them.
Progress is reported per arm and size; ``check`` (cancel) is called between every step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .cost import PeakMemory
from .dataset import Dataset, sample_indices
from .finetune import Recipe, fine_tune
from .heads import fit_predict_sequences
from .logme import logme, logme_tagging
from .metrics import MACRO_F1, evaluate
from .models import Budget, Embedding
from .pilots import (
    ENCODER_FINETUNED,
    ENCODER_FROZEN,
    ENCODER_LOGREG,
    RANDOM,
    STATIC,
    STATIC_LOGREG,
    ArmRun,
    CurveRun,
    fit_predict,
    majority_baseline,
    pooled_features,
    random_vectors,
    static_sequences,
)
from .resources import Encoder, StaticVectors

Report = Callable[[float, str], None]
Check = Callable[[], None]
MIN_CURVE_SIZE = 50


@dataclass(frozen=True)
class Plan:
    """How much the pilots do: learning-curve points, seeds below the largest size, deadline;
    for fine-tuning (the costly arm): how many of the largest sizes, seeds below the largest
    size, and its recipe grid."""

    points: int
    seeds: int
    seconds: float = 0.0  # 0: no deadline
    finetune_points: int = 1
    finetune: Recipe = field(default_factory=Recipe)
    finetune_seeds: int = 1

    @classmethod
    def of(cls, budget: Budget, seconds: float = 0.0) -> Plan:
        preset = PRESETS[budget if budget is not Budget.UNSPECIFIED else Budget.QUICK]
        return replace(preset, seconds=seconds)


PRESETS = {
    Budget.QUICK: Plan(
        3, 2, finetune_points=2, finetune=Recipe((1e-4,), max_epochs=2, min_steps=120)
    ),
    Budget.STANDARD: Plan(
        4, 2, finetune_points=2, finetune=Recipe((5e-5, 1e-4), max_epochs=3, min_steps=120)
    ),
    Budget.THOROUGH: Plan(
        5,
        3,
        finetune_points=3,
        finetune=Recipe((3e-5, 5e-5, 1e-4), max_epochs=5, min_steps=200),
        finetune_seeds=2,
    ),
}
# Fine-tuning costs about this many forward passes per training example and epoch.
FINETUNE_COST = 3.0
# With a deadline, encoding the training pool may take this share of the time left: the BiLSTM
# heads of three arms at every curve size cost a few times the encoding.
ENCODING_SHARE = 0.25


def curve_sizes(pool: int, points: int, min_size: int = MIN_CURVE_SIZE) -> list[int]:
    """Halving sizes from the pool down, at most ``points``, none below ``min_size``."""
    sizes = [pool]
    while len(sizes) < points and sizes[-1] // 2 >= min(min_size, pool):
        sizes.append(sizes[-1] // 2)
    return sorted(set(sizes))


@dataclass
class Outcome:
    runs: list[ArmRun]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Arm:
    name: str
    embedding: Embedding
    description: str
    sequence: bool = True  # the BiLSTM head; else logistic regression on pooled features
    train_x: object = None
    eval_x: object = None
    featurize_seconds: float = 0.0
    predict_seconds: float = 0.0
    peak_mib: float = 0.0
    runs: list[CurveRun] = field(default_factory=list)
    head: str = ""
    logme: float = math.nan


def transferability(features, targets, tagging: bool) -> float:
    """LogME of pooled features (tagging: per-word rows) on their labels; NaN when undefined
    (a single class)."""
    try:
        return logme_tagging(features, targets) if tagging else logme(features, targets)
    except ValueError:
        return math.nan


def _flat(sequences: list[tuple[np.ndarray, ...]], tagging: bool):
    """Logistic regression's input from sequence features: per-word rows for tagging (a list of
    arrays), else one pooled vector per example."""
    return [e[0] for e in sequences] if tagging else pooled_features(sequences)


def run_pilots(
    train: Dataset,
    held_out: Dataset,
    encoder: Encoder,
    vectors: StaticVectors,
    metric: str,
    seed: int,
    check: Check,
    report: Report,
    plan: Plan | None = None,
    decision_size: int = 0,
) -> Outcome:
    """``decision_size``: the size the advice is for (0: the training set given); fine-tuning's
    smaller sizes run only when it is beyond the pool (see ``_fine_tune_arm``)."""
    plan = plan or Plan.of(Budget.UNSPECIFIED)
    start = time.monotonic()
    deadline = start + plan.seconds if plan.seconds else None
    notes: list[str] = []
    tagging = train.is_tagging

    def encode(d: Dataset, part: str, lo: float, hi: float) -> list[tuple[np.ndarray, ...]]:
        def on_batch(done: int, total: int) -> None:
            report(lo + (hi - lo) * done / total, f"{encoder.name}: encoding the {part} examples")

        if tagging:
            return [(f,) for f in encoder.word_features(d.inputs, check, on_batch)]
        return [(f,) for f in encoder.sequence_features(d.inputs, check, on_batch)]

    states = "each word's first-piece state" if tagging else "word-piece states"
    enc = _Arm(
        ENCODER_FROZEN,
        Embedding.CONTEXTUAL,
        f"Frozen {encoder.name} ({encoder.backend}), {states}",
    )
    enc_lr = _Arm(
        ENCODER_LOGREG,
        Embedding.CONTEXTUAL,
        f"Frozen {encoder.name} ({encoder.backend}), "
        + ("each word's first-piece state" if tagging else "mean-pooled states"),
        sequence=False,
    )
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        enc.eval_x = encode(held_out, "held-out", 0.02, 0.12)
        eval_seconds = time.perf_counter() - t0
    enc.peak_mib = mem.added_mib
    rate = len(held_out) / max(eval_seconds, 1e-6)  # the encoder's examples per second

    pool = train
    if deadline is not None:
        # Encoding the pool gets a share of what is left; the heads and other arms the rest.
        affordable = int(rate * max(0.0, deadline - time.monotonic()) * ENCODING_SHARE)
        if affordable < len(train):
            n = max(min(MIN_CURVE_SIZE, len(train)), affordable)
            pool = train.subset(sample_indices(train, n, seed))
            notes.append(
                f"Pilots trained on {n} of {len(train)} examples to fit the "
                f"{plan.seconds:g}-second budget (the encoder encodes ~{rate:.0f} examples/s)."
            )
    check()

    rand_vectors = random_vectors([pool, held_out], vectors.dim, seed)
    per_word = ", one per word" if tagging else ""
    static = _Arm(STATIC, Embedding.STATIC, f"{vectors.name} word vectors{per_word}")
    static_lr = _Arm(
        STATIC_LOGREG,
        Embedding.STATIC,
        f"{vectors.name} word vectors, " + ("one per word" if tagging else "averaged"),
        sequence=False,
    )
    rand = _Arm(RANDOM, Embedding.RANDOM, f"{rand_vectors.name.capitalize()}{per_word} (the floor)")
    report(0.13, f"{vectors.name} and random vectors: features")
    for arm, vecs in ((static, vectors), (rand, rand_vectors)):
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            arm.train_x = static_sequences(vecs, pool)
            arm.eval_x = static_sequences(vecs, held_out)
            arm.featurize_seconds = time.perf_counter() - t0
        arm.peak_mib = mem.added_mib
        check()
    static_lr.train_x, static_lr.eval_x = (
        _flat(static.train_x, tagging),
        _flat(static.eval_x, tagging),
    )
    static_lr.featurize_seconds, static_lr.peak_mib = static.featurize_seconds, static.peak_mib

    with PeakMemory() as mem:
        t0 = time.perf_counter()
        enc.train_x = encode(pool, "train", 0.15, 0.45)
        enc.featurize_seconds = eval_seconds + time.perf_counter() - t0
    enc.peak_mib = max(enc.peak_mib, mem.added_mib)
    enc_lr.train_x, enc_lr.eval_x = (_flat(enc.train_x, tagging), _flat(enc.eval_x, tagging))
    enc_lr.featurize_seconds, enc_lr.peak_mib = enc.featurize_seconds, enc.peak_mib
    check()

    report(0.46, "LogME of the frozen features")
    for arms_of, pooled in (
        ((static_lr, static), static_lr.train_x),
        ((enc_lr, enc), enc_lr.train_x),
        ((rand,), _flat(rand.train_x, tagging)),
    ):
        score = transferability(pooled, pool.targets, tagging)
        for arm in arms_of:
            arm.logme = score
    check()

    sizes = curve_sizes(len(pool), plan.points)
    runs = [majority_baseline(pool, held_out, metric)]
    arms = [static_lr, enc_lr, static, rand, enc]
    scoring = None if tagging else ("f1_macro" if metric == MACRO_F1 else "accuracy")

    def fit(arm: _Arm, x, y, s: int) -> tuple[list, str, float]:
        if not arm.sequence:
            return fit_predict(x, y, arm.eval_x, tagging, scoring, s)
        result = fit_predict_sequences(x, y, arm.eval_x, tagging, metric, s, check)
        return result.predictions, result.description, result.train_seconds

    steps = [(arm, size, s) for arm in arms for size in sizes for s in _seeds(size, sizes, plan)]
    skipped: dict[str, int] = {}
    for i, (arm, size, s) in enumerate(steps):
        headline = size == sizes[-1] and s == 0
        if not headline and deadline is not None and time.monotonic() > deadline:
            skipped[arm.name] = skipped.get(arm.name, 0) + 1
            continue
        check()
        report(0.47 + 0.28 * i / len(steps), f"{arm.name}: {size} examples, seed {seed + s}")
        idx = sample_indices(pool, size, seed + s)
        x = [arm.train_x[j] for j in idx] if isinstance(arm.train_x, list) else arm.train_x[idx]
        y = [pool.targets[j] for j in idx]
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            predictions, head, train_seconds = fit(arm, x, y, seed + s)
            seconds = time.perf_counter() - t0
        arm.peak_mib = max(arm.peak_mib, mem.added_mib)
        evaluation = evaluate(metric, held_out.targets, predictions)
        arm.runs.append(CurveRun(size, seed + s, evaluation, train_seconds))
        if headline:
            arm.head = head
            arm.predict_seconds = max(seconds - train_seconds, 0.0)
    for arm in arms:
        curve = sorted(arm.runs, key=lambda r: (r.size, r.seed))
        top = next(r for r in curve if r.size == sizes[-1] and r.seed == seed)
        n = len(pool) + len(held_out)
        # Inference cost: featurising one example, plus the head's share on the held-out set.
        per_example = arm.featurize_seconds / n + arm.predict_seconds / len(held_out)
        runs.append(
            ArmRun(
                arm=arm.name,
                embedding=arm.embedding,
                description=f"{arm.description}, {arm.head}",
                evaluation=top.evaluation,
                num_train=len(pool),
                num_eval=len(held_out),
                featurize_seconds=arm.featurize_seconds,
                train_seconds=top.train_seconds,
                examples_per_second=1.0 / per_example if per_example > 0 else 0.0,
                curve=curve,
                peak_memory_mib=arm.peak_mib,
                logme=arm.logme,
            )
        )
    if (decision_size or len(train)) <= len(pool):
        plan = replace(plan, finetune_points=1)
    tuned = _fine_tune_arm(
        encoder, pool, held_out, metric, seed, plan, sizes, rate, deadline, check, report, notes
    )
    if tuned is not None:
        runs.append(tuned)
    if skipped:
        notes.append(
            "Skipped to stay within the budget: "
            + ", ".join(f"{n} learning-curve runs of {arm}" for arm, n in skipped.items())
            + "."
        )
    report(1.0, "pilots done")
    return Outcome(runs, notes)


def _seeds(size: int, sizes: list[int], plan: Plan) -> range:
    """Seed offsets at ``size``: one at the largest size (the pool), ``plan.seeds`` below it."""
    return range(1 if size == sizes[-1] else plan.seeds)


def _fine_tune_arm(
    encoder: Encoder,
    pool: Dataset,
    held_out: Dataset,
    metric: str,
    seed: int,
    plan: Plan,
    sizes: list[int],
    rate: float,
    deadline: float | None,
    check: Check,
    report: Report,
    notes: list[str],
) -> ArmRun | None:
    """Fine-tune at the plan's largest sizes, largest first (the first run is the headline);
    smaller sizes get ``plan.finetune_seeds`` seeds. Skip what the deadline rules out.

    The caller asks for one size when the pool is the decision size: the pilot then measures
    fine-tuning where the advice is for, and its costliest runs would not change it."""
    recipe = plan.finetune
    chosen = sorted(sizes[-plan.finetune_points :], reverse=True)
    steps = [
        (size, s) for size in chosen for s in range(1 if size == chosen[0] else plan.finetune_seeds)
    ]
    runs: list[CurveRun] = []
    headline = None
    peak = 0.0
    for k, (size, s) in enumerate(steps):
        epochs = recipe.epochs(size)
        cost = size * epochs * len(recipe.learning_rates) * FINETUNE_COST / rate
        left = deadline - time.monotonic() if deadline is not None else None
        if left is not None and cost > left:
            notes.append(
                f"Fine-tuning on {size} examples (seed {seed + s}) skipped: it needs ~{cost:.0f} s "
                f"and the budget has {max(left, 0):.0f} s left."
            )
            continue
        check()
        part = pool.subset(sample_indices(pool, size, seed + s)) if size < len(pool) else pool

        def progress(message: str, k=k, size=size, s=s) -> None:
            report(
                0.75 + 0.23 * k / len(steps),
                f"{ENCODER_FINETUNED}, {size} examples, seed {seed + s}: {message}",
            )

        progress("starting")
        with PeakMemory() as mem:
            result = fine_tune(encoder, part, held_out, metric, seed + s, recipe, check, progress)
        peak = max(peak, mem.added_mib)
        evaluation = evaluate(metric, held_out.targets, result.predictions)
        runs.append(CurveRun(size, seed + s, evaluation, result.train_seconds))
        if headline is None:  # the largest size that could run, its first seed
            headline = (size, result, evaluation)
    if headline is None:
        return None
    size, result, evaluation = headline
    return ArmRun(
        arm=ENCODER_FINETUNED,
        embedding=Embedding.CONTEXTUAL,
        description=result.description,
        evaluation=evaluation,
        num_train=size,
        num_eval=len(held_out),
        train_seconds=result.train_seconds,
        examples_per_second=len(held_out) / result.predict_seconds
        if result.predict_seconds
        else 0.0,
        curve=sorted(runs, key=lambda r: (r.size, r.seed)),
        peak_memory_mib=peak,
    )
