"""Where the advice's seconds go, and what the cheapest measured advice could cost.

``advise eval`` compares the advisor's seconds with the full sweep's (issue 15's target: 5% for
training sets of 10,000 examples or more). This advises the same files as ``advise eval`` does
(its seeded sample from the eval cache, the dataset's ``dev.jsonl`` as ``--test`` when there is
one, the advice asked for at the sample's size, the quick budget, seed 0) on the embedded server,
hears every progress event, and charges each interval between two events to the part of the work
the first one names (the job's stage, then the pilot's phase: ``core/pipeline.STAGES``,
``core/pilots/featurise.PHASES``):

- setup: the upload, queue, dataset load, profile and the pilot's model loading;
- encoding: the held-out and pool features (encoder and word vectors), LogME;
- headline runs: every curve arm once at the pool size; fine-tuning's headline run;
- curves: the smaller sizes and seeds (fine-tuning's apart);
- cross-fitting: further folds (fine-tuning's apart);
- continued pretraining (TAPT's pilot); recommend: the decision and the reply.

**Floor**: setup + encoding + the headline runs + recommend, what any advice that measures each
option once at the pool size spends (no curve, no cross-fitting, no TAPT pilot); its ratio to the
sweep's seconds (``eval_all/eval.json``) is the best such a design could reach on that comparison.

    .venv/bin/python benchmarks/advice_cost.py [DATASET:SIZE ...] [--out FILE] [--recharge]
        [--append]

``--recharge`` charges the stored events of ``--out``'s runs again (after a change to the parts);
``--append`` keeps the other comparisons already in ``--out``. The embedded server reads the
``ADVISOR_*`` variables: those that move a pipeline default are stored as ``advisor_settings``
(``ADVISOR_MAX_TRAIN_EXAMPLES=500 ... --out benchmarks/results/advice_cost_pool500.json``: what
a pool of 500 costs, and which parts stay).

Default: the comparisons of 10,000 examples or more (rotten_tomatoes at 10,202, tweets_sentiment
at 29,786); about 8 and 12 minutes here.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import results_file
from results_file import DATASETS, EVAL_SAMPLES, ROOT

from embedding_advisor_server.core.pilots.featurise import PHASES
from embedding_advisor_server.core.pipeline import STAGES

RESULTS = ROOT / "benchmarks" / "results" / "advice_cost.json"
EVAL = ROOT / "benchmarks" / "results" / "eval_all" / "eval.json"
DEFAULT = ["rotten_tomatoes:10202", "tweets_sentiment:29786"]
FLOOR = ("setup", "encoding", "headline runs", "fine-tuning headline", "recommend")
ENCODING = ("held_out", "vectors", "pool", "logme")
PARTS = {  # the pilot's phases by the part they are charged to
    **{p: "encoding" for p in ENCODING},
    "headlines": "headline runs",
    "finetune": "fine-tuning headline",
    "curves": "curves",
    "finetune_rest": "fine-tuning curve",
    "tapt": "continued pretraining",
}


def part_of(fraction: float | None, message: str, fold_arm: str | None) -> str:
    """The part of the work an event at ``fraction`` of the job belongs to (``fold_arm``: the arm
    the last cross-fitting event named)."""
    start, end = STAGES["pilot"]
    if fraction is None or fraction < start:
        return "setup"
    if fraction >= end:
        return "recommend"
    inner = (fraction - start) / (end - start)
    begun = [p for p, (lo, _) in PHASES.items() if lo <= inner]
    if not begun:
        return "setup"  # the pilot loading its models
    phase = max(begun, key=lambda p: PHASES[p][0])
    if phase == "folds" and "cross-fitting" not in message:
        return PARTS["finetune_rest"]  # a fine-tuning epoch at its step's end, the phase's edge
    if phase == "folds":
        tuned = fold_arm == "encoder_finetuned"
        return "cross-fitting (fine-tuning)" if tuned else "cross-fitting (other arms)"
    return PARTS[phase]


def charge(events: list[tuple[float, float | None, str]], total: float) -> dict[str, float]:
    """Seconds per part: each interval between two events (and from the last to ``total``)
    charged to the first one's part."""
    seconds: dict[str, float] = {}
    fold_arm = None
    stamps = [t for t, _, _ in events[1:]] + [total]
    for (t, fraction, message), until in zip(events, stamps, strict=True):
        if "cross-fitting" in message:
            fold_arm = message.split(":", 1)[0]
        part = part_of(fraction, message, fold_arm)
        seconds[part] = seconds.get(part, 0.0) + (until - t)
    return {k: round(v, 1) for k, v in sorted(seconds.items(), key=lambda kv: -kv[1])}


def sweep_seconds(name: str, size: int) -> float | None:
    """The sweep's seconds of ``name`` at ``size`` in the committed report, if it has them."""
    rows = json.loads(EVAL.read_text())["runs"] if EVAL.exists() else []
    return next(
        (r["sweep_seconds"] for r in rows if (r["dataset"], r["size"]) == (name, size)), None
    )


def summarise(name: str, size: int, pick: str, events: list, total: float) -> dict:
    """One advice's row: its seconds charged to parts (``events``: (seconds, fraction, message)
    as heard), the floor, and both over the sweep's seconds."""
    parts = charge(events, total)
    floor = sum(parts.get(p, 0.0) for p in FLOOR)
    sweep = sweep_seconds(name, size)
    print(
        f"{name} at {size:,}: {total:.0f} s ("
        + ", ".join(f"{k} {v:.0f}" for k, v in parts.items())
        + f"); floor {floor:.0f} s"
        + (
            f"; sweep {sweep:.0f} s, ratio {total / sweep:.3f}, floor {floor / sweep:.3f}"
            if sweep
            else ""
        ),
        flush=True,
    )
    return {
        "dataset": name,
        "size": size,
        "pick": pick,
        "advice_seconds": round(total, 1),
        "parts": parts,
        "floor_seconds": round(floor, 1),
        "sweep_seconds": round(sweep, 1) if sweep else None,
        "cost_ratio": round(total / sweep, 3) if sweep else None,
        "floor_ratio": round(floor / sweep, 3) if sweep else None,
        "events": [[round(t, 1), f, m] for t, f, m in events],
    }


def measure(advisor, name: str, size: int) -> dict:
    """One advice as ``advise eval`` asks for it, its seconds charged to parts."""
    train = next(EVAL_SAMPLES.glob(f"{name}-*-{size}-s0.jsonl"), None)
    if train is None:
        raise SystemExit(f"no eval sample of {name} at {size}: run advise eval on it first")
    dev = DATASETS / name / "dev.jsonl"
    dev = dev if dev.exists() else None
    events: list[tuple[float, float | None, str]] = [(0.0, None, "request")]
    start = time.perf_counter()

    def heard(fraction: float, message: str) -> None:
        events.append((time.perf_counter() - start, fraction, message))

    claimed = advisor.advise(train, dev, size, "quick", 0, heard)
    return summarise(name, size, claimed["pick"], events, time.perf_counter() - start)


def _write(out: Path, rows: list[dict], moved: dict) -> None:
    results_file.write(
        out,
        {"budget": "quick", "advisor_settings": moved, "floor_parts": list(FLOOR), "runs": rows},
    )


def recharge(out: Path) -> None:
    """The parts of the runs in ``out`` charged again from their stored events (no advising)."""
    stored = json.loads(out.read_text())
    rows = [
        summarise(r["dataset"], r["size"], r["pick"], r["events"], r["advice_seconds"])
        for r in stored["runs"]
    ]
    _write(out, rows, stored.get("advisor_settings", {}))


def main(wanted: list[str], out: Path, append: bool = False) -> None:
    from embedding_advisor_server.evaluation.advisor import Advisor, overrides

    moved = {k: str(v) for k, v in overrides().items()}
    pairs = [(w.split(":")[0], int(w.split(":")[1])) for w in wanted]
    kept = json.loads(out.read_text())["runs"] if append and out.exists() else []
    rows = [r for r in kept if (r["dataset"], r["size"]) not in pairs]
    with Advisor() as advisor:
        for name, size in pairs:  # written after each, so a stopped run keeps the ones done
            rows.append(measure(advisor, name, size))
            _write(out, rows, moved)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("comparisons", nargs="*", default=DEFAULT, metavar="DATASET:SIZE")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--recharge", action="store_true", help="re-read --out's events; no advice")
    ap.add_argument("--append", action="store_true", help="keep --out's other comparisons")
    a = ap.parse_args()
    recharge(a.out) if a.recharge else main(a.comparisons, a.out, a.append)
