"""Are the advice's claims calibrated, and how much does its pick regret?

For each dataset: advise from a small pilot pool (``--small``, default 500 training examples) at
the decision size ``--big`` (default 2,000: ``--target-size``), then run the pilots on ``--big``
examples for real. Per option, the small run's expected score at ``--big`` (with its 95% interval)
is compared with the score the option then measures at ``--big`` on the same held-out examples:
the share of intervals that cover it (calibration), their median width (an interval from 0 to 1
covers everything and says nothing) and the mean absolute error. The small run's
pick is scored by its **regret**: the best option's measured score at ``--big`` minus the pick's.

    .venv/bin/python benchmarks/calibration.py [--small N] [--big N] [--out FILE] [--resume]
        [--truth FILE] [--claims FILE] [NAME ...]

``--truth FILE``: take each option's score at ``--big`` from FILE's row for the dataset (an
earlier run at the same sizes) instead of running the pilots at ``--big`` again. The score at
``--big`` is the option's headline pilot run (the pool, seed 0), which the learning curves and the
decision rule do not touch: valid to re-measure a change to those (half the time), not a change to
the pilots. The row names the file it took its truth from.

``--claims FILE``: take the advice's claims (each option's expected score and interval, the pick)
from FILE's row for the dataset instead of advising again: an earlier code's advice scored
against a new truth (``--truth``, or measured now), with no CPU spent on it. The row names the
file.

The truth at ``--big`` is the advisor's own pilots there, each trained to convergence as the
advice's recipe says (early stopping on a dev slice, the learning-rate probe); the row keeps how
each was judged and its recipe (``truth``).

Default datasets: rotten_tomatoes, tweets_sentiment, mrpc (``TUNED_ON``: the training-noise model
in ``curves.py`` was tuned by replaying their pilots, so their coverage is in-sample), then
aclsum_sentences and reuters_r8 (not used for tuning: out of sample). The summary reports both
groups apart. Writes benchmarks/results/calibration.json (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import results_file

from embedding_advisor import AdvisorClient, options
from embedding_advisor.v1 import advisor_pb2 as pb
from embedding_advisor_server.app import AdvisorServer
from embedding_advisor_server.settings import ServerSettings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "calibration.json"
TUNED_ON = ("rotten_tomatoes", "tweets_sentiment", "mrpc")
OUT_OF_SAMPLE = ("aclsum_sentences", "reuters_r8")


def main(
    names: list[str],
    small: int,
    big: int,
    out: Path = RESULTS,
    resume: bool = False,
    truth: Path | None = None,
    claims: Path | None = None,
) -> None:
    """Each dataset's row is written as soon as it is measured; ``resume`` keeps the rows that
    ``out`` already holds for these sizes and measures only the rest (a killed run goes on);
    ``truth``, an earlier results file whose scores at ``big`` are reused (module docstring)."""
    known = _truths(truth, small, big) if truth else {}
    claimed = _earlier_claims(claims, small, big) if claims else {}
    rows = []
    if resume and out.is_file():
        kept = json.loads(out.read_text()).get("runs", [])
        rows = [r for r in kept if r["dataset"] in names and (r["small"], r["big"]) == (small, big)]
    done = {r["dataset"] for r in rows}
    with tempfile.TemporaryDirectory() as data_dir:
        settings = ServerSettings(host="127.0.0.1", port=0, data_dir=Path(data_dir))
        with AdvisorServer(settings) as server, AdvisorClient(server.target) as client:
            for name in names:
                if name in done:
                    continue
                if not (SHARED / name / "train.jsonl").is_file():
                    print(f"skipping {name}: not found under {SHARED}")
                    continue
                if truth and name not in known:
                    print(f"skipping {name}: {truth} has no row for it at {small} -> {big}")
                    continue
                if claims and name not in claimed:
                    print(f"skipping {name}: {claims} has no row for it at {small} -> {big}")
                    continue
                row = _row(client, name, small, big, known.get(name), claimed.get(name))
                if truth:
                    row["truth_from"] = truth.name
                rows.append(row)
                print(
                    f"{name:18s} pick {row['pick']:22s} regret {row['regret_points']:5.1f} pts  "
                    f"coverage {row['coverage']:.2f}  width {row['median_width_points']:.1f} pts  "
                    f"MAE {row['mean_abs_error_points']:.1f} pts  "
                    f"({row['seconds_small']:.0f} s + {row['seconds_big']:.0f} s)",
                    flush=True,
                )
                _write(rows, out)
    for group, figures in _write(rows, out).items():
        print(f"{group}: {figures}")


def _write(rows: list[dict], out: Path) -> dict:
    order = {name: i for i, name in enumerate([*TUNED_ON, *OUT_OF_SAMPLE])}
    rows = sorted(rows, key=lambda r: order.get(r["dataset"], len(order)))
    summary = {
        "all": _summary(rows),
        "tuned_on": _summary([r for r in rows if r["tuned_on"]]),
        "out_of_sample": _summary([r for r in rows if not r["tuned_on"]]),
    }
    results_file.write(out, {"summary": summary, "runs": rows})
    return summary


def _truths(path: Path, small: int, big: int) -> dict[str, dict]:
    """Per dataset in the results file ``path`` at these sizes: each option's score at ``big``,
    and the pick the pilots at ``big`` made."""
    rows = json.loads(path.read_text())["runs"]
    return {
        r["dataset"]: {
            "measured": {o["arm"]: o["measured_at_big"] for o in r["options"]},
            "pick": r["pick_at_big_pool"],
        }
        for r in rows
        if (r.get("small", small), r.get("big", big)) == (small, big)
    }


def _row(
    client: AdvisorClient,
    name: str,
    small: int,
    big: int,
    known: dict | None,
    claimed: dict | None = None,
) -> dict:
    """Advise from ``small`` examples for ``big`` (or take ``claimed``, an earlier row's claims),
    then measure every option at ``big`` (or take ``known``'s scores there)."""
    train, test = SHARED / name / "train.jsonl", SHARED / name / "test.jsonl"
    t0 = time.perf_counter()
    if claimed is None:
        claim = client.advise(
            train,
            test_path=test,
            advice_options=options(max_train_examples=small, target_size=big, seed=0),
        )
        claimed = _claims_of(claim)
        claimed["seconds_small"] = round(time.perf_counter() - t0, 1)
    t1 = time.perf_counter()
    truth_of: dict = {}
    if known is None:
        truth = client.advise(
            train,
            test_path=test,
            advice_options=options(max_train_examples=big, target_size=big, seed=0),
        )
        measured = {p.arm: p.score for p in truth.pilots}
        pick_at_big = truth.choice.arm if truth.HasField("choice") else ""
        truth_of = {
            o.arm: {"convergence": o.convergence, "recipe": json.loads(o.recipe_config or "{}")}
            for o in truth.options
        }
    else:
        measured, pick_at_big = known["measured"], known["pick"]
    seconds_big = round(time.perf_counter() - t1, 1)
    per_option = []
    for o in claimed["options"]:
        actual = measured[o["arm"]]
        low, high = o["interval"]
        per_option.append(
            o
            | {
                "measured_at_big": round(actual, 4),
                "covered": low <= actual <= high,
                "width_points": round(100 * (high - low), 2),
                "error": round(o["expected"] - actual, 4),
            }
        )
    best = max((o["arm"] for o in per_option), key=measured.__getitem__)
    pick = claimed["pick"]
    regret = measured[best] - measured[pick] if pick else float("nan")
    row = {
        "dataset": name,
        "tuned_on": name in TUNED_ON,
        "small": small,
        "big": big,
        **{k: v for k, v in claimed.items() if k != "options"},
        "seconds_big": seconds_big,
        "pick_at_big_pool": pick_at_big,
        "best_measured_at_big": best,
        "regret_points": round(100 * regret, 2),
        "coverage": round(sum(r["covered"] for r in per_option) / len(per_option), 3),
        "median_width_points": statistics.median(r["width_points"] for r in per_option),
        "mean_abs_error_points": round(
            100 * sum(abs(r["error"]) for r in per_option) / len(per_option), 2
        ),
        "options": per_option,
    }
    if truth_of:
        row["truth"] = truth_of  # how each option's run at ``big`` was judged, and its recipe
    return row


def _claims_of(claim) -> dict:
    """What the advice at the small size claims: the pick, confidences, each option's expected
    score and interval at the big size, how its pilot was judged, the pick's recipe."""
    return {
        "metric": claim.metric,
        "pick": claim.choice.arm if claim.HasField("choice") else "",
        "confidence": pb.Confidence.Name(claim.confidence),
        "question_confidences": {
            "embedding": pb.Confidence.Name(claim.embedding_decision.confidence),
            "adaptation": pb.Confidence.Name(claim.adaptation_decision.confidence),
        },
        "pretraining": pb.Pretraining.Name(claim.pretraining.kind),
        "pick_recipe": json.loads(claim.choice.recipe_config or "{}"),
        "notes": [r for r in claim.reasons if "Could not tell" in r]
        + [n for n in claim.pilot_notes if "third size" in n],
        "options": [
            {
                "arm": o.arm,
                "basis": o.basis,
                "convergence": o.convergence,
                "epoch_gain": round(o.epoch_gain, 4),
                "expected": round(o.expected.score, 4),
                "interval": [round(o.expected.interval.low, 4), round(o.expected.interval.high, 4)],
            }
            for o in claim.options
        ],
    }


_KEPT = ("metric", "pick", "confidence", "question_confidences", "pretraining", "seconds_small")


def _earlier_claims(path: Path, small: int, big: int) -> dict[str, dict]:
    """Per dataset in the results file ``path`` at these sizes: the claims its advice made."""
    rows = json.loads(path.read_text())["runs"]
    return {
        r["dataset"]: {k: r[k] for k in _KEPT if k in r}
        | {
            "options": [
                {k: o[k] for k in ("arm", "basis", "expected", "interval") if k in o}
                for o in r["options"]
            ],
            "claims_from": path.name,
        }
        for r in rows
        if (r.get("small", small), r.get("big", big)) == (small, big)
    }


def _summary(rows: list[dict]) -> dict:
    """Coverage, median width, mean regret and how often the pick was the measured best."""
    if not rows:
        return {}
    covered = [r["covered"] for row in rows for r in row["options"]]
    widths = [r["width_points"] for row in rows for r in row["options"]]
    return {
        "datasets": [r["dataset"] for r in rows],
        "coverage": round(sum(covered) / len(covered), 3),
        "intervals": len(covered),
        "median_interval_width_points": statistics.median(widths),
        "mean_regret_points": round(sum(r["regret_points"] for r in rows) / len(rows), 2),
        "picked_the_best": sum(r["pick"] == r["best_measured_at_big"] for r in rows),
    }


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="shared datasets (default: the five of the docstring)",
    )
    parser.add_argument("--small", type=int, default=500, help="the advice's pilot pool")
    parser.add_argument("--big", type=int, default=2000, help="the decision size, measured")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--resume", action="store_true", help="keep --out's rows, measure the rest")
    parser.add_argument("--truth", type=Path, help="reuse an earlier file's scores at --big")
    parser.add_argument("--claims", type=Path, help="score an earlier file's advice instead")
    return parser.parse_args()


if __name__ == "__main__":
    a = _arguments()
    main(
        a.names or [*TUNED_ON, *OUT_OF_SAMPLE],
        a.small, a.big, a.out, a.resume, a.truth, a.claims,
    )  # fmt: skip
