"""The report in Markdown: the decision and its evidence, every option at the decision size, the
pilots and their curves, the gaps on the halves of each profile metric, the profile and the
reasons. Labels come from the wire (``Option.label``, ``PilotResult.short_label``)."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from .. import __version__, output
from ..numbers import (
    mean_interval,
    measured_pilots,
    metric_words,
    paired_words,
    pretraining_word,
    scored_words,
    throughput,
)
from ..v1 import advisor_pb2 as pb
from .plots import METRIC_WORDS


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


def _basis(o: pb.Option, pilots: dict[str, pb.PilotResult]) -> str:
    """The basis, and when a fitted value stands where a run was measured at the same size,
    that run's score and why the two differ."""
    run = next((c for c in pilots[o.arm].curve if c.size == o.expected.size), None)
    if o.basis != "fitted" or run is None or abs(run.score - o.expected.score) < 5e-4:
        return o.basis
    return (
        f"fitted (the run at this size measured {_pts(run.score)}; the curve through all "
        "sizes is the steadier estimate)"
    )


def _option_row(o: pb.Option, pilots: dict[str, pb.PilotResult]) -> list[object]:
    e = o.expected
    mean = mean_interval(e)
    return [
        o.label,
        _pts(e.score),
        f"{_pts(mean.low)}-{_pts(mean.high)}",
        f"{_pts(e.interval.low)}-{_pts(e.interval.high)}",
        _basis(o, pilots) if o.arm in pilots else o.basis,
        throughput(o),
        f"{o.latency_ms:.1f} / {o.latency_p95_ms:.1f}" if o.latency_ms else "-",
        f"{o.train_seconds:,.1f}",
        f"{o.train_seconds_at_decision:,.0f}",
    ]


def _decision(rec: pb.Recommendation) -> list[str]:
    """The three questions, answered, with the choice and the runner-up."""
    out: list[str] = []
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
            + (
                f", one request at most {rec.max_latency_ms:g} ms at p95"
                if rec.max_latency_ms
                else ""
            )
            + (f", costs for {rec.inference_volume:,} predictions" if rec.inference_volume else "")
            + f". Confidence: **{conf}**."
        )
        rows = []
        for question, d in (
            ("Embeddings", rec.embedding_decision),
            ("Fine-tune or freeze", rec.adaptation_decision),
        ):
            alt = d.alternative.label if d.HasField("alternative") else "-"
            gain = _gain(d.gain, d.gain_interval) if d.HasField("alternative") else "-"
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
        rows += _pretraining_rows(pre)
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
        out += _recipe_lines("Choice", rec.choice)
        if rec.HasField("runner_up"):
            out += _recipe_lines("Runner-up", rec.runner_up)
        out += _pretraining_lines(pre)
        out += [f"- Set aside: {x}" for x in rec.excluded]
    return out


def _recipe_lines(role: str, o: pb.Option) -> list[str]:
    """The recipe handed over for ``o`` at full size: how its pilot was judged, the recipe in
    words and its JSON config."""
    if not o.recipe:
        return []
    judged = f" (its pilot: {o.convergence})" if o.convergence else ""
    return [f"- **{role}'s recipe{judged}:** {o.recipe}", "", "```json", o.recipe_config, "```", ""]


def _pretraining_rows(pre: pb.PretrainingAdvice) -> list[list[str]]:
    """The decision table's rows for the third question: the answer, then each pilot."""
    rows = [
        [
            "Continued pretraining",
            f"**{pretraining_word(pre)}**",
            "measured (pilots below)" if pre.measured else "unmeasured: domain signals only",
            "-",
            "-",
            "-",
        ]
    ]
    return rows + [
        [
            f"- {name} pilot",
            "",
            f"{paired_words(t)}, {t.num_train:,} examples",
            "none",
            _gain(t.gain, t.gain_interval),
            "-",
        ]
        for name, t in measured_pilots(pre)
    ]


def _pretraining_lines(pre: pb.PretrainingAdvice) -> list[str]:
    """The third question's reasons, full-scale recipe (words and JSON) and kept weights."""
    out = []
    if pre.reason:
        out.append(f"- **Continued pretraining:** {pre.reason}")
        out += [f"  - {s}" for s in pre.signals]
    if pre.recipe:
        out.append(f"- **Full-scale recipe:** {pre.recipe}")
    if pre.recipe_config:
        out += ["", "```json", pre.recipe_config, "```", ""]
    if pre.HasField("adapted_weights"):
        w = pre.adapted_weights
        which = pb.Pretraining.Name(w.kind).removeprefix("PRETRAINING_").replace("_", "+")
        out.append(
            f"- **Adapted weights kept** ({which}, {w.size_bytes / 1e6:,.0f} MB): download "
            "them with `advise --save-adapted DIR` or `AdvisorClient.download_adapted`."
        )
    if pre.dapt_projection:
        out.append(f"- **Domain-adaptive pretraining:** {pre.dapt_projection}")
    return out


def _gain(gain: float, interval: pb.Interval) -> str:
    """A gain (a fraction) in signed points with its interval: ``+3.8 (+1.2 to +6.4)``."""
    return f"{100 * gain:+.1f} ({100 * interval.low:+.1f} to {100 * interval.high:+.1f})"


def _options(rec: pb.Recommendation, images: dict[str, str]) -> list[str]:
    out: list[str] = []
    if rec.options:
        out += ["", f"## Options at {rec.decision_size:,} training examples", ""]
        out.append(
            _table(
                [
                    "option",
                    "expected",
                    "95% interval",
                    "one run (95%)",
                    "basis",
                    "examples/s (95% interval)",
                    "ms a request (median / p95)",
                    "pilot training s",
                    f"training s at {rec.decision_size:,}",
                ],
                [_option_row(o, {p.arm: p for p in rec.pilots}) for o in rec.options],
            )
        )
        out.append(
            "\n*basis*: `fitted` = the option's learning curve extrapolated; `two-size fit` = a "
            "curve through two sizes, its exponent assumed (the interval spans its range); "
            "`not rising` = a curve with no rise to fit, at its largest size's score (the "
            "interval may still rise); `borrowed` = its pilot score plus the frozen encoder's fitted gain; "
            "`measured` = its pilot score at the decision size; `not extrapolated` = its pilot "
            "score from fewer examples, no curve (the interval's top raised by the largest "
            "gain a fitted option makes)."
        )
        if "cost" in images:
            out += ["", f"![Cost vs quality]({images['cost']})"]
    return out


def _pilots(rec: pb.Recommendation, images: dict[str, str]) -> list[str]:
    out: list[str] = []
    out += ["", "## Pilots and learning curves", ""]
    out.append(
        f"Trained on up to {max((p.num_train for p in rec.pilots), default=0):,} examples, "
        f"scored on {scored_words(rec)} held-out examples; 95% bootstrap intervals."
    )
    rows = []
    for p in rec.pilots:
        rows.append(
            [
                (p.short_label or p.arm),
                _pts(p.score),
                f"{_pts(p.interval.low)}-{_pts(p.interval.high)}",
                " ".join(f"{c.size}:{_pts(c.score)}" for c in p.curve) or "-",
                throughput(p) if p.examples_per_second else "-",
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
    out += [f"- **{(p.short_label or p.arm)}**: {p.description}" for p in rec.pilots]
    return out


def _where_it_helps(rec: pb.Recommendation, images: dict[str, str]) -> list[str]:
    names = {p.arm: p.short_label or p.arm for p in rec.pilots}
    out: list[str] = []
    if rec.bucketed_gaps:
        out += ["", "## Where the encoder helps", ""]
        out.append(
            "Held-out examples split at the median of each per-example profile metric "
            "(Arora et al. 2020); the frozen encoder's gap over each other arm on each half."
        )
        rows = [
            [
                METRIC_WORDS.get(g.profile_metric, g.profile_metric),
                names.get(g.versus, g.versus),
                f"{g.median:.3g}",
                f"{_gain(g.low.gap, g.low.interval)}, n={g.low.examples}",
                f"{_gain(g.high.gap, g.high.interval)}, n={g.high.examples}",
            ]
            for g in rec.bucketed_gaps
        ]
        out += ["", _table(["metric", "versus", "median", "low half", "high half"], rows)]
        if "gaps" in images:
            out += ["", f"![Bucketed gaps]({images['gaps']})"]
    return out


def _profile(rec: pb.Recommendation) -> list[str]:
    prof = rec.profile
    out: list[str] = []
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
    return out


def _closing(rec: pb.Recommendation) -> list[str]:
    out: list[str] = []
    out += ["", "## Reasons", ""] + [f"- {r}" for r in rec.reasons]
    notes = [f"torch computed in {rec.precision}."] if rec.precision else []
    notes += list(rec.pilot_notes)
    if notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out += ["", f"<small>{_footer(rec, stamp)}</small>", ""]
    return out


def _footer(rec: pb.Recommendation, stamp: str) -> str:
    """Who made this, when, and from what: versions, the options as resolved, the machine."""
    run = rec.run
    parts = [f"embedding-advisor report {__version__}, {stamp}"]
    if run.server_version:
        parts.append(f"server {run.server_version}")
    if run.HasField("options"):
        o = output.as_dict(run.options)
        shown = ("budget", "seed", "max_train_examples", "max_eval_examples",
                 "cross_fit_examples", "precision", "feature_backend", "target_size",
                 "budget_seconds")  # fmt: skip
        parts.append("options: " + ", ".join(f"{k} {o[k]}" for k in shown if o.get(k)))
    if run.HasField("machine"):
        m = run.machine
        parts.append(f"machine: {m.cpu or 'CPU'} ({m.cpu_cores} cores), torch {m.torch}")
    if run.dataset_id:
        parts.append(f"dataset SHA-256 {run.dataset_id[:12]}")
    return "; ".join(parts) + "."


def markdown(rec: pb.Recommendation, images: dict[str, str], title: str = "") -> str:
    """The report in Markdown; ``images`` maps a figure name to the image's address."""
    prof = rec.profile
    task = _enum(pb.TaskType, prof.task, "TASK_TYPE_")
    out = [f"# Embedding advice{': ' + title if title else ''}", "", f"> **{rec.headline}**", ""]
    out.append(
        f"{task.capitalize()}, {prof.num_train:,} training / {prof.num_test:,} test examples, "
        f"metric **{metric_words(rec.metric)}**; encoder {rec.encoder}, vectors {rec.vectors}."
    )
    out += _decision(rec)
    out += _options(rec, images)
    out += _pilots(rec, images)
    out += _where_it_helps(rec, images)
    out += _profile(rec)
    out += _closing(rec)
    return "\n".join(out)
