"""Where the benchmarks write their results: JSON under benchmarks/results/, with the machine."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What ``advise eval`` on the shared datasets left behind that some benchmarks re-read: its seeded
# training samples (the README's cache), and the datasets themselves.
EVAL_SAMPLES = ROOT / "benchmarks" / "results" / "eval" / "cache" / "samples"
DATASETS = ROOT.parent / "shared" / "datasets"


def machine() -> dict:
    """The machine as every advice reports it (``core/provenance.py``: CPU model, cores, memory,
    bf16 units, Python and torch), and torch's precision pick under ``auto``."""
    from embedding_advisor_server.core.backends.precision import resolve
    from embedding_advisor_server.core.provenance import machine as this_machine
    from embedding_advisor_server.core.schema import Precision

    info = this_machine().model_dump()
    info["bf16_units"] = info["bf16_units"] or "none"
    info["precision_auto"] = resolve(Precision.AUTO).describe()
    return info


def write(path: Path, payload: dict) -> None:
    """``payload`` with the machine first, as indented JSON; says where it went (relative to the
    checkout when it lies inside)."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
