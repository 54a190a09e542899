"""Progress on stderr, in the form its reader wants: a bar on a terminal, plain lines in a CI log
(a line when the stage changes and at most one every ``LINE_SECONDS`` within a stage), one JSON
object per event for an orchestrator, or nothing. stdout stays for the advice alone."""

from __future__ import annotations

import enum
import json
import time
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

LINE_SECONDS = 10.0  # plain lines: at most one per this many seconds within a stage
JSON_SECONDS = 1.0  # JSON events: the same, more often (a program reads them)


class Mode(str, enum.Enum):
    auto = "auto"
    bar = "bar"
    lines = "lines"
    json = "json"
    none = "none"


class Reporter:
    """What the CLI says while it waits: ``status`` for its own steps (uploading, queued),
    ``update`` for the job's progress events. A context manager: entering starts the clock."""

    def __init__(self, stream: IO[str], every: float) -> None:
        self.stream = stream
        self.every = every
        self.start = time.monotonic()
        self._stage = None
        self._last = -float("inf")

    def __enter__(self) -> Reporter:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        pass

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def _due(self, stage: str) -> bool:
        """A stage change always; within a stage, once per ``every`` seconds."""
        now = time.monotonic()
        if stage != self._stage or now - self._last >= self.every:
            self._stage, self._last = stage, now
            return True
        return False

    def status(self, text: str, stage: str = "client") -> None:
        self.update(stage, None, text)

    def update(self, stage: str, fraction: float | None, message: str) -> None:
        if self._due(stage):
            self.emit(stage, fraction, message)

    def emit(self, stage: str, fraction: float | None, message: str) -> None:
        """Say it now (lines and JSON; the bar and silence say nothing beyond ``update``)."""

    def done(self, message: str) -> None:
        self.emit("client", 1.0, message)


class Silent(Reporter):
    def update(self, stage: str, fraction: float | None, message: str) -> None:
        pass


class Lines(Reporter):
    """``[   12s]  35% pilot: fine-tuning at 400 examples``: one line each, never redrawn."""

    def emit(self, stage: str, fraction: float | None, message: str) -> None:
        share = f"{fraction * 100:3.0f}%" if fraction is not None else "    "
        self.stream.write(f"[{self.elapsed():6.0f}s] {share} {stage}: {message}\n")
        self.stream.flush()


class JsonLines(Reporter):
    """``{"event": "progress", "stage": ..., "fraction": ..., "message": ..., "elapsed_s": ...}``;
    ``fraction`` is null for the client's own steps."""

    def emit(self, stage: str, fraction: float | None, message: str) -> None:
        event = {
            "event": "progress",
            "stage": stage,
            "fraction": None if fraction is None else round(fraction, 4),
            "message": message,
            "elapsed_s": round(self.elapsed(), 1),
        }
        self.stream.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.stream.flush()


class Bar(Reporter):
    """rich's live bar, cleared when done (a terminal only)."""

    def __init__(self, console: Console) -> None:
        super().__init__(console.file, 0.0)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task("starting the advisor", total=1.0)

    def __enter__(self) -> Bar:
        super().__enter__()
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def update(self, stage: str, fraction: float | None, message: str) -> None:
        extra = {} if fraction is None else {"completed": fraction}
        text = message if stage == "client" else f"{stage}: {message}"
        self.progress.update(self.task, description=text, **extra)


def reporter(mode: Mode, console: Console) -> Reporter:
    """``auto``: a bar on a terminal, plain lines anywhere else (a CI log, a pipe, a file)."""
    if mode is Mode.auto:
        mode = Mode.bar if console.is_terminal else Mode.lines
    if mode is Mode.bar:
        return Bar(console)
    if mode is Mode.lines:
        return Lines(console.file, LINE_SECONDS)
    if mode is Mode.json:
        return JsonLines(console.file, JSON_SECONDS)
    return Silent(console.file, 0.0)
