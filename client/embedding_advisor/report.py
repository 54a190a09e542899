"""The advice as a report a person can read and share: Markdown, or one self-contained HTML file.

Everything comes from the ``Recommendation`` message (no server needed): the decision and its
evidence, every option at the decision size, the learning curves with their fits and
extrapolations, the gaps on the halves of each profile metric, cost against quality, LogME next to
the pilots, the profile and the reasons. Plots are drawn with matplotlib (Agg, no display).

- ``out.html``: the Markdown rendered to HTML, plots inlined as PNG data URIs, styles inline:
  one file, nothing fetched.
- ``out.md``: Markdown, plots as PNG files in ``out_files/`` beside it.
Files are written to a temporary name and renamed: a failed run leaves no half-written report.
"""

from __future__ import annotations

import base64
import io
import math
import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from .v1 import advisor_pb2 as pb

ARM_NAMES = {
    "majority": "majority class",
    "static_logreg": "static vectors + LR",
    "encoder_frozen_logreg": "frozen encoder + LR",
    "static_bilstm": "static vectors + BiLSTM",
    "random_bilstm": "random vectors + BiLSTM",
    "encoder_frozen_bilstm": "frozen encoder + BiLSTM",
    "encoder_finetuned": "fine-tuned encoder",
}
COLORS = {
    "majority": "#9e9e9e",
    "static_logreg": "#f4a261",
    "encoder_frozen_logreg": "#8ecae6",
    "static_bilstm": "#e76f51",
    "random_bilstm": "#6c757d",
    "encoder_frozen_bilstm": "#219ebc",
    "encoder_finetuned": "#023047",
}
METRIC_WORDS = {
    "complexity": "complexity",
    "ambiguity": "ambiguity",
    "unseen_prevalence": "unseen-word prevalence",
}
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;margin:2em auto;
padding:0 1em;color:#1d2433;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #dde;padding-bottom:.2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #d5d9e2;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f1f4f9}tr:nth-child(even) td{background:#fafbfd}
img{max-width:100%;border:1px solid #e5e8ef;margin:.5em 0}
blockquote{margin:.8em 0;padding:.6em 1em;background:#eef6ee;border-left:4px solid #2a9d8f}
code{background:#f1f4f9;padding:0 .2em}
"""


def _pts(x: float) -> str:
    return f"{100 * x:.1f}" if math.isfinite(x) else "-"


def _enum(enum, value: int, prefix: str) -> str:
    return enum.Name(value).removeprefix(prefix).lower().replace("_", " ")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _expected(p: pb.PilotResult, rec: pb.Recommendation) -> pb.Extrapolation | None:
    at = p.at_target_size if p.HasField("at_target_size") else p.at_full_size
    return at if p.HasField("at_full_size") or p.HasField("at_target_size") else None


# --- plots ---------------------------------------------------------------------------------------


def _yerr(points) -> list[list[float]]:
    """Error-bar lengths in points for ``(score, low, high)`` triples (never negative: a mean
    over seeds may sit just outside its percentile interval)."""
    return [
        [max(0.0, 100 * (s - lo)) for s, lo, _ in points],
        [max(0.0, 100 * (hi - s)) for s, _, hi in points],
    ]


def _log_x(ax) -> None:
    """A log x axis labelled in plain numbers (1,000 rather than 10^3), majors only."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _png(draw: Callable) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw(plt)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def plot_curves(rec: pb.Recommendation) -> bytes:
    """Score against training size per arm: pilot points with intervals, the fitted curve (dashed
    past the pilots), and the expected score at the decision size with its interval."""
    import numpy as np

    def draw(plt):
        fig, ax = plt.subplots(figsize=(8.5, 4.8))
        size = rec.decision_size or rec.profile.num_train
        for k, p in enumerate(rec.pilots):
            color = COLORS.get(p.arm, "#333")
            dodge = 1.0 + 0.012 * (k - len(rec.pilots) / 2)  # keep same-size points apart
            name = ARM_NAMES.get(p.arm, p.arm)
            if not p.curve:
                ax.axhline(100 * p.score, color=color, ls=":", lw=1, label=name)
                continue
            xs = [c.size for c in p.curve]
            ys = [100 * c.score for c in p.curve]
            err = _yerr([(c.score, c.interval.low, c.interval.high) for c in p.curve])
            ax.errorbar(
                [x * dodge for x in xs], ys, yerr=err, fmt="o", color=color, capsize=3, label=name
            )
            if p.fit.fitted:
                grid = np.geomspace(min(xs), max(max(xs), size), 60)
                fitted = 100 * (p.fit.a - p.fit.b * grid ** (-p.fit.c))
                inside = grid <= max(xs)
                ax.plot(grid[inside], fitted[inside], color=color, lw=1.5)
                ax.plot(grid[~inside], fitted[~inside], color=color, lw=1.5, ls="--")
            at = _expected(p, rec)
            if at is not None and at.fitted and at.size > max(xs):
                ax.errorbar(
                    [at.size],
                    [100 * at.score],
                    yerr=_yerr([(at.score, at.interval.low, at.interval.high)]),
                    fmt="D",
                    color=color,
                    capsize=4,
                    mfc="white",
                )
        ax.axvline(size, color="#555", lw=0.8, ls="-.")
        ax.annotate(
            f"decision size {size:,}",
            (size, 1.0),
            xycoords=("data", "axes fraction"),
            ha="right",
            va="top",
            fontsize=8,
            color="#555",
        )
        _log_x(ax)
        ax.set_xlabel("training examples (log scale)")
        ax.set_ylabel(f"{rec.metric} (%)")
        ax.set_title(
            "Learning curves: pilots, fit (dashed: extrapolated), expected at decision size"
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
        return fig

    return _png(draw)


def plot_gaps(rec: pb.Recommendation) -> bytes:
    """Encoder-minus-other gap on the low and high half of each profile metric."""

    def draw(plt):
        metrics = list(dict.fromkeys(g.profile_metric for g in rec.bucketed_gaps))
        fig, axes = plt.subplots(
            1, len(metrics), figsize=(3.3 * len(metrics), 3.8), squeeze=False, sharey=True
        )
        for ax, name in zip(axes[0], metrics, strict=True):
            gaps = [g for g in rec.bucketed_gaps if g.profile_metric == name]
            width = 0.8 / len(gaps)
            for k, g in enumerate(gaps):
                xs = [k * width, 1 + k * width]
                halves = (g.low, g.high)
                ax.bar(
                    xs,
                    [100 * h.gap for h in halves],
                    width=width,
                    color=COLORS.get(g.versus, "#888"),
                    yerr=_yerr([(h.gap, h.interval.low, h.interval.high) for h in halves]),
                    capsize=3,
                    label=f"vs {ARM_NAMES.get(g.versus, g.versus)}",
                )
            ax.axhline(0, color="#333", lw=0.8)
            ax.set_xticks([0.4 - width / 2, 1.4 - width / 2], ["low half", "high half"])
            ax.set_title(METRIC_WORDS.get(name, name), fontsize=10)
            ax.grid(axis="y", alpha=0.3)
        axes[0][0].set_ylabel("frozen encoder minus other (points)")
        handles, names = axes[0][0].get_legend_handles_labels()
        fig.legend(
            handles,
            names,
            fontsize=8,
            loc="lower center",
            ncol=len(names),
            bbox_to_anchor=(0.5, -0.06),
        )
        fig.suptitle("Where the encoder helps: gaps on each half of the held-out examples")
        return fig

    return _png(draw)


def plot_cost(rec: pb.Recommendation) -> bytes:
    """Expected score at the decision size against inference throughput, per option."""

    def draw(plt):
        fig, ax = plt.subplots(figsize=(7.5, 4.4))
        for o in rec.options:
            if o.examples_per_second <= 0:
                continue
            e = o.expected
            chosen = rec.HasField("choice") and o.arm == rec.choice.arm
            ax.errorbar(
                [o.examples_per_second],
                [100 * e.score],
                yerr=_yerr([(e.score, e.interval.low, e.interval.high)]),
                fmt="*" if chosen else "o",
                ms=14 if chosen else 7,
                color=COLORS.get(o.arm, "#333"),
                capsize=3,
            )
            ax.annotate(
                ARM_NAMES.get(o.arm, o.arm) + (" (advised)" if chosen else ""),
                (o.examples_per_second, 100 * e.score),
                textcoords="offset points",
                xytext=(6, 6),
                fontsize=8,
            )
        _log_x(ax)
        ax.set_xlabel("inference throughput on the advisor's machine (examples/s, log scale)")
        ax.set_ylabel(f"expected {rec.metric} at {rec.decision_size:,} examples (%)")
        ax.set_title("Cost vs quality")
        ax.grid(alpha=0.3)
        return fig

    return _png(draw)


def figures(rec: pb.Recommendation) -> dict[str, bytes]:
    out = {}
    if any(p.curve for p in rec.pilots):
        out["curves"] = plot_curves(rec)
    if rec.bucketed_gaps:
        out["gaps"] = plot_gaps(rec)
    if rec.options:
        out["cost"] = plot_cost(rec)
    return out


# --- text ----------------------------------------------------------------------------------------


def _option_row(o: pb.Option) -> list[object]:
    e = o.expected
    return [
        o.label,
        _pts(e.score),
        f"{_pts(e.interval.low)}-{_pts(e.interval.high)}",
        o.basis,
        f"{o.examples_per_second:,.0f}",
        f"{o.train_seconds:,.1f}",
    ]


def markdown(rec: pb.Recommendation, images: dict[str, str], title: str = "") -> str:
    """The report in Markdown; ``images`` maps a figure name to the image's address."""
    prof = rec.profile
    task = _enum(pb.TaskType, prof.task, "TASK_TYPE_")
    out = [f"# Embedding advice{': ' + title if title else ''}", "", f"> **{rec.headline}**", ""]
    out.append(
        f"{task.capitalize()}, {prof.num_train:,} training / {prof.num_test:,} test examples, "
        f"metric **{rec.metric}**; encoder {rec.encoder}, vectors {rec.vectors}."
    )
    if rec.HasField("choice"):
        out += ["", "## Decision", ""]
        conf = _enum(pb.Confidence, rec.confidence, "CONFIDENCE_")
        prio = _enum(pb.Priority, rec.priority, "PRIORITY_")
        out.append(
            f"At **{rec.decision_size:,}** training examples, priority **{prio}**, tolerance "
            f"{rec.tolerance_points:g} point{'' if rec.tolerance_points == 1 else 's'}"
            + (
                f", at least {rec.min_examples_per_second:,.0f} examples/s"
                if rec.min_examples_per_second
                else ""
            )
            + f". Confidence: **{conf}**."
        )
        rows = []
        for question, d in (
            ("Embeddings", rec.embedding_decision),
            ("Fine-tune or freeze", rec.adaptation_decision),
        ):
            alt = d.alternative.label if d.HasField("alternative") else "-"
            gain = (
                f"{100 * d.gain:+.1f} ({100 * d.gain_interval.low:+.1f} to "
                f"{100 * d.gain_interval.high:+.1f})"
                if d.HasField("alternative")
                else "-"
            )
            rows.append(
                [
                    question,
                    f"**{d.answer}**",
                    d.evidence.label,
                    alt,
                    gain,
                    _enum(pb.Confidence, d.confidence, "CONFIDENCE_"),
                ]
            )
        pre = rec.pretraining
        kind = pb.Pretraining.Name(pre.kind).removeprefix("PRETRAINING_").replace("_", "+")
        rows.append(
            [
                "Continued pretraining",
                f"**{kind.replace('NONE', 'none')}**",
                "measured" if pre.measured else "unmeasured: domain signals only",
                "-",
                "-",
                "-",
            ]
        )
        out += [
            "",
            _table(
                ["question", "answer", "evidence", "versus", "gain, points (95%)", "confidence"],
                rows,
            ),
            "",
        ]
        out.append(f"- **Choice:** {rec.choice.label}.")
        if rec.trade_off:
            out.append(f"- **{rec.trade_off}**")
        if pre.reason:
            out.append(f"- **Continued pretraining:** {pre.reason}")
            out += [f"  - {s}" for s in pre.signals]
        out += [f"- Set aside: {x}" for x in rec.excluded]
    if rec.options:
        out += ["", f"## Options at {rec.decision_size:,} training examples", ""]
        out.append(
            _table(
                ["option", "expected", "95% interval", "basis", "examples/s", "pilot training s"],
                [_option_row(o) for o in rec.options],
            )
        )
        out.append(
            "\n*basis*: `fitted` = the option's learning curve extrapolated; `two-size fit` = a "
            "curve through two sizes, its exponent assumed (the interval spans its range); "
            "`borrowed` = its pilot score plus the frozen encoder's fitted gain; `measured` = "
            "its pilot score."
        )
        if "cost" in images:
            out += ["", f"![Cost vs quality]({images['cost']})"]
    out += ["", "## Pilots and learning curves", ""]
    first = rec.pilots[0] if rec.pilots else pb.PilotResult()
    out.append(
        f"Trained on up to {max((p.num_train for p in rec.pilots), default=0):,} examples, "
        f"scored on {first.num_eval:,} held-out examples; 95% bootstrap intervals."
    )
    rows = []
    for p in rec.pilots:
        rows.append(
            [
                ARM_NAMES.get(p.arm, p.arm),
                _pts(p.score),
                f"{_pts(p.interval.low)}-{_pts(p.interval.high)}",
                " ".join(f"{c.size}:{_pts(c.score)}" for c in p.curve) or "-",
                f"{p.examples_per_second:,.0f}" if p.examples_per_second else "-",
                f"{p.peak_memory_mib:,.0f}" if p.peak_memory_mib else "-",
                f"{p.logme:.3f}" if math.isfinite(p.logme) else "-",
            ]
        )
    out += [
        "",
        _table(
            [
                "arm",
                "score",
                "95% interval",
                "curve (size:score)",
                "examples/s",
                "peak MiB",
                "LogME",
            ],
            rows,
        ),
        "",
    ]
    rho = rec.logme_rank_correlation
    out.append(
        "LogME (You et al. 2021) of each arm's pooled frozen features: Spearman rank correlation "
        + (f"with the pilot scores **{rho:+.2f}**." if math.isfinite(rho) else "not defined here.")
    )
    if "curves" in images:
        out += ["", f"![Learning curves]({images['curves']})"]
    out += ["", "Arms:", ""]
    out += [f"- **{ARM_NAMES.get(p.arm, p.arm)}**: {p.description}" for p in rec.pilots]
    if rec.bucketed_gaps:
        out += ["", "## Where the encoder helps", ""]
        out.append(
            "Held-out examples split at the median of each per-example profile metric "
            "(Arora et al. 2020); the frozen encoder's gap over each other arm on each half."
        )
        rows = [
            [
                METRIC_WORDS.get(g.profile_metric, g.profile_metric),
                ARM_NAMES.get(g.versus, g.versus),
                f"{g.median:.3g}",
                f"{100 * g.low.gap:+.1f} ({100 * g.low.interval.low:+.1f} to "
                f"{100 * g.low.interval.high:+.1f}), n={g.low.examples}",
                f"{100 * g.high.gap:+.1f} ({100 * g.high.interval.low:+.1f} to "
                f"{100 * g.high.interval.high:+.1f}), n={g.high.examples}",
            ]
            for g in rec.bucketed_gaps
        ]
        out += ["", _table(["metric", "versus", "median", "low half", "high half"], rows)]
        if "gaps" in images:
            out += ["", f"![Bucketed gaps]({images['gaps']})"]
    out += ["", "## Dataset profile", ""]
    rows = [
        ["labels / tags", len(prof.labels)],
        ["imbalance (largest / smallest)", f"{prof.imbalance_ratio:.1f}x"],
        [
            "words per example (mean, p95)",
            f"{prof.length_words.mean:.1f}, {prof.length_words.p95:.0f}",
        ],
        [f"OOV for {prof.vectors_name}", f"{100 * prof.vectors_oov_rate:.1f}%"],
        [prof.complexity_measure or "complexity", f"{prof.complexity_mean:.2f}"],
        ["ambiguity", f"{prof.ambiguity_mean:.2f}"],
        ["unseen-word prevalence", f"{prof.unseen_prevalence_mean:.2f}"],
        ["held-out words unseen in training", f"{100 * prof.test_unseen_rate:.1f}%"],
        ["word pieces per word", f"{prof.encoder_pieces_per_word:.2f}"],
    ]
    if prof.HasField("domain"):
        d = prof.domain
        rows.append([f"unigram similarity to the {d.reference}", f"{d.unigram_similarity:.2f}"])
        if d.mlm_loss:
            rows.append(
                [
                    "masked-LM loss (data vs reference)",
                    f"{d.mlm_loss:.2f} vs {d.reference_mlm_loss:.2f}",
                ]
            )
    out += [_table(["measure", "value"], rows)]
    out += ["", "## Reasons", ""] + [f"- {r}" for r in rec.reasons]
    if rec.pilot_notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in rec.pilot_notes]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out += ["", f"<small>embedding-advisor report, {stamp}.</small>", ""]
    return "\n".join(out)


def html(rec: pb.Recommendation, title: str = "") -> str:
    """One self-contained HTML page: the Markdown rendered, plots inlined as data URIs."""
    import markdown as md

    images = {
        name: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        for name, png in figures(rec).items()
    }
    body = md.markdown(markdown(rec, images, title), extensions=["tables"])
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Embedding advice{': ' + escape(title) if title else ''}</title>"
        f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def _atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as readable as any file the user writes
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_report(rec: pb.Recommendation, path: Path, title: str = "") -> list[Path]:
    """Write the report: ``.html`` / ``.htm`` as one file, anything else as Markdown with its
    plots in ``<stem>_files/``. Returns the files written."""
    if path.suffix.lower() in {".html", ".htm"}:
        _atomic(path, html(rec, title).encode("utf-8"))
        return [path]
    folder = path.with_name(f"{path.stem}_files")
    written = []
    images = {}
    for name, png in figures(rec).items():
        target = folder / f"{name}.png"
        _atomic(target, png)
        written.append(target)
        images[name] = f"{folder.name}/{name}.png"
    _atomic(path, markdown(rec, images, title).encode("utf-8"))
    return [path, *written]
