"""The task-adaptive pretraining (TAPT) pilot: masked-LM training on the task's own text, then
the fine-tuned arm's headline run again from the adapted weights.

Gururangan et al. 2020 saw TAPT help on their eight classification tasks; Shi & Lipani 2023
found conventional continued pretraining could also hurt, notably on sentence pairs. So it is
measured, not assumed:

1. the texts: the pilot pool's training inputs (labels unused); the held-out inputs too only when
   the user opts in (``transductive``), since the held-out examples score the result;
2. masked-LM training of the encoder (``adapt/continued.py``) with the plan's recipe, from the
   masked-LM probe's model (its own head, or the warmed-up tied head);
3. the fine-tuned arm's headline run (the pool size, seed 0) repeated from the adapted weights
   with the same training sample, seed and recipe: the gain is paired
   (``evidence/adaptation.py``);
4. the masked-LM loss on the held-out text before and after, as the probe measures it.

Skipped, with a note, when there is nothing to pair with (fine-tuning did not run), no masked-LM
form of the encoder, or not enough time left; stopped by the deadline like any other run.
"""

from __future__ import annotations

import time
from dataclasses import replace

from ..adapt.continued import adapted_encoder, continue_pretraining
from ..adapt.masking import texts_of
from ..evidence.adaptation import PretrainingRun
from ..evidence.runs import ArmRun
from ..progress import OutOfTime, scaled
from .arms import ENCODER_TAPT
from .arms import arm as arm_of
from .featurise import PHASES
from .plan import FINETUNE_COST


def tapt_pilot(pilots, base: ArmRun | None, probe, transductive: bool = False):
    """The TAPT pilot's evidence (``PretrainingRun``) or None, with a note saying why not.
    ``pilots``: the job's ``runner._Pilots``; ``base``: the fine-tuned arm's run; ``probe``:
    the encoder's masked-LM probe (``backends/mlm.MLMProbe``) or None."""
    recipe = pilots.plan.tapt
    if recipe is None:
        return None
    why = _unmeasurable(pilots, base, probe)
    if why:
        pilots.notes.append(f"Task-adaptive pretraining not measured: {why}.")
        return None
    assert base is not None
    headline = min((r for r in base.curve if r.size == base.num_train), key=lambda r: r.seed)
    held_texts = texts_of(pilots.held_out.inputs, pilots.tagging)
    texts = texts_of(pilots.pool.inputs, pilots.tagging) + (held_texts if transductive else [])
    if not _affordable(pilots, len(texts), headline.size):
        return None
    report = scaled(pilots.report, *PHASES["tapt"])
    try:
        before = probe.loss(held_texts, seed=pilots.seed, check=pilots.hard_check)
        adapted = continue_pretraining(
            probe.model,
            probe.tokenizer,
            texts,
            recipe,
            pilots.precision,
            pilots.seed,
            pilots.hard_check,
            lambda f, m: report(0.5 * f, f"task-adaptive pretraining: {m}"),
        )
        after = probe.with_model(adapted.model).loss(
            held_texts, seed=pilots.seed, check=pilots.hard_check
        )
    except OutOfTime:
        pilots.notes.append(
            "Task-adaptive pretraining stopped: the budget ran out while it trained."
        )
        return None
    spec = arm_of(ENCODER_TAPT)
    ctx = replace(
        pilots.context(lambda f, m: report(0.5 + 0.5 * f, f"fine-tuning after TAPT: {m}")),
        encoder=adapted_encoder(pilots.encoder, adapted.state),
    )
    t0 = time.perf_counter()
    step = pilots.step(spec, headline.size, headline.seed - pilots.seed, ctx)
    if step is None:
        pilots.notes.append(
            "Task-adaptive pretraining not measured: the budget ran out while fine-tuning from "
            "the adapted weights."
        )
        return None
    return PretrainingRun(
        kind="tapt",
        size=headline.size,
        seed=headline.seed,
        base=headline.evaluation,
        adapted=step.run.evaluation,
        mlm_seconds=adapted.seconds,
        finetune_seconds=time.perf_counter() - t0,
        mlm_epochs=adapted.epochs,
        mlm_epochs_run=adapted.epochs_run,
        mlm_steps=adapted.steps,
        mlm_texts=adapted.texts,
        mlm_pieces=adapted.pieces,
        recipe=recipe,
        dev_loss_before=adapted.dev_loss_before,
        dev_loss_after=adapted.dev_loss_after,
        held_out_loss_before=before.mean,
        held_out_loss_after=after.mean,
        transductive=transductive,
    )


def _affordable(pilots, texts: int, size: int) -> bool:
    """Whether the masked-LM epochs over ``texts`` texts and one fine-tuning on ``size`` examples
    fit the time left (noted when not)."""
    cost = (
        FINETUNE_COST
        / max(pilots.rate, 1e-6)
        * (texts * pilots.plan.tapt.max_epochs + size * pilots.plan.finetune.epochs(size))
    )
    left = pilots.time_left()
    if left is not None and cost > left:
        pilots.notes.append(
            f"Task-adaptive pretraining not measured: it needs ~{cost:.0f} s and the budget has "
            f"{max(left, 0):.0f} s left."
        )
        return False
    return True


def _unmeasurable(pilots, base: ArmRun | None, probe) -> str:
    if probe is None:
        return (
            "no masked-LM form of the encoder was loaded (it has none, or the budget in seconds "
            "left no time to warm a head up: see the profile's domain notes)"
        )
    if base is None or not base.curve:
        return "fine-tuning did not run, so there is nothing to pair the adapted run with"
    if pilots.encoder is None or getattr(pilots.encoder, "model", None) is None:
        return "the encoder has no torch weights to adapt"
    return ""
