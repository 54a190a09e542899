"""The report's plots, drawn with matplotlib (Agg, no display) as PNG bytes: learning curves,
gaps on the halves of each profile metric, cost against quality. Each arm keeps one colour, by its
place among the pilots, and its short label from the wire."""

from __future__ import annotations

import io
from collections.abc import Callable

from ..numbers import metric_words
from ..v1 import advisor_pb2 as pb

# One colour per pilot, in the order the pilots come (the arm registry's order).
PALETTE = ("#9e9e9e", "#f4a261", "#8ecae6", "#e76f51", "#6c757d", "#219ebc", "#023047", "#2a9d8f")
METRIC_WORDS = {
    "complexity": "complexity",
    "ambiguity": "ambiguity",
    "unseen_prevalence": "unseen-word prevalence",
}


def styles(rec: pb.Recommendation) -> dict[str, tuple[str, str]]:
    """Per arm: its short label and its colour."""
    return {
        p.arm: (p.short_label or p.arm, PALETTE[k % len(PALETTE)]) for k, p in enumerate(rec.pilots)
    }


def _yerr(points) -> list[list[float]]:
    """Error-bar lengths in points for ``(score, low, high)`` triples (never negative: a mean
    over seeds may sit just outside its percentile interval)."""
    return [
        [max(0.0, 100 * (s - lo)) for s, lo, _ in points],
        [max(0.0, 100 * (hi - s)) for s, _, hi in points],
    ]


def _log_x(ax, values) -> None:
    """A log x axis labelled in plain numbers (1,000 rather than 10^3). Within a decade or two
    the ticks are the values themselves (the pilots' sizes: 125, 250, 500 ...), so every point
    has its label; across more, 1-2-5 steps."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    values = sorted({round(v) for v in values if v > 0})
    spaced = values[:1]
    for v in values[1:]:  # labels closer than this on a log axis would run into each other
        if v / spaced[-1] >= 1.4:
            spaced.append(v)
    if values and values[-1] / values[0] < 100 and len(spaced) <= 8:
        ax.xaxis.set_major_locator(FixedLocator(spaced))
    else:
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
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


def _expected(p: pb.PilotResult) -> pb.Extrapolation | None:
    at = p.at_target_size if p.HasField("at_target_size") else p.at_full_size
    return at if p.HasField("at_full_size") or p.HasField("at_target_size") else None


def plot_curves(rec: pb.Recommendation) -> bytes:
    """Score against training size per arm: pilot points with intervals, the fitted curve (dashed
    past the pilots), and the expected score at the decision size with its interval."""
    import numpy as np

    arms = styles(rec)

    def draw(plt):
        fig, ax = plt.subplots(figsize=(8.5, 4.8))
        size = rec.decision_size or rec.profile.num_train
        for k, p in enumerate(rec.pilots):
            name, color = arms[p.arm]
            dodge = 1.0 + 0.012 * (k - len(rec.pilots) / 2)  # keep same-size points apart
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
            at = _expected(p)
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
        _log_x(ax, [c.size for p in rec.pilots for c in p.curve] + [size])
        ax.set_xlabel("training examples (log scale)")
        ax.set_ylabel(f"{metric_words(rec.metric)} (%)")
        ax.set_title(
            "Learning curves: pilots, fit (dashed: extrapolated), expected at decision size"
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
        return fig

    return _png(draw)


def plot_gaps(rec: pb.Recommendation) -> bytes:
    """Encoder-minus-other gap on the low and high half of each profile metric."""
    arms = styles(rec)

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
                    color=arms.get(g.versus, (g.versus, "#888"))[1],
                    yerr=_yerr([(h.gap, h.interval.low, h.interval.high) for h in halves]),
                    capsize=3,
                    label=f"vs {arms.get(g.versus, (g.versus, ''))[0]}",
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
    arms = styles(rec)

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
                color=arms.get(o.arm, (o.arm, "#333"))[1],
                capsize=3,
                # Named in the legend, not beside the point: labels of close options overlap.
                label=arms.get(o.arm, (o.arm, ""))[0] + (" (advised)" if chosen else ""),
            )
        _log_x(ax, [o.examples_per_second for o in rec.options])
        ax.set_xlabel("inference throughput on the advisor's machine (examples/s, log scale)")
        ax.set_ylabel(f"expected {metric_words(rec.metric)} at {rec.decision_size:,} examples (%)")
        ax.set_title("Cost vs quality")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
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
