"""An evaluation's results: ``eval.json`` (every comparison, the summary beside its targets and
with the research's directions, the machine), ``eval.md`` (one table, the summary and the
directions) and two plots, predicted against measured per
option (``predicted.png``) and regret per dataset (``regret.png``). Each file is written whole
to a temporary name, then renamed: a killed run leaves the last complete results."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from ..core.decision.recipes import KIND_WORDS
from ..core.provenance import machine
from . import directions


def write(
    folder: Path, rows: list[dict], summary: dict, settings: dict, left_out: Sequence[str] = ()
) -> list[Path]:
    """``left_out``: the datasets and sizes a cached-only run found no measurements for."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": machine().model_dump(),
        "settings": settings,
        "summary": summary,
        "left_out": list(left_out),
    }
    written = [
        _atomic(folder / "eval.json", json.dumps(payload | {"runs": rows}, indent=2) + "\n"),
        _atomic(folder / "eval.md", markdown(rows, summary, settings, left_out)),
    ]
    written += plots(folder, rows)
    return written


def _atomic(path: Path, text: str) -> Path:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _p(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1f}"


def _moved(settings: dict) -> str:
    """The advisor's settings that its ``ADVISOR_*`` variables moved (``advisor.overrides``)."""
    moved = settings.get("advisor_settings")
    if not moved:
        return ""
    return (
        " The advisor's settings moved from their defaults: "
        + ", ".join(f"`{k}={v}`" for k, v in moved.items())
        + "."
    )


def markdown(rows: list[dict], summary: dict, settings: dict, left_out: Sequence[str] = ()) -> str:
    head = (
        "| dataset | size | metric | pick | best | regret | agrees | coverage | median width "
        "| run coverage | one-run width | advisor s | sweep s | ratio |"
    )
    out = [
        "# Advice evaluation",
        "",
        f"Budget `{settings['budget']}`, {settings['seeds']} sweep seed(s) per option "
        f"({settings['small_seeds']} below 2,000 examples), sizes {settings['sizes']}, cap "
        f"{settings['cap'] or 'none'}. Regret and widths in points. Coverage: the options' "
        "measured means (over the sweep's seeds) inside the advice's interval of the expected "
        "score; run coverage: the sweep's single runs inside its interval for one run."
        + _moved(settings),
        "",
        head,
        "|" + "|".join("---" for _ in range(14)) + "|",
    ]
    for r in rows:
        out.append(
            f"| {r['dataset']} | {r['size']:,} | {r['metric']} | {r['pick'] or '-'} | {r['best']} "
            f"| {_p(r['regret_points'])} | {'yes' if r['agrees'] else 'no'} "
            f"| {sum(o['covered'] for o in r['options'])}/{len(r['options'])} "
            f"| {_p(r['median_width_points'])} | {_runs(r['options'])} "
            f"| {_p(r['median_run_width_points'])} | {r['advisor_seconds']:,.0f} "
            f"| {r['sweep_seconds']:,.0f} | {r['cost_ratio']:.2f} |"
        )
    if left_out:
        out += ["", f"Left out, not in the cache (a cached-only report): {', '.join(left_out)}."]
    if summary:
        out += ["", "## Summary", ""]
        for name, t in summary["targets"].items():
            value = summary[name]
            met = {True: "met", False: "missed", None: "not measured"}[t["met"]]
            out.append(
                f"- {name}: {_p(value) if 'points' in name else _fmt(value)} "
                f"(target {t['target']:g}: {met})"
            )
        out.append(
            f"- run coverage: {_fmt(summary['run_coverage'])} of {summary['runs']} single runs, "
            f"median one-run width {_p(summary['median_run_width_points'])} points"
        )
        out.append(f"- max regret: {_p(summary['max_regret_points'])} points")
        for band, width in summary["median_width_by_size"].items():
            out.append(f"- median width, training sets {band}: {_p(width)} points")
        for band, ratio in summary["cost_ratio_by_size"].items():
            out.append(f"- cost ratio, training sets {band}: {ratio:.3f}")
        out += directions.markdown(summary["directions"])
        out += _pretraining(rows, summary["pretraining"])
    return "\n".join(out) + "\n"


def _pretraining(rows: list[dict], totals: dict) -> list[str]:
    """The advice's pretraining answers against the sweep's TAPT runs (none: no such runs)."""
    checked = [r for r in rows if r.get("pretraining_check")]
    if not checked:
        return []
    out = [
        "",
        "## Continued pretraining",
        "",
        "Fine-tuning after task-adaptive pretraining minus fine-tuning alone, paired by seed "
        f"(points): {totals['agree']} of {totals['answered']} answers agree, "
        f"{totals['not_answered']} not judged (not answered, or the pick does not fine-tune).",
        "",
    ]
    for r in checked:
        c = r["pretraining_check"]
        agrees = {True: "agrees", False: "disagrees", None: "not judged"}[c["agrees"]]
        out.append(
            f"- {r['dataset']} at {r['size']:,}: {c['gain_points']:+.1f} (noise "
            f"{c['noise_points']:.1f}, {c['seeds']} seed(s): {c['measured']}); advised "
            f"{ANSWER.get(c['answer'], c['answer'])} ({agrees})"
        )
    return out


ANSWER = {"unspecified": "nothing (not answered)", "none": "none"} | KIND_WORDS


def _runs(options: list[dict]) -> str:
    return f"{sum(o['runs_covered'] for o in options)}/{sum(o['runs'] for o in options)}"


def _fmt(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.3f}"


def plots(folder: Path, rows: list[dict]) -> list[Path]:
    """The two plots; none when matplotlib is not installed (the report extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for r in rows:
        for o in r["options"]:
            low, high = o.get("mean_interval") or o["interval"]
            ax.errorbar(
                100 * o["measured"],
                100 * o["expected"],
                yerr=[[100 * max(o["expected"] - low, 0)], [100 * max(high - o["expected"], 0)]],
                fmt="o" if o["covered"] else "x",
                color="#219ebc" if o["covered"] else "#e76f51",
                alpha=0.7,
                ms=4,
            )
    ax.plot([0, 100], [0, 100], color="#9e9e9e", lw=1)
    ax.set(xlabel="measured (sweep mean), points", ylabel="advice's expected, points")
    ax.set_title("Predicted vs measured, per option (x: interval missed)", fontsize=9)
    predicted = folder / "predicted.png"
    fig.tight_layout()
    fig.savefig(predicted, dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 0.4 * max(len(rows), 3) + 1))
    labels = [f"{r['dataset']} ({r['size']:,})" for r in rows]
    values = [0.0 if math.isnan(r["regret_points"]) else r["regret_points"] for r in rows]
    ax.barh(labels, values, color=["#2a9d8f" if r["agrees"] else "#e76f51" for r in rows])
    ax.set(xlabel="regret, points (green: agrees within the seeds' noise)")
    fig.tight_layout()
    regret = folder / "regret.png"
    fig.savefig(regret, dpi=110)
    plt.close(fig)
    return [predicted, regret]
