"""How the CLI and the report write the advice's numbers."""

from __future__ import annotations


def throughput(result) -> str:
    """A ``PilotResult``'s or ``Option``'s examples/s, with its 95% interval where it was
    measured: ``154 (140-170)``."""
    rate = result.examples_per_second
    if not result.HasField("examples_per_second_interval"):
        return f"{rate:,.0f}"
    interval = result.examples_per_second_interval
    return f"{rate:,.0f} ({interval.low:,.0f}-{interval.high:,.0f})"
