"""Wall time of the test suite by tier, on this machine: the unit tier (``make test-fast``) and
the whole suite (``make test``, what CI runs). Prints the figures and writes
benchmarks/results/suite_time.json with the machine.

    .venv/bin/python benchmarks/suite_time.py [--unit-only]
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import results_file

RESULTS = results_file.ROOT / "benchmarks" / "results" / "suite_time.json"


def run(args: list[str]) -> dict:
    """Run pytest with ``args``; its wall seconds and the counts of its closing line."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=results_file.ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|errors?)", last)}
    row = {"args": args, "seconds": round(seconds, 1), "exit_code": done.returncode, **counts}
    print(f"pytest {' '.join(args) or '(all)'}: {seconds / 60:.1f} min, {last}")
    if done.returncode:  # say what failed: the figures of a red run mean little
        print("\n".join(done.stdout.strip().splitlines()[-40:]), file=sys.stderr)
    return row


def main(unit_only: bool) -> None:
    tiers = {"unit": run(["tests/unit"])}
    if not unit_only:
        tiers["all"] = run([])
    results_file.write(RESULTS, {"tiers": tiers})


if __name__ == "__main__":
    main("--unit-only" in sys.argv[1:])
