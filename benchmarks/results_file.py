"""Where the benchmarks write their results: JSON under benchmarks/results/, with the machine."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict:
    """The machine: cores, Python, the CPU's model and its bf16 units, torch's precision pick."""
    info = {"cpus": os.cpu_count(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if "model name" in line), "")
        info["cpu"] = model
    except OSError:
        pass
    try:
        from embedding_advisor_server.core.backends.precision import cpu_bf16_units, resolve
        from embedding_advisor_server.core.schema import Precision

        info["bf16_units"] = cpu_bf16_units() or "none"
        info["precision_auto"] = resolve(Precision.AUTO).describe()
    except ImportError:  # a client-only install
        pass
    return info


def write(path: Path, payload: dict) -> None:
    """``payload`` with the machine first, as indented JSON; says where it went."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
