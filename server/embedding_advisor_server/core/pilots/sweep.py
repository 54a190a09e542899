"""The full sweep that the advice is checked against (``advise eval``): every option the advisor
can recommend, trained on a whole (capped) training split with the widest recipe grid (the
``thorough`` budget's), each run judged on its own seeded dev slice (early stopping, the
learning-rate probe, C by cross-validation), scored on a test split, timed; ``seeds`` runs per
option. One featurisation of the training and test examples serves every option, as in the
pilots (``runner.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..backends.precision import Resolved
from ..data.dataset import Dataset
from ..progress import Check, Report, no_report, scaled
from ..schema import Budget
from .arms import ARMS, ArmSpec
from .plan import Plan
from .runner import _Pilots

# Every option a user could be advised (the majority baseline and TAPT are not options to sweep).
SWEPT = tuple(spec for spec in ARMS if spec.schedule in ("curve", "finetune"))


@dataclass(frozen=True)
class SweepRun:
    """One option trained once: its test score, the seconds it took (training and scoring), how
    its training was judged and the recipe it settled on."""

    arm: str
    seed: int
    score: float
    seconds: float
    convergence: str
    recipe: dict


def sweep(
    train: Dataset,
    test: Dataset,
    encoder,
    vectors,
    metric: str,
    todo: list[tuple[ArmSpec, int]],
    check: Check,
    report: Report = no_report,
    precision: Resolved | None = None,
    done: Callable[[SweepRun], None] | None = None,
) -> tuple[list[SweepRun], float]:
    """Train each ``(option, seed)`` of ``todo`` on ``train``, score it on ``test``; ``done`` is
    called with each run as it finishes (a cache can keep it). Returns the runs and the seconds
    the featurisation took (shared by every run)."""
    plan = Plan.of(Budget.THOROUGH)
    pilots = _Pilots(train, test, encoder, vectors, metric, 0, check, report, plan, precision)
    t0 = time.perf_counter()
    pilots.featurise()
    featurise_seconds = time.perf_counter() - t0
    out = []
    for k, (spec, seed) in enumerate(todo):
        part = scaled(report, 0.5 + 0.5 * k / len(todo), 0.5 + 0.5 * (k + 1) / len(todo))
        ctx = pilots.context(lambda f, m, part=part, spec=spec: part(f, f"{spec.id}: {m}"))
        part(0.0, f"{spec.id}, seed {seed}: training on {len(train):,} examples")
        step = pilots._step(spec, len(pilots.pool), seed, ctx, check)
        run = SweepRun(
            spec.id,
            seed,
            step.run.evaluation.score(),
            step.seconds,
            step.head.convergence.verdict,
            step.head.recipe,
        )
        out.append(run)
        if done is not None:
            done(run)
    return out, featurise_seconds
