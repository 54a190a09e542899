"""Wall time of one advice run, end to end through the client and an embedded server.

Prints, per dataset: examples, wall seconds (upload + profile + pilots + recommendation), the
encoder's featurisation throughput, the advised embedding and the pilot scores; writes the same
to benchmarks/results/advise_walltime.json, with the seconds per stage (load, profile, pilot,
recommend), per arm (featurisation, head, peak memory), the learning curves and the advised
option. Datasets: the shipped example, and the shared datasets named on the command line
(default: a short-text, a pair and a tagging set). ``--budget quick|standard|thorough`` picks the
pilot budget (default: the server's, quick); results go to advise_walltime[_BUDGET].json.
``--before FILE``: the results file of the same benchmark run just before on an older commit (its
own checkout), kept under ``before`` with each dataset's wall-time ratio, so that one results
file holds both sides of a change measured on one machine in one sitting. ``--only-example``:
the shipped example alone (results in advise_walltime[_BUDGET]_example.json).

    .venv/bin/python benchmarks/advise_walltime.py [--budget NAME] [--before FILE] [NAME ...]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
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
RESULTS = ROOT / "benchmarks" / "results" / "advise_walltime.json"


def main(
    names: list[str], budget: str | None = None, before: Path | None = None, only_example=False
) -> None:
    stem = (
        "advise_walltime" + (f"_{budget}" if budget else "") + ("_example" if only_example else "")
    )
    results = RESULTS.with_name(f"{stem}.json")
    targets = [("example/movie_reviews", ROOT / "examples" / "movie_reviews.jsonl", None)]
    for name in [] if only_example else names or ["tweets_sentiment", "mrpc", "wnut16"]:
        folder = SHARED / name
        if folder.is_dir():
            targets.append((name, folder / "train.jsonl", folder / "test.jsonl"))
        else:
            print(f"skipping {name}: not found under {SHARED}")
    rows = []
    with tempfile.TemporaryDirectory() as data_dir:
        settings = ServerSettings(host="127.0.0.1", port=0, data_dir=Path(data_dir))
        with AdvisorServer(settings) as server, AdvisorClient(server.target) as client:
            for name, train, test in targets:
                rows.append(measure(client, name, train, test, budget))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB")
    payload = {
        "budget": budget or "server default (quick)",
        "peak_rss_mib": round(peak_mib),
        "runs": rows,
    }
    if before is not None:
        old = json.loads(before.read_text())
        walls = {r["dataset"]: r["wall_seconds"] for r in rows}
        payload["before"] = {
            "commit": old.get("commit", ""),
            "runs": old["runs"],
            "speedup": {
                r["dataset"]: round(r["wall_seconds"] / walls[r["dataset"]], 2)
                for r in old["runs"]
                if r["dataset"] in walls
            },
        }
        print(f"speed-up over the earlier commit: {payload['before']['speedup']}")
    payload["commit"] = _commit()
    results_file.write(results, payload)


def measure(client: AdvisorClient, name: str, train: Path, test: Path | None, budget=None) -> dict:
    """One advice run through ``client``: its wall time, stages, pilots and pick; prints a line."""
    t0 = time.perf_counter()
    marks: list[tuple[float, str]] = []
    rec = client.advise(
        train,
        test_path=test,
        advice_options=options(budget=budget),
        on_progress=lambda p, marks=marks: marks.append((time.perf_counter(), p.stage)),
    )
    wall = time.perf_counter() - t0
    stages: dict[str, float] = {}
    ends = [when for when, _ in marks[1:]] + [t0 + wall]
    for (when, stage), end in zip(marks, ends, strict=True):
        stages[stage] = round(stages.get(stage, 0.0) + end - when, 2)
    pilots = {p.arm: p for p in rec.pilots}
    enc = pilots["encoder_frozen_bilstm"]
    row = {
        "dataset": name,
        "train_examples": rec.profile.num_train,
        "test_examples": rec.profile.num_test,
        "pilot_train": enc.num_train,
        "pilot_eval": enc.num_eval,
        "wall_seconds": round(wall, 2),
        # Inference throughput of whole options (the encoder or vectors plus the head), as the
        # advice prices them: not the encoder's featurisation speed alone.
        "frozen_bilstm_examples_per_second": round(enc.examples_per_second, 1),
        "frozen_logreg_examples_per_second": round(
            pilots["encoder_frozen_logreg"].examples_per_second, 1
        ),
        "static_bilstm_examples_per_second": round(pilots["static_bilstm"].examples_per_second, 1),
        "metric": rec.metric,
        "scores": {arm: round(p.score, 4) for arm, p in pilots.items()},
        "curves": {
            arm: [[c.size, round(c.score, 4), c.seeds] for c in p.curve]
            for arm, p in pilots.items()
            if p.curve
        },
        "at_full_size": {
            arm: round(p.at_full_size.score, 4)
            for arm, p in pilots.items()
            if p.HasField("at_full_size") and p.at_full_size.fitted
        },
        "arm_seconds": {
            arm: {
                "featurize": round(p.featurize_seconds, 2),
                "head_at_pool_size": round(p.train_seconds, 2),
                "peak_memory_mib": round(p.peak_memory_mib, 1),
            }
            for arm, p in pilots.items()
            if p.curve
        },
        "stage_seconds": stages,
        "advice": pb.Embedding.Name(rec.embedding),
        "choice": rec.choice.arm,
        "runner_up": rec.runner_up.arm,
        "confidence": pb.Confidence.Name(rec.confidence),
        "logme": {
            arm: round(p.logme, 4)
            for arm, p in pilots.items()
            if p.logme == p.logme  # not NaN
        },
        "logme_rank_correlation": round(rec.logme_rank_correlation, 3),
    }
    print(
        f"{name:24s} {row['train_examples']:>6} train  {wall:7.1f}s  "
        f"frozen+BiLSTM {row['frozen_bilstm_examples_per_second']:7.1f} ex/s  "
        f"{rec.metric} "
        + " ".join(f"{a}={s:.3f}" for a, s in row["scores"].items())
        + f"  -> {row['choice']} ({row['confidence']})"
    )
    return row


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip()
    except OSError:
        return ""


if __name__ == "__main__":
    args = sys.argv[1:]
    flags: dict[str, str | None] = {"--budget": None, "--before": None}
    for flag in flags:
        if flag in args:
            i = args.index(flag)
            flags[flag] = args[i + 1]
            del args[i : i + 2]
    example_only = "--only-example" in args
    args = [a for a in args if a != "--only-example"]
    earlier = Path(flags["--before"]) if flags["--before"] else None
    main(args, flags["--budget"], earlier, example_only)
