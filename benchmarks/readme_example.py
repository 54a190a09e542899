"""The README's third command, run as written: ``advise examples/movie_reviews.jsonl`` (embedded
server, default options), in an 80-column terminal, with a fresh data dir. Records what it
printed, its exit code and wall time, so that the README's sample output and the figures in it
come from this file.

    .venv/bin/python benchmarks/readme_example.py

Writes benchmarks/results/readme_example.json.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import results_file

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "readme_example.json"
ADVISE = Path(sys.executable).with_name("advise")


def main() -> int:
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "COLUMNS": "80", "ADVISOR_DATA_DIR": data_dir, "TERM": "dumb"}
        t0 = time.perf_counter()
        done = subprocess.run(
            [str(ADVISE), "examples/movie_reviews.jsonl", "--progress", "none"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - t0
    print(done.stdout)
    print(done.stderr, file=sys.stderr)
    results_file.write(
        RESULTS,
        {
            "command": "advise examples/movie_reviews.jsonl",
            "exit_code": done.returncode,
            "wall_seconds": round(seconds, 1),
            "stdout": done.stdout.splitlines(),
        },
    )
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
