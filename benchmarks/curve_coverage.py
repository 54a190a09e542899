"""How often the learning-curve intervals cover a fresh run, on simulated quick pilots.

The simulation of ``tests/unit/evidence/test_curves.py``'s calibration test, at more trials:
pilots at 125 / 250 (two seeds each) and 500 examples on a fixed held-out set of 1,000, scores
from ``0.85 - 1.5 n^-1/2`` plus training noise (3 points at 250 examples, shrinking as n^-1/2);
the interval at 2,000 (4x the pool) is checked against one fresh run there. Also a two-size case
(fine-tuning's quick pilot: 250 and 500, one seed each, the fallback noise given) and a flat
true curve (where every dip is noise). Then two slow curves, ``0.95 - 0.9 n^-1/4``: the exponents
Hestness et al. (2017) measured for language tasks lie between 0.07 and 0.35, and the shared
datasets' sweeps rise that slowly (rotten_tomatoes' frozen encoder + BiLSTM: 70.4, 75.3, 79.1 at
500, 2,000 and 10,202 examples); once from the quick pilots to 2,000, and once from pilots at
500 / 1,000 (two seeds each) and 2,000 to 10,000 examples (5x the pool: the extrapolation of a
full-size advice on 10,000 examples). Seconds, no models.

    .venv/bin/python benchmarks/curve_coverage.py [TRIALS] [--before FILE]

Writes benchmarks/results/curve_coverage.json; ``--before FILE``: this benchmark's results from
an older commit, run just before (its own checkout), kept under ``before``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import results_file

from embedding_advisor_server.core.evidence.curves import Noise, extrapolate
from embedding_advisor_server.core.evidence.metrics import ACCURACY, bootstrap_weights, evaluate

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "curve_coverage.json"


def law(n: float) -> float:
    return 0.85 - 1.5 * n**-0.5


def flat(n: float) -> float:
    return 0.75


def slow(n: float) -> float:
    return 0.95 - 0.9 * n**-0.25


def run(difficulty: np.ndarray, score: float):
    """Example i right when its difficulty is below the run's score (runs share the held-out
    examples' noise, as real runs on one held-out set do)."""
    return evaluate(ACCURACY, ["a"] * len(difficulty), np.where(difficulty < score, "a", "b"))


def case(
    name: str, sizes: list[int], curve, trials: int, fallback: Noise | None, target: int = 2000
) -> dict:
    rng = np.random.default_rng(7)
    difficulty = rng.random(1000)
    weights = bootstrap_weights(1000, 200, seed=0)

    def noise(n: int) -> float:
        return rng.normal(0, 0.03 * math.sqrt(250 / n))

    covered, widths = [], []
    for trial in range(trials):
        evals = [run(difficulty, curve(n) + noise(n)) for n in sizes]
        (at,) = extrapolate(sizes, evals, [target], weights, fallback_noise=fallback, seed=trial)
        truth = run(difficulty, curve(target) + noise(target)).score()
        covered.append(at.low <= truth <= at.high)
        widths.append(100 * (at.high - at.low))
    out = {
        "sizes": sizes,
        "target": target,
        "trials": trials,
        "coverage": round(float(np.mean(covered)), 3),
        "median_width_points": round(float(np.median(widths)), 1),
    }
    print(name, out)
    return out


def main(trials: int, before: Path | None = None) -> None:
    quick = [125, 125, 250, 250, 500]
    results = {
        "rising_three_sizes": case("rising_three_sizes", quick, law, trials, None),
        "rising_two_sizes": case(
            "rising_two_sizes", [250, 500], law, trials, Noise(0.03 * 250**0.5)
        ),
        "flat_three_sizes": case("flat_three_sizes", quick, flat, trials, None),
        "slow_three_sizes": case("slow_three_sizes", quick, slow, trials, None),
        "slow_five_x": case(
            "slow_five_x", [500, 500, 1000, 1000, 2000], slow, trials, None, 10_000
        ),
        "rising_five_x": case(
            "rising_five_x", [500, 500, 1000, 1000, 2000], law, trials, None, 10_000
        ),
    }
    if before is not None:
        results["before"] = json.loads(before.read_text())
    results_file.write(RESULTS, results)


if __name__ == "__main__":
    args = sys.argv[1:]
    earlier = None
    if "--before" in args:
        i = args.index("--before")
        earlier = Path(args[i + 1])
        del args[i : i + 2]
    main(int(args[0]) if args else 300, earlier)
