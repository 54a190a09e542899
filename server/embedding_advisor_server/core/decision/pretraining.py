"""Continued-pretraining advice (none / TAPT / DAPT / DAPT+TAPT): measured where a pilot ran.

**Measured.** The pilots (``pilots/adaptive.py``) train again from weights adapted by masked-LM
training: on the task's own text (TAPT), on a sample of the user's domain corpus (DAPT) and both
in turn (DAPT+TAPT), each with its paired gain and 95% interval (``evidence/adaptation.py``).
The run paired on is fine-tuning's headline, or under the quick budget logistic regression on
the frozen encoder's states; where that is not how the advised option trains, the reason says
so and what would measure it. A kind is advised only when its interval's low end is above zero:
the largest gain, unless a cheaper kind (TAPT, then DAPT, then DAPT+TAPT) is also above zero
and its interval holds that gain (``choose``). "None" when every interval covers zero or lies
below it, saying which. Pair tasks are measured like the rest (Shi & Lipani 2023 found continued
pretraining could hurt on them; Gururangan et al. 2020 saw TAPT help on their eight
classification tasks). The gain is measured at the pilot's size with a pilot's masked-LM recipe;
the full-scale recipe (``recipes.py``) trains longer.

**Projected (DAPT without a corpus, and TAPT when no pilot ran).** Without a corpus of the
domain, DAPT is a projection from the profile's domain signals, labelled as such: the top-10K
unigram similarity to the general-English reference below ``SIMILARITY_BELOW``, or the encoder's
masked-LM loss on the data above the reference's by more than ``LOSS_GAP_ABOVE`` nats, say "a
different domain", where Gururangan et al. found DAPT helped most (news, closest to the
pretraining text, gained nothing). The thresholds sit between what the shared datasets show:
news and paraphrase pairs ~0.70 similarity and +0.7 nats or less, tweets, drug reviews and WNUT
~0.50 and +1.8 nats. Without a pilot the kind follows the same signals and the advice says it is
unmeasured; with neither a pilot nor a domain signal there is no answer (``UNSPECIFIED``), and
it says so. Static vectors have no encoder to pretrain: none.
"""

from __future__ import annotations

from ..evidence.adaptation import Gain, PretrainingRun
from ..schema import DomainShift, Interval, PretrainingAdvice, PretrainingKind, PretrainingPilot
from . import recipes
from .recipes import KIND_WORDS

SIMILARITY_BELOW = 0.55
LOSS_GAP_ABOVE = 1.0
COST_ORDER = {"tapt": 0, "dapt": 1, "dapt_tapt": 2}
FROZEN = (
    " The advised option keeps the encoder frozen, and the gain was measured on fine-tuning: "
    "frozen features from the adapted weights were not measured, so check the frozen option "
    "on them (--encoder with the saved weights) before relying on the gain."
)
TUNED = (
    " The advised option fine-tunes the encoder, and the gain was measured on its frozen "
    "features (the quick budget's pair: no second fine-tuning): fine-tuning from the adapted "
    "weights was not measured, which --budget standard does."
)
PAIRED = {"finetune": "fine-tuning", "frozen": "logistic regression on the frozen states"}
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


def _dapt_projection(shifted: bool, signals: list[str]) -> str:
    if not signals:
        return f"No projection: no domain signal was measured. {DAPT_TEXT}"
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
        corpus_documents=run.corpus_documents,
        paired_on=run.paired_on,
        mlm_flops_per_piece=run.mlm_flops_per_piece,
    )


def choose(measured: list[tuple[PretrainingRun, Gain]]) -> tuple[PretrainingRun, Gain] | None:
    """The measured kind to advise, or None: among those whose interval lies above zero, the
    largest gain, unless a cheaper kind (TAPT before DAPT before DAPT+TAPT: less to train, no
    corpus) also lies above zero and its interval holds that gain."""
    above = [m for m in measured if m[1].low > 0]
    if not above:
        return None
    best = max(above, key=lambda m: m[1].point)
    cheaper = [m for m in above if COST_ORDER[m[0].kind] < COST_ORDER[best[0].kind]]
    held = [m for m in cheaper if m[1].low <= best[1].point <= m[1].high]
    return min(held, key=lambda m: COST_ORDER[m[0].kind]) if held else best


def _line(run: PretrainingRun, gain: Gain) -> str:
    what = {
        "tapt": "task-adaptive pretraining",
        "dapt": (
            f"domain-adaptive pretraining on {run.mlm_texts:,} of the corpus's "
            f"{run.corpus_documents:,} documents"
        ),
        "dapt_tapt": "DAPT then TAPT",
    }[run.kind]
    return (
        f"{PAIRED[run.paired_on]} on {run.size:,} examples scored {100 * run.adapted.score():.1f} after "
        f"{what} vs {100 * run.base.score():.1f} without (same sample, seed and recipe): "
        f"{100 * gain.point:+.1f} points, 95% interval [{100 * gain.low:+.1f}, "
        f"{100 * gain.high:+.1f}]; masked-LM loss on the held-out text "
        f"{run.held_out_loss_before:.2f} -> {run.held_out_loss_after:.2f} nats after "
        f"{run.mlm_steps} steps"
    )


def _measured(
    measured: list[tuple[PretrainingRun, Gain]],
    encoder_advised: bool,
    train_texts: int,
    frozen: bool = False,
) -> tuple[PretrainingKind, str, str, str]:
    """The kind, the reason, the full-scale recipe and its JSON config from the pilots;
    ``frozen``: the advised option keeps the encoder frozen."""
    at = "; ".join(_line(run, gain) for run, gain in measured)
    if not encoder_advised:
        why = "The advised option has no encoder to continue pretraining (measured for the "
        return PretrainingKind.NONE, f"{why}encoder: {at}).", "", ""
    pairs = {run.paired_on for run, _ in measured}
    tuning_unmeasured = not frozen and "finetune" not in pairs
    caveat = FROZEN if frozen and "frozen" not in pairs else ""
    caveat = TUNED if tuning_unmeasured else caveat
    chosen = choose(measured)
    runs = {r.kind: r for r, _ in measured}
    if chosen is not None:
        run, _ = chosen
        name = KIND_WORDS[run.kind]
        if tuning_unmeasured:  # a frozen gain does not answer for fine-tuning
            return (
                PretrainingKind.UNSPECIFIED,
                f"Measured: {at}. The interval of {name} lies above zero on the frozen "
                f"features, but the advised option fine-tunes the encoder, and a gain of frozen "
                f"features need not carry over to fine-tuning, which was not measured from the "
                f"adapted weights (the quick budget's pair: no second fine-tuning). So this is "
                f"left unanswered: --budget standard measures fine-tuning from them. "
                f"{recipes.cost_words(run.kind, runs, train_texts)}",
                "",
                "",
            )
        return (
            PretrainingKind(run.kind),
            f"Measured: {at}. The interval of {name} lies above zero, so it pays here; a full "
            f"run trains longer than the pilot did.{caveat}",
            recipes.recipe_text(run.kind, runs, train_texts),
            recipes.recipe_config(run.kind, runs, train_texts),
        )
    sides = {
        "lies below zero: it hurt" if g.high < 0 else "covers zero: no gain shown"
        for _, g in measured
    }
    side = sides.pop() if len(sides) == 1 else "covers zero or lies below it: no gain shown"
    every = "The interval" if len(measured) == 1 else "Every interval"
    cheapest = min(measured, key=lambda m: COST_ORDER[m[0].kind])[0]
    cost = recipes.cost_words(cheapest.kind, runs, train_texts)
    return (
        PretrainingKind.NONE,
        f"Measured: {at}. {every} {side}, so the advice is no continued pretraining on this "
        f"data (a longer run might still differ; the pilot could not show a gain). {cost}"
        f"{caveat}",
        "",
        "",
    )


def advise_pretraining(
    domain: DomainShift | None,
    encoder_advised: bool,
    measured: list[tuple[PretrainingRun, Gain]] | None = None,
    train_texts: int = 0,
    frozen: bool = False,
) -> PretrainingAdvice:
    """The answer: measured from the pilots and their paired gains (``measured``) when any ran,
    else a projection from the domain signals; ``train_texts``: the training set's size, for the
    full-scale recipe; ``frozen``: the advised option keeps the encoder frozen."""
    signals, shifted = _signals(domain)
    projection = _dapt_projection(shifted, signals) if encoder_advised else ""
    if measured:
        by_kind = {run.kind: pilot_message(run, gain) for run, gain in measured}
        kind, reason, recipe, config = _measured(
            measured, encoder_advised, train_texts or measured[0][0].size, frozen
        )
        return PretrainingAdvice(
            kind=kind,
            measured=True,
            reason=reason,
            signals=signals,
            tapt=by_kind.get("tapt"),
            dapt=by_kind.get("dapt"),
            dapt_tapt=by_kind.get("dapt_tapt"),
            dapt_projection="" if "dapt" in by_kind else projection,
            recipe=recipe,
            recipe_config=config,
        )
    if not encoder_advised:
        return PretrainingAdvice(
            kind=PretrainingKind.NONE,
            measured=False,
            reason="The advised option has no encoder to continue pretraining.",
            signals=signals,
        )
    if not signals:
        return PretrainingAdvice(
            kind=PretrainingKind.UNSPECIFIED,
            measured=False,
            reason=(
                "Not answered: no TAPT pilot ran (see the pilot notes) and no domain signal was "
                "measured, so nothing speaks for or against continued pretraining here."
            ),
            dapt_projection=projection,
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
