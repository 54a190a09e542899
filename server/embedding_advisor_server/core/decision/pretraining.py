"""Continued-pretraining advice (none / TAPT / DAPT / DAPT+TAPT) from the profile's domain signals.

Not measured: no pilot runs masked-LM pretraining yet, so the advice says ``measured = false`` and
rests on Gururangan et al. 2020 ("Don't Stop Pretraining"):

- TAPT (masked-LM on the task's own unlabeled text) is ~60x cheaper than DAPT and helped on every
  task they tried: advised whenever an encoder is.
- DAPT (masked-LM on a large unlabeled corpus of the domain) helps the more the domain differs
  from the pretraining text; news, closest to it, gained nothing. Two signals say "different":
  the top-10K unigram similarity to the general-English reference below ``SIMILARITY_BELOW``, or
  the encoder's masked-LM loss on the data above the reference's by more than ``LOSS_GAP_ABOVE``
  nats. The thresholds sit between what the shared datasets show: news and paraphrase pairs
  ~0.70 similarity and +0.7 nats or less (no DAPT), tweets, drug reviews and WNUT ~0.50 and
  +1.8 nats (DAPT).
- Static vectors have no encoder to pretrain: none.
"""

from __future__ import annotations

from ..schema import DomainShift, PretrainingAdvice, PretrainingKind

SIMILARITY_BELOW = 0.55
LOSS_GAP_ABOVE = 1.0


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


def advise_pretraining(domain: DomainShift | None, encoder_advised: bool) -> PretrainingAdvice:
    signals, shifted = _signals(domain)
    if not encoder_advised:
        return PretrainingAdvice(
            kind=PretrainingKind.NONE,
            measured=False,
            reason="The advised option has no encoder to continue pretraining.",
            signals=signals,
        )
    if shifted:
        return PretrainingAdvice(
            kind=PretrainingKind.DAPT_TAPT,
            measured=False,
            reason=(
                "The data looks unlike the encoder's pretraining text, where domain-adaptive "
                "pretraining helped most in Gururangan et al. 2020; it needs a large unlabeled "
                "corpus of the domain. Task-adaptive pretraining on the task's own text is cheap "
                "and helped on every task they tried. Not measured here: from domain signals only."
            ),
            signals=signals,
        )
    return PretrainingAdvice(
        kind=PretrainingKind.TAPT,
        measured=False,
        reason=(
            "The data is close to general English, where domain-adaptive pretraining gained "
            "little in Gururangan et al. 2020; task-adaptive pretraining on the task's own text "
            "is cheap and helped on every task they tried. Not measured here: from domain "
            "signals only."
        ),
        signals=signals,
    )
