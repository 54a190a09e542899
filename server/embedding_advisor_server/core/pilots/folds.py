"""Cross-fitting: the contested arms' pool-size runs scored on every fold, not only on the
held-out examples.

With no test file the advisor splits its held-out examples from the training file: a fifth of
500 examples is 100, too few to tell options ten points apart (tweets_sentiment at 500: the pick
fell to the option that happened to score high on them). The pool then gives further folds of
the held-out examples' size, as many as it takes to score ``cross_fit_examples`` (the request's,
else the server's: 500), at most ``plan.folds - 1`` (``Featuriser.plan_folds``; none when the
held-out examples are that many already); each
arm still in contention once its curve has run (``pruning.dominated``: its upper bound at the
decision size is not below the leader's lower bound; the majority baseline always) trains once
more per fold, on the held-out examples and the rest of the pool (as many examples as its
headline run, the same seed and recipe; fine-tuning with the headline's learning rate), and
scores the fold. Its headline evaluation becomes all folds' together (``Evaluation.placed``: one
row per scored example, one set of replicates for every arm, so comparisons stay paired), and
each smaller curve point is carried over to all folds as the headline's held-out and all-fold
scores differ (``metrics.Shifted``, a control variate: the curve's shape stays measured on one
set of examples, its level on all of them). Past the deadline the folds left are skipped (noted).
"""

from __future__ import annotations

import numpy as np

from ..evidence.metrics import Evaluation, Shifted
from ..evidence.runs import ArmRun
from ..progress import OutOfTime, Report, scaled
from .arms import ArmSpec
from .arms import arm as arm_of
from .features import joined, rows
from .featurise import PHASES
from .pruning import bounds, dominated


def cross_fit(pilots, runs: list[ArmRun], decision_size: int) -> None:
    """Every contested arm of ``runs`` cross-fitted in place (see the module's notes);
    ``pilots``: the job's ``runner._Pilots`` with its folds planned."""
    if not pilots.folds:
        return
    arms = {
        r.arm: bounds(r, decision_size, pilots.weights, pilots.seed, pilots.noise) for r in runs
    }
    out = dominated(arms, list(arms), decision_size, len(pilots.pool))
    contested = [r for r in runs if r.arm not in out or arm_of(r.arm).schedule == "once"]
    counts = {r.arm: folds_of(pilots, arm_of(r.arm)) for r in contested}
    report = scaled(pilots.report, *PHASES["folds"])
    total, k = sum(counts.values()), 0
    skipped: list[str] = []
    for run in contested:
        scored = []
        for j, fold in enumerate(pilots.folds[: counts[run.arm]]):
            what = f"{run.arm}: cross-fitting, fold {j + 2} of {counts[run.arm] + 1}"
            report(k / total, what)
            part = scaled(report, k / total, (k + 1) / total, what)
            k += 1
            evaluation = _fold(pilots, arm_of(run.arm), run, j, part)
            if evaluation is None:
                skipped.append(run.arm)
                break
            scored.append((evaluation, len(fold)))
        if scored:
            _combine(run, scored)
    pilots.notes.append(_note(pilots, counts, out))
    if skipped:
        pilots.notes.append(
            "Cross-fitting stopped to stay within the budget: "
            + ", ".join(sorted(set(skipped)))
            + " scored on fewer folds."
        )


def folds_of(pilots, spec: ArmSpec) -> int:
    """How many further folds ``spec`` is scored on: all planned, fine-tuning's at most
    ``plan.finetune_folds - 1`` (each is a fine-tuning of the encoder on the pool's size)."""
    if spec.schedule == "finetune":
        return min(len(pilots.folds), max(pilots.plan.finetune_folds - 1, 0))
    return len(pilots.folds)


def _note(pilots, counts: dict[str, int], out: dict[str, str]) -> str:
    """The cross-fit in words: which arms on how many folds, which not and why."""
    by_folds: dict[int, list[str]] = {}
    for arm, n in counts.items():
        by_folds.setdefault(n + 1, []).append(arm)
    parts = "; ".join(
        f"{', '.join(arms)} on {n} folds" for n, arms in sorted(by_folds.items(), reverse=True)
    )
    left_out = [arm for arm in out if arm not in counts]  # the baseline is always cross-fitted
    return (
        f"Cross-fitted on folds of {len(pilots.held_out)} examples (the held-out examples and "
        f"slices of the training pool, each scored by a run trained on the rest): {parts}"
        + (f"; not {', '.join(left_out)}, dominated by then" if left_out else "")
        + "."
    )


def _fold(pilots, spec: ArmSpec, run: ArmRun, j: int, report: Report) -> Evaluation | None:
    """``run``'s headline training again with fold ``j`` of the pool held out (in its place, the
    held-out examples) and fold ``j`` scored; None past the deadline. ``report``: the fold's
    share of the progress (fine-tuning reports its epochs there)."""
    left = pilots.time_left()
    if left is not None and left < 0:
        return None
    fold = pilots.folds[j]
    rest = np.setdiff1d(np.arange(len(pilots.pool)), fold)
    x_pool, x_held = pilots.features[spec.features].view(spec.pooled)
    y_pool = pilots.pool.targets
    train = (
        joined(x_held, rows(x_pool, rest)),
        list(pilots.held_out.targets) + [y_pool[k] for k in rest],
    )
    scored = (rows(x_pool, fold), [y_pool[k] for k in fold], pilots.fold_rows(j))
    recipe = (
        pilots.at_rate(run.recipe.get("learning_rate")) if spec.schedule == "finetune" else None
    )
    ctx = pilots.context(report, finetune=recipe)
    try:
        step = pilots.fit_score(spec, ctx, 0, pilots.hard_check, train, scored, run.num_train)
    except OutOfTime:
        return None
    return step.run.evaluation


def _combine(run: ArmRun, folds: list[tuple[Evaluation, int]]) -> None:
    """The headline's evaluation and the further folds' (each with its number of examples) as
    one; the other curve points carried over to all folds (``Shifted``)."""
    own = run.evaluation  # the headline run's, on the held-out examples
    every = Evaluation(own.stats + sum(f.stats for f, _ in folds), own.reduce)
    for point in run.curve:
        if point.evaluation is own:
            point.first_fold, point.evaluation = own, every
        else:
            point.evaluation = Shifted(point.evaluation, every, own)
    run.evaluation = every
    run.num_eval += sum(n for _, n in folds)
