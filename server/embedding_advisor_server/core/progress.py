"""How long work talks to its caller: ``check`` (raises when the job was cancelled) and progress
reports. Every stage takes these two; the pipeline (``pipeline.py``) decides what share of the
job each stage is worth."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

Check = Callable[[], None]
# (fraction of the reporter's own work done, 0..1; what it is doing)
Report = Callable[[float, str], None]
# (stage, fraction of the whole job, message): what a job publishes
Publish = Callable[[str, float, str], None]


def no_check() -> None:
    """A ``Check`` for work that cannot be cancelled."""


def no_report(fraction: float, message: str) -> None:
    """A ``Report`` that goes nowhere."""


def scaled(report: Report, lo: float, hi: float, prefix: str = "") -> Report:
    """``report`` for a step that is ``lo..hi`` of the reporter's own work; ``prefix``: what
    each of its messages is about (``"<prefix>: <message>"``)."""

    def step(fraction: float, message: str) -> None:
        said = f"{prefix}: {message}" if prefix else message
        report(lo + (hi - lo) * min(max(fraction, 0.0), 1.0), said)

    return step


@dataclass(frozen=True)
class StageProgress:
    """A ``Report`` for one stage: its own fraction 0..1 becomes ``lo..hi`` of the whole job.

    ``part(lo, hi)`` gives a sub-range of this stage (itself a ``StageProgress``), so that a
    stage's steps report their own 0..1 without knowing where they sit in the job."""

    publish: Publish
    stage: str
    lo: float = 0.0
    hi: float = 1.0

    def __call__(self, fraction: float, message: str) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        self.publish(self.stage, self.lo + (self.hi - self.lo) * fraction, message)

    def part(self, lo: float, hi: float) -> StageProgress:
        span = self.hi - self.lo
        return StageProgress(self.publish, self.stage, self.lo + span * lo, self.lo + span * hi)


class OutOfTime(Exception):
    """Raised by a check once the job's budget in seconds (``Deadline``) is spent."""


@dataclass(frozen=True)
class Deadline:
    """A job's ``--budget-seconds``, counted from the job's start (``at``: monotonic seconds)."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline | None:
        """The deadline ``seconds`` from now; None for no budget (0)."""
        return cls(time.monotonic() + seconds, seconds) if seconds > 0 else None
