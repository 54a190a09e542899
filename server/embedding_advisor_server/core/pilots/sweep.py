"""The full sweep that the advice is checked against (``advise eval``): every option the advisor
can recommend, trained on a whole (capped) training split with the widest recipe grid (the
``thorough`` budget's), each run judged on its own seeded dev slice (early stopping, the
learning-rate probe, C by cross-validation), scored on a test split, timed; ``seeds`` runs per
option. One featurisation of the training and test examples serves every option, as in the
pilots (``runner.py``).

The continued-pretraining question's truth rides along (``TAPT``): per seed, masked-LM training
of the encoder on the whole training split's texts (the thorough budget's recipe, early stopping
on its own dev slice of the texts), then fine-tuning from the adapted weights with fine-tuning's
recipe grid, seed and dev slice, so that its score pairs with the fine-tuned option's run of the
same seed. Not an option to pick: it answers whether task-adaptive pretraining paid."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..adapt.continued import adapted_encoder, continue_pretraining
from ..adapt.masking import texts_of
from ..backends.precision import Resolved
from ..data.dataset import Dataset
from ..progress import Check, Report, no_report, scaled
from ..schema import Budget
from .arms import ARMS, ENCODER_TAPT, ArmSpec, arm
from .heads.bilstm import BiLSTMHead
from .heads.finetune import FineTuneHead
from .plan import Plan
from .runner import _Pilots

# Every option a user could be advised (the majority baseline and TAPT are not options to sweep).
SWEPT = tuple(spec for spec in ARMS if spec.schedule in ("curve", "finetune"))
# Fine-tuning after task-adaptive pretraining: the pretraining question's truth (module notes).
TAPT = arm(ENCODER_TAPT)


def recipe_of(spec: ArmSpec, plan: Plan) -> tuple:
    """What of ``plan`` a sweep run of ``spec`` trains with: its head's recipe (fine-tuning's
    after TAPT's masked-LM recipe; nothing for logistic regression, whose C is cross-validated).
    A cache keyed by it re-runs only the options whose recipe changed."""
    if spec.id == TAPT.id:
        return (plan.tapt, plan.finetune)
    if spec.head == FineTuneHead.for_context:
        return (plan.finetune,)
    if spec.head == BiLSTMHead.for_context:
        return (plan.bilstm,)
    return ()


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
    probe=None,
) -> tuple[list[SweepRun], float]:
    """Train each ``(option, seed)`` of ``todo`` on ``train``, score it on ``test``; ``done`` is
    called with each run as it finishes (a cache can keep it). ``probe``: the encoder's masked-LM
    probe (``backends/mlm.MLMProbe``), which a ``TAPT`` run in ``todo`` needs. Returns the runs
    and the seconds the featurisation took (shared by every run)."""
    if probe is None and any(spec.id == TAPT.id for spec, _ in todo):
        raise ValueError("a TAPT run needs the encoder's masked-LM probe")
    plan = Plan.of(Budget.THOROUGH)
    pilots = _Pilots(train, test, encoder, vectors, metric, 0, check, report, plan, precision)
    t0 = time.perf_counter()
    pilots.featurise()
    featurise_seconds = time.perf_counter() - t0
    out = []
    for k, (spec, seed) in enumerate(todo):
        part = scaled(report, 0.5 + 0.5 * k / len(todo), 0.5 + 0.5 * (k + 1) / len(todo))
        ctx = pilots.context(scaled(part, 0.0, 1.0, spec.id))
        part(0.0, f"{spec.id}, seed {seed}: training on {len(train):,} examples")
        pretraining: dict = {}
        if spec.id == TAPT.id:
            ctx, pretraining = _after_tapt(pilots, probe, seed, ctx, check)
        step = pilots._step(spec, len(pilots.pool), seed, ctx, check)
        run = SweepRun(
            spec.id,
            seed,
            step.run.evaluation.score(),
            step.seconds + pretraining.get("seconds", 0.0),
            step.head.convergence.verdict,
            step.head.recipe | ({"pretraining": pretraining} if pretraining else {}),
        )
        out.append(run)
        if done is not None:
            done(run)
    return out, featurise_seconds


def _after_tapt(pilots: _Pilots, probe, seed: int, ctx, check: Check):
    """Masked-LM training on the training split's texts with ``seed``: the context whose encoder
    holds the adapted weights, and what the pretraining took (its recipe, epochs, seconds)."""
    recipe = Plan.of(Budget.THOROUGH).tapt
    assert recipe is not None
    adapted = continue_pretraining(
        probe.model,
        probe.tokenizer,
        texts_of(pilots.pool.inputs, pilots.tagging),
        recipe,
        pilots.precision,
        seed,
        check,
        scaled(ctx.report, 0.0, 0.4, "task-adaptive pretraining"),
    )
    took = {
        "seconds": adapted.seconds,
        "max_epochs": recipe.max_epochs,
        "epochs_kept": adapted.epochs,
        "epochs_run": adapted.epochs_run,
        "texts": adapted.texts,
        "dev_loss_before": adapted.dev_loss_before,
        "dev_loss_after": adapted.dev_loss_after,
    }
    return replace(ctx, encoder=adapted_encoder(pilots.encoder, adapted.state)), took
