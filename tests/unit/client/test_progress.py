"""Progress without a terminal: plain lines at a bounded rate, JSON events, the bar on a TTY."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from embedding_advisor.cli import progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progress.time, "monotonic", fake)
    return fake


def test_lines_say_each_stage_change_and_at_most_one_line_per_period_within_a_stage(clock):
    out = io.StringIO()
    with progress.Lines(out, every=10.0) as lines:
        lines.status("uploading train.jsonl")
        for step in range(30):  # 30 events, one a second, in one stage
            clock.now += 1.0
            lines.update("pilot", step / 30, f"step {step}")
        clock.now += 0.5
        lines.update("recommend", 0.99, "weighing the evidence")
        lines.done("job j succeeded")
    said = out.getvalue().splitlines()
    assert said[0] == "[     0s]      client: uploading train.jsonl"
    pilot = [line for line in said if " pilot: " in line]
    assert len(pilot) == 3  # at 1 s (the stage began), 11 s and 21 s
    assert pilot[1] == "[    11s]  33% pilot: step 10"
    assert said[-2].endswith("recommend: weighing the evidence")
    assert said[-1] == "[    30s] 100% client: job j succeeded"  # 30.5 s


def test_json_events_are_one_object_per_line(clock):
    out = io.StringIO()
    with progress.JsonLines(out, every=1.0) as events:
        events.status("uploading a.jsonl")
        clock.now += 2.25
        events.update("pilot:encoder_finetuned", 0.123456, "training")
    parsed = [json.loads(line) for line in out.getvalue().splitlines()]
    assert parsed == [
        {"event": "progress", "stage": "client", "fraction": None,
         "message": "uploading a.jsonl", "elapsed_s": 0.0},
        {"event": "progress", "stage": "pilot:encoder_finetuned", "fraction": 0.1235,
         "message": "training", "elapsed_s": 2.2},
    ]  # fmt: skip


def test_auto_is_a_bar_on_a_terminal_and_lines_elsewhere():
    piped = Console(file=io.StringIO())
    tty = Console(file=io.StringIO(), force_terminal=True)
    assert isinstance(progress.reporter(progress.Mode.auto, piped), progress.Lines)
    assert isinstance(progress.reporter(progress.Mode.auto, tty), progress.Bar)
    quiet = progress.reporter(progress.Mode.none, piped)
    with quiet:
        quiet.status("uploading")
        quiet.done("done")
    assert piped.file.getvalue() == ""
