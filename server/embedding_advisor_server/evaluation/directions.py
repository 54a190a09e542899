"""The research's directions, checked on an evaluation's comparisons (``scoring.compare`` rows).

- **The encoder's lead over GloVe by training size** (Arora et al. 2020: with more data,
  non-contextual embeddings close in on simple tasks): the frozen encoder minus GloVe under the
  same BiLSTM head (the sweep's means), at each size a dataset was measured at; it *narrows*
  when the two are closer at the largest size than at the smallest, whichever leads (a GloVe
  lead that grows does not narrow; None with one size).
- **The halves** (Arora et al. 2020: in 19 of 21 cases the encoder's lead is larger on the
  high half of a profile metric): per metric (complexity, ambiguity, unseen-word prevalence) and
  per compared arm, in how many comparisons the advice's pilots measured a larger gap on the
  high half than on the low one.
- **Fine-tune or freeze by task** (Peters et al. 2019: fine-tuning ahead on sentence pairs):
  fine-tuning minus the best frozen-encoder option (the sweep's means), per comparison, and the
  mean by task.

All gaps in points. An option the sweep did not run leaves its figure out.
"""

from __future__ import annotations

import statistics

from ..core.pilots.arms import ENCODER_FINETUNED as FINETUNED
from ..core.pilots.arms import ENCODER_FROZEN as ENCODER
from ..core.pilots.arms import STATIC as GLOVE
from ..core.pilots.sweep import SWEPT
from ..core.schema import Adaptation, Embedding

# Every frozen-encoder option the sweep runs, from the registry.
FROZEN = tuple(
    spec.id
    for spec in SWEPT
    if spec.family is Embedding.CONTEXTUAL and spec.adaptation is Adaptation.FREEZE
)
VERDICT = {True: "narrows", False: "does not narrow", None: "one size"}


def directions(rows: list[dict]) -> dict:
    return {
        "encoder_over_glove_by_size": _by_size(rows),
        "halves": _halves(rows),
        "finetune_over_frozen": _finetune(rows),
    }


def _mean(row: dict, arm: str) -> float | None:
    t = row["truth"].get(arm)
    return None if t is None else t["mean"]


def _by_size(rows: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in rows:
        enc, glove = _mean(r, ENCODER), _mean(r, GLOVE)
        if enc is not None and glove is not None:
            entry = out.setdefault(r["dataset"], {"gap_points": {}})
            entry["gap_points"][r["size"]] = 100 * (enc - glove)
    for entry in out.values():
        gaps = [entry["gap_points"][size] for size in sorted(entry["gap_points"])]
        entry["narrows"] = abs(gaps[-1]) < abs(gaps[0]) if len(gaps) > 1 else None
    return out


def _halves(rows: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in rows:
        for h in r.get("halves", []):
            tally = out.setdefault(h["metric"], {}).setdefault(
                h["versus"], {"larger_on_high_half": 0, "cases": 0, "differences_points": []}
            )
            tally["cases"] += 1
            tally["larger_on_high_half"] += h["high"] > h["low"]
            tally["differences_points"].append(100 * (h["high"] - h["low"]))
    return out


def _finetune(rows: list[dict]) -> dict:
    cases, by_task = [], {}
    for r in rows:
        tuned = _mean(r, FINETUNED)
        frozen = [m for m in (_mean(r, arm) for arm in FROZEN) if m is not None]
        if tuned is None or not frozen:
            continue
        gap = 100 * (tuned - max(frozen))
        task = r.get("task") or "unknown"
        cases.append({"dataset": r["dataset"], "size": r["size"], "task": task, "points": gap})
        by_task.setdefault(task, []).append(gap)
    return {
        "cases": cases,
        "mean_by_task": {task: statistics.fmean(g) for task, g in sorted(by_task.items())},
    }


def markdown(d: dict) -> list[str]:
    """The directions as Markdown lines, for ``eval.md``."""
    out = ["", "## The research's directions", ""]
    by_size = d["encoder_over_glove_by_size"]
    if by_size:
        out.append("Frozen encoder minus GloVe, both with the BiLSTM head (points), by size:")
        out.append("")
        for name, entry in by_size.items():
            gaps = ", ".join(f"{g:+.1f} at {n:,}" for n, g in sorted(entry["gap_points"].items()))
            out.append(f"- {name}: {gaps} ({VERDICT[entry['narrows']]})")
    if d["halves"]:
        out += [
            "",
            "Encoder's lead larger on the high half of the metric (the advice's pilots):",
            "",
        ]
        for metric, versus in d["halves"].items():
            for arm, t in versus.items():
                out.append(f"- {metric}, versus {arm}: {t['larger_on_high_half']} of {t['cases']}")
    tuned = d["finetune_over_frozen"]
    if tuned["cases"]:
        out += ["", "Fine-tuning minus the best frozen option (points):", ""]
        for c in tuned["cases"]:
            out.append(f"- {c['dataset']} at {c['size']:,} ({c['task']}): {c['points']:+.1f}")
        means = ", ".join(f"{t} {g:+.1f}" for t, g in tuned["mean_by_task"].items())
        out.append(f"- mean by task: {means}")
    return out
