"""Continued-pretraining advice (none / TAPT / DAPT / DAPT+TAPT): measured where a pilot ran.

**Measured (TAPT).** The TAPT pilot (``pilots/tapt.py``) fine-tunes again from weights adapted by
masked-LM training on the task's own text and gives the paired gain with its 95% interval
(``evidence/adaptation.py``). TAPT is advised only when the interval's low end is above zero;
"none" when it covers zero or lies below it, saying which. Pair tasks are measured like the rest
(Shi & Lipani 2023 found continued pretraining could hurt on them; Gururangan et al. 2020 saw
TAPT help on their eight classification tasks). The gain is measured at the pilot's size with a
pilot's masked-LM recipe; a full TAPT run (Gururangan et al.: 100 epochs) trains longer.

**Projected (DAPT, and TAPT when no pilot ran).** No corpus of the domain is given, so DAPT is
a projection from the profile's domain signals, labelled as such: the top-10K unigram similarity
to the general-English reference below ``SIMILARITY_BELOW``, or the encoder's masked-LM loss on
the data above the reference's by more than ``LOSS_GAP_ABOVE`` nats, say "a different domain",
where Gururangan et al. found DAPT helped most (news, closest to the pretraining text, gained
nothing). The thresholds sit between what the shared datasets show: news and paraphrase pairs
~0.70 similarity and +0.7 nats or less, tweets, drug reviews and WNUT ~0.50 and +1.8 nats.
Without a TAPT pilot the kind follows the same signals and the advice says it is unmeasured.
Static vectors have no encoder to pretrain: none.
"""

from __future__ import annotations

import math

from ..evidence.adaptation import Gain, PretrainingRun
from ..schema import DomainShift, Interval, PretrainingAdvice, PretrainingKind, PretrainingPilot

SIMILARITY_BELOW = 0.55
LOSS_GAP_ABOVE = 1.0
# Gururangan et al. 2020's TAPT: 100 epochs over the task's text, batches of 256, lr 1e-4.
FULL_TAPT_EPOCHS = 100
FULL_TAPT_BATCH = 256
DAPT_TEXT = (
    "A real DAPT run needs a large unlabeled corpus of the domain: Gururangan et al. 2020 "
    "trained 12.5k steps of 2,048 sequences on 2-8 billion tokens per domain."
)


def _signals(domain: DomainShift | None) -> tuple[list[str], bool]:
    if domain is None:
        return [], False
    signals = []
    shifted = False
    similar = domain.unigram_similarity
    low = similar < SIMILARITY_BELOW
    signals.append(
        f"top-{domain.overlap_top_k:,} unigram similarity to the {domain.reference} is "
        f"{similar:.2f} ({'below' if low else 'at or above'} {SIMILARITY_BELOW}: "
        f"{'a different domain' if low else 'close to general English'})"
    )
    shifted |= low
    if domain.mlm_loss and domain.reference_mlm_loss:
        gap = domain.mlm_loss - domain.reference_mlm_loss
        high = gap > LOSS_GAP_ABOVE
        signals.append(
            f"the encoder's masked-LM loss is {domain.mlm_loss:.2f} on the data vs "
            f"{domain.reference_mlm_loss:.2f} on the reference ({gap:+.2f} nats; "
            f"{'above' if high else 'within'} {LOSS_GAP_ABOVE:g})"
        )
        shifted |= high
    return signals, shifted


def _dapt_projection(shifted: bool) -> str:
    if shifted:
        return (
            "Projection, not measured: the domain signals say the data is unlike the encoder's "
            "pretraining text, where domain-adaptive pretraining helped most in Gururangan et "
            f"al. 2020. {DAPT_TEXT}"
        )
    return (
        "Projection, not measured: the domain signals say the data is close to general English, "
        f"where domain-adaptive pretraining gained little in Gururangan et al. 2020. {DAPT_TEXT}"
    )


def pilot_message(run: PretrainingRun, gain: Gain) -> PretrainingPilot:
    return PretrainingPilot(
        num_train=run.size,
        base_score=run.base.score(),
        adapted_score=run.adapted.score(),
        gain=gain.point,
        gain_interval=Interval(low=gain.low, high=gain.high),
        noise=gain.noise,
        held_out_mlm_loss_before=run.held_out_loss_before,
        held_out_mlm_loss_after=run.held_out_loss_after,
        mlm_seconds=run.mlm_seconds,
        mlm_epochs=run.mlm_epochs,
        mlm_steps=run.mlm_steps,
        mlm_texts=run.mlm_texts,
        mlm_pieces=run.mlm_pieces,
        finetune_seconds=run.finetune_seconds,
        recipe=run.recipe.describe(),
        transductive=run.transductive,
    )


def full_recipe(run: PretrainingRun, train_texts: int) -> str:
    """Gururangan et al.'s TAPT at full scale on ``train_texts`` texts, with the steps and the
    hours this machine would take at the pilot's measured masked-LM speed."""
    steps = FULL_TAPT_EPOCHS * math.ceil(train_texts / FULL_TAPT_BATCH)
    pieces = FULL_TAPT_EPOCHS * train_texts * run.mlm_pieces / max(run.mlm_texts, 1)
    rate = run.mlm_pieces * run.mlm_epochs_run / max(run.mlm_seconds, 1e-6)
    return (
        f"Masked-LM training on the task's {train_texts:,} training texts (labels unused): "
        f"{FULL_TAPT_EPOCHS} epochs or until the masked-LM loss on a held-out slice stops "
        f"falling, batches of {FULL_TAPT_BATCH} (accumulate gradients), lr "
        f"{run.recipe.learning_rate:g} with 6% warm-up and linear decay, 15% masking, "
        f"{run.recipe.max_length} pieces max: {steps:,} steps, about {pieces / 1e6:,.1f} M "
        f"pieces; at the pilot's {rate:,.0f} pieces/s that is ~{pieces / rate / 3600:.1f} h on "
        "this machine (GPU time not "
        "measured). Then fine-tune from the adapted weights with the advised recipe."
    )


def _measured(
    run: PretrainingRun, gain: Gain, encoder_advised: bool, train_texts: int
) -> tuple[PretrainingKind, str, str]:
    """The kind, the reason and the full-scale recipe from a TAPT pilot."""
    at = (
        f"fine-tuning on {run.size:,} examples scored {100 * run.adapted.score():.1f} after "
        f"task-adaptive pretraining vs {100 * run.base.score():.1f} without (same sample, seed "
        f"and recipe): {100 * gain.point:+.1f} points, 95% interval "
        f"[{100 * gain.low:+.1f}, {100 * gain.high:+.1f}]"
    )
    loss = (
        f"; masked-LM loss on the held-out text {run.held_out_loss_before:.2f} -> "
        f"{run.held_out_loss_after:.2f} nats after {run.mlm_steps} steps"
    )
    if not encoder_advised:
        why = "The advised option has no encoder to continue pretraining (measured for the "
        return PretrainingKind.NONE, f"{why}fine-tuned encoder: {at}{loss}).", ""
    if gain.low > 0:
        return (
            PretrainingKind.TAPT,
            f"Measured: {at}{loss}. The interval lies above zero, so task-adaptive pretraining "
            "pays here; a full run trains longer than the pilot did.",
            full_recipe(run, train_texts),
        )
    side = "lies below zero: it hurt" if gain.high < 0 else "covers zero: no gain shown"
    return (
        PretrainingKind.NONE,
        f"Measured: {at}{loss}. The interval {side}, so the advice is no continued "
        "pretraining on this data (a longer TAPT run might still differ; the pilot could not "
        "show a gain).",
        "",
    )


def advise_pretraining(
    domain: DomainShift | None,
    encoder_advised: bool,
    tapt: tuple[PretrainingRun, Gain] | None = None,
    train_texts: int = 0,
) -> PretrainingAdvice:
    """The answer: measured from ``tapt`` (the pilot and its paired gain) when given, else a
    projection from the domain signals; ``train_texts``: the training set's size, for the
    full-scale recipe."""
    signals, shifted = _signals(domain)
    projection = _dapt_projection(shifted) if encoder_advised else ""
    if tapt is not None:
        run, gain = tapt
        kind, reason, recipe = _measured(run, gain, encoder_advised, train_texts or run.size)
        return PretrainingAdvice(
            kind=kind,
            measured=True,
            reason=reason,
            signals=signals,
            tapt=pilot_message(run, gain),
            dapt_projection=projection,
            recipe=recipe,
        )
    if not encoder_advised:
        return PretrainingAdvice(
            kind=PretrainingKind.NONE,
            measured=False,
            reason="The advised option has no encoder to continue pretraining.",
            signals=signals,
        )
    kind = PretrainingKind.DAPT_TAPT if shifted else PretrainingKind.TAPT
    return PretrainingAdvice(
        kind=kind,
        measured=False,
        reason=(
            "Not measured (no TAPT pilot ran: see the pilot notes); a projection from the domain "
            "signals only. "
            + (
                "The data looks unlike the encoder's pretraining text, where domain-adaptive "
                "pretraining helped most in Gururangan et al. 2020. "
                if shifted
                else "The data is close to general English, where DAPT gained little. "
            )
            + "Task-adaptive pretraining helped on their eight tasks but not consistently in "
            "Shi & Lipani 2023: measure it before paying for it."
        ),
        signals=signals,
        dapt_projection=projection,
    )
