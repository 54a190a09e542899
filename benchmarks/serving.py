"""A real ``advise-server`` subprocess for the benchmarks that need one on a loopback port."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path


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
