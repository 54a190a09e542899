"""How the CLI and the report write the advice's numbers, and what they read alike."""

from __future__ import annotations


def throughput(result) -> str:
    """A ``PilotResult``'s or ``Option``'s examples/s, with its 95% interval where it was
    measured: ``154 (140-170)``."""
    rate = result.examples_per_second
    if not result.HasField("examples_per_second_interval"):
        return f"{rate:,.0f}"
    interval = result.examples_per_second_interval
    return f"{rate:,.0f} ({interval.low:,.0f}-{interval.high:,.0f})"


def scored_words(rec) -> str:
    """How many examples a ``Recommendation``'s pilots scored: ``400``; cross-fitted (some arms
    also scored slices of the training pool, ``PilotResult.num_eval``), ``400-800
    (cross-fitted)``."""
    counts = sorted({p.num_eval for p in rec.pilots}) or [0]
    said = f"{counts[0]:,}" if len(counts) == 1 else f"{counts[0]:,}-{counts[-1]:,}"
    return said + (" (cross-fitted)" if counts[-1] > rec.profile.held_out_profiled else "")


def measured_pilots(pre) -> list:
    """A ``PretrainingAdvice``'s continued-pretraining pilots that ran: ``(name, pilot)`` for
    TAPT, DAPT and DAPT+TAPT."""
    names = (("tapt", "TAPT"), ("dapt", "DAPT"), ("dapt_tapt", "DAPT+TAPT"))
    return [(name, getattr(pre, field)) for field, name in names if pre.HasField(field)]


def mean_interval(e):
    """An ``Extrapolation``'s interval of the expected score, or its one-run interval where the
    answer came from a server before the mean had one."""
    return e.mean_interval if e.HasField("mean_interval") else e.interval


def pretraining_word(pre) -> str:
    """A ``PretrainingAdvice``'s answer in a word: ``none``, ``TAPT``, ``DAPT``, ``DAPT+TAPT``, or
    ``not answered``. Read from the message's own enum: the server's core imports this module
    and must not load the generated protocol."""
    name = pre.DESCRIPTOR.fields_by_name["kind"].enum_type.values_by_number[pre.kind].name
    kind = name.removeprefix("PRETRAINING_")
    if kind == "UNSPECIFIED":
        return "not answered"
    return kind.replace("_", "+").replace("NONE", "none")


def paired_words(pilot) -> str:
    """What a continued-pretraining pilot's gain was measured on, in words."""
    return "frozen features + LR" if pilot.paired_on == "frozen" else "fine-tuning"


METRICS = {"accuracy": "accuracy", "macro_f1": "macro-F1", "entity_f1": "entity F1"}


def metric_words(metric: str) -> str:
    """The metric's name in words (``entity_f1`` -> ``entity F1``)."""
    return METRICS.get(metric, metric.replace("_", " "))
