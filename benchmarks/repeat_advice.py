"""Does the advice repeat itself? The same file advised twice, each in a fresh ``advise`` process
(embedded server, same seed), and every claim of the two compared: each pilot's and option's
scores and intervals, the curves, the pick, the confidences, the pretraining answer, the profile.
Timings (seconds, throughput, latency, memory, the bf16 probe) may differ, and so may the texts
that quote them; everything else must be identical.

``advise eval`` caches advice across sittings; its report warned that pilots did not repeat
between sittings (docs/evaluation.md, "Pilots that did not repeat"). This separates the two
causes: if one code advises one file twice alike, the differences came from the code changing in
between.

    .venv/bin/python benchmarks/repeat_advice.py [TRAIN.jsonl [--test DEV.jsonl]] [--out FILE]

Default: aclsum_sentences' seeded 500-example sample from the eval cache, with its dev file as
``--test`` (as ``advise eval`` runs it); about three minutes a run here.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import results_file
from results_file import DATASETS, EVAL_SAMPLES, ROOT

RESULTS = ROOT / "benchmarks" / "results" / "repeat_advice.json"
ADVISE = Path(sys.executable).with_name("advise")
# fields that carry a timing, or text that quotes one: free to differ between two runs
TIMED = re.compile(
    r"seconds|latency|per_second|peak_memory|precision|headline|reason|^recipe$|trade_off"
)


def timed(path: str) -> bool:
    """Whether the field at ``path`` is a timing, or inside one (list indices aside)."""
    return any(TIMED.search(part) for part in re.sub(r"\[\d+\]", "", path).split("."))


def flat(x, path: str = "") -> dict[str, object]:
    """Every leaf of ``x`` by its path (list items by index; a JSON object in a string, such as
    a recipe's configuration, opened too)."""
    if isinstance(x, str) and x.startswith("{"):
        x = json.loads(x)
    if isinstance(x, dict):
        return {k: v for key, val in x.items() for k, v in flat(val, f"{path}.{key}").items()}
    if isinstance(x, list):
        return {k: v for i, val in enumerate(x) for k, v in flat(val, f"{path}[{i}]").items()}
    return {path: x}


def advise(train: Path, test: Path | None) -> tuple[dict, float]:
    args = [str(ADVISE), str(train), "--json", "-q", *(["--test", str(test)] if test else [])]
    start = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return json.loads(out), time.perf_counter() - start


def main(train: Path, test: Path | None, out: Path) -> None:
    (first, s1), (second, s2) = advise(train, test), advise(train, test)
    a, b = flat(first), flat(second)
    compared = sorted(k for k in a.keys() | b.keys() if not timed(k))
    differ = [k for k in compared if a.get(k) != b.get(k)]
    times = sorted(k for k in a.keys() | b.keys() if timed(k) and a.get(k) != b.get(k))
    print(f"{len(compared)} claims compared, {len(differ)} differ; {len(times)} timings differ")
    for k in differ:
        print(f"  {k}: {a.get(k)!r} vs {b.get(k)!r}")
    results_file.write(
        out,
        {
            "train": os.path.relpath(train, ROOT),
            "test": os.path.relpath(test, ROOT) if test else None,
            "pick": first["choice"]["arm"] if first.get("choice") else None,
            "wall_seconds": [round(s1, 1), round(s2, 1)],
            "claims_compared": len(compared),
            "claims_differing": {k: [a.get(k), b.get(k)] for k in differ},
            "timings_differing": len(times),
        },
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("train", nargs="?", type=Path)
    ap.add_argument("--test", type=Path)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args()
    if a.train is None:  # the default: aclsum at 500 as ``advise eval`` advises it
        a.train = next(EVAL_SAMPLES.glob("aclsum_sentences-*-500-s0.jsonl"), None)
        a.test = a.test or DATASETS / "aclsum_sentences" / "dev.jsonl"
        if a.train is None:
            raise SystemExit("no training file: name one (the eval cache has no aclsum sample)")
    main(a.train.resolve(), a.test, a.out)
