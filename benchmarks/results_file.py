"""Where the benchmarks write their results: JSON under benchmarks/results/, with the machine."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version()}


def write(path: Path, payload: dict) -> None:
    """``payload`` with the machine first, as indented JSON; says where it went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
