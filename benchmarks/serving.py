"""A real ``advise-server`` subprocess for the benchmarks that need one on a loopback port."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import psutil


def start_server(
    data_dir: Path, *settings: str, log: Path | None = None
) -> tuple[subprocess.Popen, str]:
    """Start a server on a free port with its data in ``data_dir``; the process and its target.
    Its output is drained on a thread (into ``log`` when given), so that a chatty server never
    blocks on a full pipe."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "embedding_advisor_server", "--port", "0", "--data-dir",
         str(data_dir), *settings],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    for line in proc.stdout:
        if m := re.search(r"listening on [^:]+:(\d+)", line):
            threading.Thread(target=_drain, args=(proc, log), daemon=True).start()
            return proc, f"127.0.0.1:{m.group(1)}"
    raise RuntimeError(f"the server did not start (exit {proc.wait()})")


def _drain(proc: subprocess.Popen, log: Path | None) -> None:
    if log is None:
        proc.stdout.read()
        return
    with open(log, "a", encoding="utf-8") as out:
        for line in proc.stdout:
            out.write(line)


def descendants(pid: int) -> list[int]:
    """The process ids of a process's children, theirs, and so on."""
    try:
        return [kid.pid for kid in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def rss_mib(pid: int) -> float:
    """A process's resident memory in MiB (0 once it is gone)."""
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a process has used (0 once it is gone)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system
