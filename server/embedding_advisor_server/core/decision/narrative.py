"""The advice in words: the headline and the reasons that cite the evidence. Prose only: every
number it states was decided elsewhere (``decide.py``, ``recommend.py``)."""

from __future__ import annotations

from ..evidence.candidates import Candidate
from ..evidence.curves import C_RANGE
from ..schema import BucketedGap, Option, PilotResult
from .decide import Preferences, Verdict


def pts(x: float) -> str:
    """A score (a fraction) in points, one decimal."""
    return f"{100 * x:.1f}"


def points(x: float) -> str:
    return f"{x:g} point" + ("" if x == 1 else "s")


def speed_of(a: Candidate, b: Candidate) -> str:
    """How ``a``'s inference compares with ``b``'s, in words: as fast when their throughput
    intervals overlap (the difference is measurement noise)."""
    if (
        a.speed_low > 0
        and b.speed_low > 0
        and a.speed_high >= b.speed_low
        and b.speed_high >= a.speed_low
    ):
        if a.speed_high > a.speed_low or b.speed_high > b.speed_low:
            return "as fast at inference within the measurement noise"
    return speed(a.examples_per_second, b.examples_per_second)


def speed(a: float, b: float) -> str:
    """How inference at ``a`` examples/s compares with ``b``, in words."""
    if a <= 0 or b <= 0:
        return "at an unmeasured inference speed"
    ratio = a / b
    if 0.8 <= ratio <= 1.25:
        return "about as fast at inference"
    x = ratio if ratio > 1 else 1 / ratio
    times = f"{x:,.1f}x" if x < 10 else f"{x:,.0f}x"
    return f"{times} {'faster' if ratio > 1 else 'slower'} at inference"


UNCURVED = {
    "not extrapolated": (
        "Without a learning curve ({}): expected at the pilot's score, which more data may raise; "
        "the interval's top is raised by the largest gain any fitted option makes to the "
        "decision size."
    ),
    "not rising": (
        "Learning curves with no rise to fit ({}): expected at the largest pilot size's score, "
        "not smoothed upward; the interval still allows the rise that more data may bring."
    ),
}


def no_curve_note(cands: list[Candidate], options: dict[str, Option]) -> str:
    """Which options have no learning curve to extrapolate, or one that does not rise, and what
    their expected score is then."""
    notes = []
    for basis, text in UNCURVED.items():
        named = [options[c.arm].label for c in cands if c.basis == basis]
        if named:
            notes.append(text.format(", ".join(named)))
    return " ".join(notes)


BASIS_NOTE = {
    "borrowed": " (fine-tuning's expected score borrows the frozen curve's shape)",
    "two-size fit": (
        " (fine-tuning ran at two sizes: its curve's exponent is assumed, between "
        f"{C_RANGE[0]:g} and {C_RANGE[1]:g}, and its interval carries that)"
    ),
}


def headline(chosen: Option, pick: Candidate, verdict: Verdict, size: int, metric: str) -> str:
    e = chosen.expected
    mean = e.mean_interval or e.interval
    return (
        f"Use {chosen.label}: expected {metric} {pts(e.score)} [{pts(mean.low)}, "
        f"{pts(mean.high)}] at {size:,} training examples (one run: {pts(e.interval.low)} to "
        f"{pts(e.interval.high)}), {pick.examples_per_second:,.0f} examples/s here "
        f"({verdict.confidence.value} confidence)."
    )


def nothing_learned(majority: PilotResult, metric: str) -> str:
    return (
        f"No option learned beyond the majority-class baseline ({pts(majority.score)} "
        f"{metric}): nothing is advised on this evidence."
    )


def why_pick(verdict: Verdict, options: dict[str, Option], prefs: Preferences, metric: str) -> str:
    pick, best = verdict.pick, verdict.best
    assert pick is not None and best is not None
    tol = 100 * prefs.tolerance
    priority = prefs.priority.value if prefs.priority.value != "unspecified" else "balanced"
    if pick is best:
        text = f"Priority {priority}: {options[pick.arm].label} has the best expected {metric}"
    else:
        text = (
            f"Priority {priority}: {options[pick.arm].label} is the cheapest option within "
            f"{points(tol)} of the best ({options[best.arm].label}, {pts(best.expected)}), "
            f"counting its training at the decision size and {prefs.volume:,} predictions here"
        )
    if verdict.runner_up is not None:
        text += (
            f"; it is no worse than the runner-up (less {points(tol)}) in "
            f"{100 * verdict.support:.0f}% of paired bootstrap replicates"
        )
    return text + "."


def trade_off(
    pick: Candidate, runner: Candidate, options: dict[str, Option], size: int, metric: str
) -> str:
    diff = runner.expected - pick.expected
    return (
        f"Runner-up: {options[runner.arm].label}, expected {pts(runner.expected)} at {size:,} "
        f"examples: {diff * 100:+.1f} {metric} points, "
        f"{speed_of(runner, pick)} "
        f"({runner.examples_per_second:,.0f} vs {pick.examples_per_second:,.0f} examples/s), "
        f"pilot training {runner.train_seconds:,.0f} s vs {pick.train_seconds:,.0f} s."
    )


def scores(
    candidates: list[Candidate], options: dict[str, Option], majority: PilotResult, metric: str
) -> str:
    parts = [
        f"{options[c.arm].label} {pts(c.expected)} ({c.basis})"
        for c in sorted(candidates, key=lambda c: -c.expected)
    ]
    no_curve = no_curve_note(candidates, options)
    judged = convergence_note(candidates, options)
    return (
        f"Expected {metric} by option: "
        + "; ".join(parts)
        + f"; the majority-class baseline scored {pts(majority.score)}."
        + (f" {no_curve}" if no_curve else "")
        + (f" {judged}" if judged else "")
    )


def convergence_note(cands: list[Candidate], options: dict[str, Option]) -> str:
    """Which options were judged at convergence (early stopping) and which by epoch
    extrapolation, with the gain more epochs are expected to add ("" when none trains by
    epochs)."""
    converged = [options[c.arm].label for c in cands if c.convergence == "converged"]
    rising = [c for c in cands if c.convergence == "epoch extrapolation"]
    if not converged and not rising:
        return ""
    out = []
    if converged:
        out.append(
            "Judged at convergence (trained until the dev score stopped improving): "
            + ", ".join(converged)
            + "."
        )
    if rising:
        out.append(
            "Judged by epoch extrapolation (still improving at the epoch cap; the dev curve's "
            "plateau is added): "
            + ", ".join(f"{options[c.arm].label} +{pts(c.epoch_gain)} points" for c in rising)
            + "."
        )
    return " ".join(out)


def sample_note(pool: int, num_train: int, num_eval: int, metric: str) -> str:
    return (
        f"Pilots trained on up to {pool} of {num_train} training examples and scored "
        f"{num_eval} examples they were not trained on ({metric}, 95% bootstrap intervals)."
    )


def oov_note(rate: float, vectors_name: str) -> str:
    return f"{pts(rate)}% of word occurrences are missing from {vectors_name}."


_METRIC_WORDS = {
    "complexity": ("structurally simpler", "more complex"),
    "ambiguity": ("less ambiguous", "more ambiguous"),
    "unseen_prevalence": ("more familiar-worded", "rarer-worded"),
}


def bucket_reasons(gaps: list[BucketedGap], static_arm: str) -> list[str]:
    """One sentence for the static comparison: where the encoder's gap differs most by half."""
    static = [g for g in gaps if g.versus == static_arm]
    if not static:
        return []
    widest = max(static, key=lambda g: abs(g.high.gap - g.low.gap))
    low_words, high_words = _METRIC_WORDS[widest.profile_metric]
    return [
        f"The encoder's gap over the static vectors is {widest.high.gap * 100:+.1f} points on the "
        f"{high_words} half of the held-out examples and {widest.low.gap * 100:+.1f} on the "
        f"{low_words} half (split at the median {widest.profile_metric.replace('_', ' ')})."
    ]
