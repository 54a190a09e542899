"""How the CLI and the report write the advice's numbers."""

from __future__ import annotations

from .v1 import advisor_pb2 as pb


def throughput(rate: float, interval: pb.Interval | None) -> str:
    """Examples/s, with its 95% interval where it was measured: ``154 (140-170)``."""
    if interval is None:
        return f"{rate:,.0f}"
    return f"{rate:,.0f} ({interval.low:,.0f}-{interval.high:,.0f})"
