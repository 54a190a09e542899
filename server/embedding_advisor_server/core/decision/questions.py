"""Two of the advice's three questions answered with their evidence: contextual or static
embeddings, and fine-tune or freeze (the third, continued pretraining, is ``pretraining.py``).
Each answer names the best option for it and for the other answer among the options the rule
kept (one it excluded is named as such), the paired gain between them at the decision size, and
a confidence, capped for extrapolation as the pick's is (``decide.capped``). With no option for
the other answer the confidence is low: nothing was compared."""

from __future__ import annotations

from ..evidence.candidates import Candidate
from ..evidence.metrics import interval
from ..schema import Confidence, Decision, Embedding, Interval, Option
from .decide import Preferences, capped, confidence_level, paired_difference, share_within
from .narrative import BASIS_NOTE, pts, speed_of

ANSWERS = {
    Embedding.CONTEXTUAL: "BERT-family encoder",
    Embedding.STATIC: "static vectors",
    Embedding.RANDOM: "random vectors",
}


def best_by_family(candidates: list[Candidate]) -> dict[Embedding, Candidate]:
    out: dict[Embedding, Candidate] = {}
    for c in candidates:
        if c.embedding not in out or c.expected > out[c.embedding].expected:
            out[c.embedding] = c
    return out


def _compare(
    answer: str,
    evidence_c: Candidate,
    other: Candidate | None,
    options: dict[str, Option],
    prefs: Preferences,
    reason: str,
    sizes: tuple[int, int],
) -> Decision:
    if other is None:
        return Decision(
            answer=answer,
            evidence=options[evidence_c.arm],
            confidence=Confidence.LOW,
            reason=reason,
        )
    diff = paired_difference(evidence_c, other)
    low, high = interval(diff)
    support = share_within(diff, prefs.tolerance)
    return Decision(
        answer=answer,
        evidence=options[evidence_c.arm],
        alternative=options[other.arm],
        gain=evidence_c.expected - other.expected,
        gain_interval=Interval(low=low, high=high),
        confidence=capped(confidence_level(support), *sizes),
        reason=reason,
    )


def embedding_decision(
    pick: Candidate,
    candidates: list[Candidate],
    excluded: dict[str, str],
    options: dict[str, Option],
    prefs: Preferences,
    sizes: tuple[int, int] = (0, 0),
) -> Decision:
    """The embedding answer: the pick's family's best kept option against the other family's
    (``sizes``: the decision and pilot sizes)."""
    best_of = best_by_family([c for c in candidates if c.arm not in excluded])
    mine = best_of.get(pick.embedding, pick)
    other_family = (
        Embedding.STATIC if pick.embedding is not Embedding.STATIC else Embedding.CONTEXTUAL
    )
    other = best_of.get(other_family)
    if other is None:
        reason = f"Embeddings: no {ANSWERS[other_family]} option was left to compare with."
    else:
        diff = mine.expected - other.expected
        reason = (
            f"Embeddings: the best {ANSWERS[mine.embedding]} option ({options[mine.arm].label}) "
            f"is expected at {pts(mine.expected)} vs {pts(other.expected)} for the best "
            f"{ANSWERS[other.embedding]} option ({options[other.arm].label}), {diff * 100:+.1f} "
            f"points, {speed_of(mine, other)}."
        )
    out_best = best_by_family(candidates).get(other_family)
    if out_best is not None and out_best.arm in excluded:
        reason += (
            f" The best {ANSWERS[other_family]} option measured, {options[out_best.arm].label} "
            f"at {pts(out_best.expected)}, was excluded: {excluded[out_best.arm]}."
        )
    return _compare(ANSWERS[pick.embedding], mine, other, options, prefs, reason, sizes)


def adaptation_decision(
    pick: Candidate,
    candidates: list[Candidate],
    options: dict[str, Option],
    prefs: Preferences,
    excluded: dict[str, str] | None = None,
    sizes: tuple[int, int] = (0, 0),
) -> Decision:
    """Fine-tune or freeze: the pick against the best kept contextual option on the other side."""
    if pick.embedding is not Embedding.CONTEXTUAL:
        return Decision(
            answer="freeze",
            evidence=options[pick.arm],
            confidence=Confidence.HIGH,
            reason="Adaptation: static vectors are used as fixed features; only the head trains.",
        )
    excluded = excluded or {}
    contextual = [
        c for c in candidates if c.embedding is Embedding.CONTEXTUAL and c.arm not in excluded
    ]
    others = [c for c in contextual if c.finetuned != pick.finetuned]
    other = max(others, key=lambda c: c.expected) if others else None
    answer = "fine-tune" if pick.finetuned else "freeze"
    reason = "Fine-tune or freeze: no encoder option on the other side was left to compare with."
    if other is not None:
        tuned, frozen = (pick, other) if pick.finetuned else (other, pick)
        reason = (
            f"Fine-tune or freeze: fine-tuning is expected at {pts(tuned.expected)} vs "
            f"{pts(frozen.expected)} frozen ({options[frozen.arm].label}), "
            f"{(tuned.expected - frozen.expected) * 100:+.1f} points; its pilot trained for "
            f"{tuned.train_seconds:,.0f} s vs {frozen.train_seconds:,.0f} s"
            + BASIS_NOTE.get(tuned.basis, "")
            + "."
        )
    return _compare(answer, pick, other, options, prefs, reason, sizes)
