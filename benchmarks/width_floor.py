"""How narrow can the advice's intervals be? The width a perfectly unbiased advisor would need to
cover each option's measured score at the advice's level, from the noise no pilot can remove,
beside the width the advice gave (``advise eval``'s report, ``eval.json``).

The issue's target is a median width of 8 points at 90% coverage. The advice's intervals of the
expected score are 95% intervals, and the score they must cover is the sweep's: a mean over its
seeds, on the dataset's test split. Between the two lie, for one option:

- the held-out examples the pilots were scored on: the dataset's dev file (``advise eval`` hands
  it over as ``--test``), or a split of the training sample, cross-fitted up to the server's
  ``cross_fit_examples`` (``pilots/folds.py``), at most ``max_eval_examples``;
- the test split the sweep is scored on (at most ``advise eval``'s ``max_test``): one fixed set of
  examples, the same for every seed, so its noise does not average out;
- training noise: the sweep's mean over k seeds (sd^2 / k) and the pilot's own one run (sd^2),
  with sd the sweep's measured seed spread (only where it ran several seeds; elsewhere left out).

A score's sampling noise is taken as a proportion's, p(1-p)/n at the measured score p: exact for
accuracy, an approximation for macro-F1 and entity F1 (which scatter more on skewed classes). The
floor is the normal interval of the summed variance at the advice's level: 2 * z * sd. It is an
approximation, not a strict bound: what honest intervals cost with these test sets.

    .venv/bin/python benchmarks/width_floor.py [--eval benchmarks/results/eval_all/eval.json]
        [--out benchmarks/results/width_floor.json]

Reads the datasets' split sizes from ../shared/datasets; runs in seconds, trains nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

import results_file
from results_file import DATASETS, ROOT

from embedding_advisor_server.core.config import PipelineDefaults
from embedding_advisor_server.core.pilots.plan import Plan
from embedding_advisor_server.core.schema import AdviceOptions, Budget
from embedding_advisor_server.evaluation.collection import collect
from embedding_advisor_server.evaluation.scoring import BANDS

EVAL = ROOT / "benchmarks" / "results" / "eval_all" / "eval.json"
RESULTS = ROOT / "benchmarks" / "results" / "width_floor.json"
Z = {0.95: 1.960, 0.90: 1.645}


def held_out(size: int, dev: int | None, budget: str) -> int:
    """How many examples the advice's pilots were scored on at most, under the server defaults:
    the dev file (capped), else the training sample's held-out split with its further folds, as
    ``data/sampling.split`` and ``Featuriser.plan_folds`` count them."""
    d = PipelineDefaults()
    if dev is not None:
        return min(dev, d.max_eval_examples)
    split = math.ceil(size * AdviceOptions().test_fraction)
    held = min(split, d.max_eval_examples)
    pool = min(size - split, d.max_train_examples)
    wanted = math.ceil(d.cross_fit_examples / held) - 1
    return held * (1 + min(Plan.of(Budget(budget)).folds - 1, wanted, pool // held))


def floor_width(p: float, n_held: int, n_test: int, sd: float, seeds: int, z: float) -> float:
    """The width in points of a level-z interval that holds the measured mean, from its noise."""
    var = p * (1 - p) * (1 / n_held + 1 / n_test)
    if seeds > 1:
        var += sd**2 * (1 + 1 / seeds)
    return 200 * z * math.sqrt(var)


def rows_of(report: dict, splits: dict[str, tuple[int | None, int]]) -> list[dict]:
    max_test = report["settings"]["max_test"]
    out = []
    for run in report["runs"]:
        dev, test = splits[run["dataset"]]
        n_held = held_out(run["size"], dev, report["settings"]["budget"])
        n_test = min(test, max_test)
        for o in run["options"]:
            args = (o["measured"], n_held, n_test, o["measured_sd"] or 0.0, o["runs"])
            out.append(
                {
                    "dataset": run["dataset"],
                    "size": run["size"],
                    "option": o["arm"],
                    "held_out": n_held,
                    "test": n_test,
                    "measured": round(100 * o["measured"], 1),
                    "width_points": round(o["width_points"], 1),
                    "floor_95_points": round(floor_width(*args, Z[0.95]), 1),
                    "floor_90_points": round(floor_width(*args, Z[0.90]), 1),
                    "abs_error_points": round(abs(o["error_points"]), 1),
                }
            )
    return out


def medians(rows: list[dict]) -> dict:
    out = {}
    for name, low, high in (("all", 0, math.inf), *BANDS):
        sel = [r for r in rows if low <= r["size"] < high]
        if sel:
            out[name] = {
                "options": len(sel),
                **{
                    k: statistics.median(r[k] for r in sel)
                    for k in ("width_points", "floor_95_points", "floor_90_points")
                },
                "median_width_over_floor_95": statistics.median(
                    r["width_points"] / r["floor_95_points"] for r in sel if r["floor_95_points"]
                ),
            }
    return out


def main(eval_json: Path, out: Path) -> None:
    report = json.loads(eval_json.read_text())
    names = sorted({r["dataset"] for r in report["runs"]})
    splits = {
        ds.name: (len(ds.dev) if ds.dev is not None else None, len(ds.test))
        for ds in collect(DATASETS, names)
    }
    rows = rows_of(report, splits)
    by_band = medians(rows)
    for band, m in by_band.items():
        print(
            f"{band}: {m['options']} options, median width {m['width_points']:.1f} points; "
            f"floor {m['floor_95_points']:.1f} at 95%, {m['floor_90_points']:.1f} at 90%; "
            f"width / floor (95%) median {m['median_width_over_floor_95']:.2f}"
        )
    results_file.write(
        out,
        {"eval": str(eval_json.relative_to(ROOT)), "medians": by_band, "options": rows},
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval", type=Path, default=EVAL)
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args()
    main(a.eval.resolve(), a.out)
