"""How the advice compares with the sweep, per dataset and size, and over the collection.

- **truth**: each option's mean test score over its sweep seeds, with the seeds' standard
  deviation; the **best** is the option with the highest mean.
- **regret**: the best's mean minus the pick's, in points.
- **agreement**: the pick is the best, or within the seeds' noise of it: the difference of the
  two means no more than twice its standard error (``sqrt(sd_best**2 + sd_pick**2) / sqrt(k)``
  with ``k`` seeds). With one seed there is no noise to be within: only the best agrees.
- **coverage**: whether each option's measured mean lies in the advice's interval of its expected
  score (the mean over training runs), and the **width** of that interval in points;
  **run coverage**: the share of the option's seed runs, each one training run, that lie in the
  advice's interval for one run, and its width. Advice from before the expected score had an
  interval of its own is scored on the one-run interval for both.
- **cost ratio**: the advisor's seconds over the sweep's (every option's runs, their seeds and
  the shared featurisation; not the TAPT runs), by training size.
- **pretraining**: where the sweep ran fine-tuning after task-adaptive pretraining (``TAPT``), its
  gain over fine-tuning alone, paired by seed (the mean of the differences), and whether it
  **paid**: above twice the differences' standard error (with one seed: above zero), **hurt**
  (below minus that) or neither. The advice's answer agrees when it advised continued
  pretraining (TAPT, DAPT or both) and TAPT paid, or none and it did not. Only a pick that
  fine-tunes is judged (the gain is fine-tuning's); an answer left open ("not answered") and a
  pick that does not fine-tune are counted apart.

The summary also carries the research's directions over the same comparisons (``directions.py``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

from ..core.decision.recipes import KIND_WORDS
from ..core.pilots.arms import ENCODER_FINETUNED, ENCODER_TAPT
from .directions import directions

TARGETS = {
    "agreement": 0.90,
    "mean_regret_points": 0.5,
    "coverage": 0.90,
    "median_width_points": 8.0,
    "cost_ratio_at_10k": 0.05,
}


def truth(runs: list[dict]) -> dict[str, dict]:
    """Per option: its mean test score, the seeds' sd (0 with one) and their scores."""
    by_arm: dict[str, list[float]] = {}
    for r in runs:
        by_arm.setdefault(r["arm"], []).append(r["score"])
    return {
        arm: {
            "mean": statistics.fmean(s),
            "sd": statistics.stdev(s) if len(s) > 1 else 0.0,
            "scores": s,
        }
        for arm, s in by_arm.items()
    }


def compare(name: str, size: int, claimed: dict, runs: list[dict], sweep_seconds: float) -> dict:
    """One dataset at one size: the advice's claims against the sweep's ``runs``."""
    tapt = [r for r in runs if r["arm"] == ENCODER_TAPT]
    measured = truth([r for r in runs if r["arm"] != ENCODER_TAPT])
    options = []
    for o in claimed["options"]:
        if o["arm"] not in measured:
            continue
        low, high = o.get("mean_interval") or o["interval"]
        run_low, run_high = o["interval"]
        actual, scores = measured[o["arm"]]["mean"], measured[o["arm"]]["scores"]
        options.append(
            o
            | {
                "measured": actual,
                "measured_sd": measured[o["arm"]]["sd"],
                "covered": low <= actual <= high,
                "width_points": 100 * (high - low),
                "runs_covered": sum(run_low <= x <= run_high for x in scores),
                "runs": len(scores),
                "run_width_points": 100 * (run_high - run_low),
                "error_points": 100 * (o["expected"] - actual),
            }
        )
    best = max(measured, key=lambda a: measured[a]["mean"])
    pick = claimed["pick"]
    row = {
        "dataset": name,
        "size": size,
        "task": claimed.get("task", ""),  # advice cached before these two were kept lacks them
        "halves": claimed.get("halves", []),
        "metric": claimed["metric"],
        "pick": pick,
        "best": best,
        "truth": measured,
        "advisor_seconds": claimed["seconds"],
        "sweep_seconds": sweep_seconds,
        "cost_ratio": claimed["seconds"] / sweep_seconds if sweep_seconds else math.nan,
        "confidence": claimed["confidence"],
        "pretraining": claimed["pretraining"],
        "tapt_gain": claimed["tapt_gain"],
        "pretraining_check": pretraining_check(claimed["pretraining"], tapt, runs, pick),
        "options": options,
    }
    if pick in measured:
        b, p = measured[best], measured[pick]
        k = min(len(b["scores"]), len(p["scores"]))
        noise = 2 * math.hypot(b["sd"], p["sd"]) / math.sqrt(k) if k > 1 else 0.0
        regret = b["mean"] - p["mean"]
        row |= {"regret_points": 100 * regret, "agrees": regret <= noise + 1e-12}
    else:  # nothing advised, or an option the sweep does not run
        row |= {"regret_points": math.nan, "agrees": False}
    row["coverage"] = sum(o["covered"] for o in options) / len(options) if options else math.nan
    for width in ("width_points", "run_width_points"):
        row[f"median_{width}"] = (
            statistics.median(o[width] for o in options) if options else math.nan
        )
    seed_runs = sum(o["runs"] for o in options)
    row["run_coverage"] = (
        sum(o["runs_covered"] for o in options) / seed_runs if seed_runs else math.nan
    )
    return row


ADVISED = tuple(KIND_WORDS)  # answers that advise continued pretraining


def pretraining_check(
    answer: str, tapt: list[dict], runs: list[dict], pick: str = ENCODER_FINETUNED
) -> dict | None:
    """The measured TAPT gain (points) against the advice's pretraining ``answer``; None when
    no TAPT run pairs with a fine-tuned run of its seed. The gain is fine-tuning's: it judges
    the answer only when the ``pick`` fine-tunes (a frozen encoder's gain was not measured,
    and static vectors have no encoder to pretrain)."""
    if not tapt:
        return None
    base = {r["seed"]: r["score"] for r in runs if r["arm"] == ENCODER_FINETUNED}
    diffs = [r["score"] - base[r["seed"]] for r in tapt if r["seed"] in base]
    if not diffs:
        return None
    gain = statistics.fmean(diffs)
    noise = 2 * statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else 0.0
    verdict = "paid" if gain > noise else "hurt" if gain < -noise else "neither"
    judged = answer != "unspecified" and pick == ENCODER_FINETUNED
    agrees = (answer in ADVISED) == (verdict == "paid") if judged else None
    return {
        "answer": answer,
        "gain_points": 100 * gain,
        "noise_points": 100 * noise,
        "seeds": len(diffs),
        "measured": verdict,
        "agrees": agrees,
    }


def summary(rows: list[dict]) -> dict:
    """The collection's figures, beside the targets."""
    if not rows:
        return {}
    regrets = [r["regret_points"] for r in rows if not math.isnan(r["regret_points"])]
    covered = [o["covered"] for r in rows for o in r["options"]]
    widths = [w for r in rows for w in _widths(r)]
    run_widths = [o["run_width_points"] for r in rows for o in r["options"]]
    seed_runs = sum(o["runs"] for r in rows for o in r["options"])
    runs_covered = sum(o["runs_covered"] for r in rows for o in r["options"])
    cost = {band: statistics.fmean(v) for band, v in _bands(rows, _cost).items() if v}
    out = {
        "datasets": sorted({r["dataset"] for r in rows}),
        "comparisons": len(rows),
        "agreement": sum(r["agrees"] for r in rows) / len(rows),
        "mean_regret_points": statistics.fmean(regrets) if regrets else math.nan,
        "max_regret_points": max(regrets, default=math.nan),
        "coverage": sum(covered) / len(covered) if covered else math.nan,
        "intervals": len(covered),
        "median_width_points": statistics.median(widths) if widths else math.nan,
        "run_coverage": runs_covered / seed_runs if seed_runs else math.nan,
        "runs": seed_runs,
        "median_run_width_points": statistics.median(run_widths) if run_widths else math.nan,
        "median_width_by_size": {
            band: statistics.median(v) for band, v in _bands(rows, _widths).items() if v
        },
        "cost_ratio_by_size": cost,
        "cost_ratio_at_10k": cost.get(LARGE, math.nan),
        "directions": directions(rows),
        "pretraining": _pretraining(rows),
    }
    out["targets"] = {
        name: {"target": target, "met": _met(name, out[name], target)}
        for name, target in TARGETS.items()
    }
    return out


def _pretraining(rows: list[dict]) -> dict:
    """How many pretraining answers the TAPT runs checked, judged, agreed with, and did not
    judge (left open, or a pick that does not fine-tune)."""
    checks = [r["pretraining_check"] for r in rows if r.get("pretraining_check")]
    answered = [c for c in checks if c["agrees"] is not None]
    return {
        "checked": len(checks),
        "answered": len(answered),
        "agree": sum(c["agrees"] for c in answered),
        "not_answered": len(checks) - len(answered),
    }


# The training sizes' bands the summary reports by: name, lowest size, first size above it.
BANDS = (("< 2,000", 0, 2000), ("2,000-9,999", 2000, 10_000), (">= 10,000", 10_000, math.inf))
LARGE = BANDS[-1][0]  # the band of the cost target


def band_of(size: int) -> str:
    """The name of the band ``size`` training examples fall in."""
    return next(name for name, low, high in BANDS if low <= size < high)


def _widths(row: dict) -> list[float]:
    return [o["width_points"] for o in row["options"]]


def _cost(row: dict) -> list[float]:
    return [row["cost_ratio"]]


def _bands(rows: list[dict], values: Callable[[dict], list[float]]) -> dict[str, list[float]]:
    """``values`` of each comparison, NaN left out, by its training size's band."""
    bands: dict[str, list[float]] = {name: [] for name, _, _ in BANDS}
    for r in rows:
        bands[band_of(r["size"])] += [v for v in values(r) if not math.isnan(v)]
    return bands


def _met(name: str, value: float, target: float) -> bool | None:
    if math.isnan(value):
        return None
    higher = name in ("agreement", "coverage")
    return value >= target if higher else value <= target
