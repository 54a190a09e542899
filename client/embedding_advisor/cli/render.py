"""The advice as a person reads it in a terminal: the headline, the profile, the pilots' table,
the decision and the reasons. Everything comes from the ``Recommendation`` message."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

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

EMBEDDING_WORDS = {
    pb.EMBEDDING_CONTEXTUAL: "BERT-family encoder",
    pb.EMBEDDING_STATIC: "static word vectors (GloVe-style)",
    pb.EMBEDDING_RANDOM: "random embeddings",
    pb.EMBEDDING_UNSPECIFIED: "no recommendation",
}


def _complexity(prof: pb.DatasetProfile) -> str:
    if prof.complexity_measure == "entity span length":
        return f"{prof.complexity_mean:.2f} tokens per entity"
    if prof.complexity_measure:
        return f"dependency distance {prof.complexity_mean:.2f}"
    return "complexity not measured"


def _truncated(prof: pb.DatasetProfile) -> str:
    if prof.encoder_truncated_rate <= 0:
        return ""
    return f", {100 * prof.encoder_truncated_rate:.1f}% of examples longer than the encoder's input"


def _domain(d: pb.DomainShift) -> str:
    text = (
        f"Domain vs {d.reference}: top-{d.overlap_top_k:,} unigram overlap "
        f"{100 * d.unigram_overlap:.0f}% (the reference with itself: "
        f"{100 * d.unigram_overlap_ceiling:.0f}%, similarity {d.unigram_similarity:.2f})"
    )
    if d.mlm_head:
        text += (
            f"; masked-LM loss {d.mlm_loss:.2f} vs {d.reference_mlm_loss:.2f} on the reference "
            f"({d.mlm_head} head)"
        )
    elif d.mlm_note:
        text += f"; no masked-LM loss: {d.mlm_note}"
    return escape(text) + "."


def _extrapolated(e: pb.Extrapolation) -> str:
    if not e.fitted:
        return "-"
    return f"{100 * e.score:.1f} ({100 * e.interval.low:.0f}-{100 * e.interval.high:.0f})"


def _option(o: pb.Option) -> str:
    e = o.expected
    trained = (
        f", ~{o.train_seconds_at_decision:,.0f} s to train" if o.train_seconds_at_decision else ""
    )
    judged = f"; {_judged(o)}" if o.convergence else ""
    mean = mean_interval(e)
    return (
        f"{escape(o.label)}: {100 * e.score:.1f} [{100 * mean.low:.1f}, {100 * mean.high:.1f}]"
        f" (one run {100 * e.interval.low:.1f}-{100 * e.interval.high:.1f}; {o.basis}{judged}), "
        f"{throughput(o)} examples/s{_latency(o)}{trained}"
    )


def _judged(o: pb.Option) -> str:
    """How its pilot's training was judged, in words."""
    if o.convergence == "epoch extrapolation":
        return f"judged by epoch extrapolation, {100 * o.epoch_gain:+.1f} for more epochs"
    return f"judged {o.convergence}" if o.convergence != "convex fit" else "a convex fit"


def _recipe(o: pb.Option, console: Console) -> None:
    """The recipe handed over for ``o``: in words, then its config (one JSON line to copy)."""
    if o.recipe:
        console.print(f"             recipe: {escape(o.recipe)}", highlight=False)
        console.print(
            f"             config: {escape(o.recipe_config)}", highlight=False, soft_wrap=True
        )


def _latency(o: pb.Option | pb.PilotResult) -> str:
    """One request's latency in words ("" where not measured)."""
    if not o.latency_ms:
        return ""
    return f", {o.latency_ms:.1f} ms a request ({o.latency_p95_ms:.1f} at p95)"


def _decisions(rec: pb.Recommendation, console: Console) -> None:
    confidence = pb.Confidence.Name(rec.confidence).removeprefix("CONFIDENCE_").lower()
    priority = pb.Priority.Name(rec.priority).removeprefix("PRIORITY_").lower()
    console.print(
        f"Decision at {rec.decision_size:,} training examples (priority {priority}, tolerance "
        f"{rec.tolerance_points:g} point{'' if rec.tolerance_points == 1 else 's'}"
        + (
            f", at least {rec.min_examples_per_second:,.0f} examples/s"
            if rec.min_examples_per_second
            else ""
        )
        + (f", one request at most {rec.max_latency_ms:g} ms at p95" if rec.max_latency_ms else "")
        + (f", costs for {rec.inference_volume:,} predictions" if rec.inference_volume else "")
        + "):",
        highlight=False,
    )
    console.print(f"  choice     {_option(rec.choice)}, {confidence} confidence", highlight=False)
    _recipe(rec.choice, console)
    if rec.HasField("runner_up"):
        console.print(f"  runner-up  {_option(rec.runner_up)}", highlight=False)
        _recipe(rec.runner_up, console)
    for name, d in (
        ("embedding", rec.embedding_decision),
        ("adaptation", rec.adaptation_decision),
    ):
        gain = f" ({100 * d.gain:+.1f} points)" if d.HasField("alternative") else ""
        console.print(f"  {name:<10} {escape(d.answer)}{gain}", highlight=False)
    pre = rec.pretraining
    measured = measured_pilots(pre)
    if measured:
        listed = "; ".join(
            f"{name} {100 * t.gain:+.1f} points [{100 * t.gain_interval.low:+.1f}, "
            f"{100 * t.gain_interval.high:+.1f}]"
            for name, t in measured
        )
        first = measured[0][1]
        on = f"{paired_words(first)}, {first.num_train:,} examples"
        evidence = f" (measured on {on}: {listed})"
    elif pre.kind == pb.PRETRAINING_UNSPECIFIED:
        evidence = " (no pilot ran and no domain signal)"
    else:
        evidence = "" if pre.measured else " (unmeasured: from domain signals only)"
    console.print(f"  pretraining {pretraining_word(pre)}{evidence}", highlight=False)
    if measured:
        console.print(f"             {escape(pre.reason)}", highlight=False)
    for line in rec.excluded:
        console.print(f"  [yellow]set aside:[/yellow] {escape(line)}", highlight=False)


def render(rec: pb.Recommendation, console: Console) -> None:
    prof = rec.profile
    task = pb.TaskType.Name(prof.task).removeprefix("TASK_TYPE_").lower().replace("_", " ")
    title = f"Recommendation: {EMBEDDING_WORDS[rec.embedding]}"
    if console.is_terminal:
        style = "green" if rec.anything_learned else "yellow"
        console.print(Panel(f"[bold]{rec.headline}[/bold]", title=title, border_style=style))
    else:  # a log or a file: plain lines, never wrapped mid-value (the console soft-wraps)
        console.print(title, highlight=False)
        console.print(f"  {rec.headline}", highlight=False)
    console.print(
        f"Dataset: {task}, {prof.num_train} train / {prof.num_test} test"
        f"{' (split made by the advisor)' if prof.test_split_made else ''}, "
        f"{len(prof.labels)} {'tags' if prof.task == pb.TASK_TYPE_TOKEN_TAGGING else 'labels'}, "
        f"imbalance {prof.imbalance_ratio:.1f}x, {prof.length_words.mean:.1f} words per example "
        f"(p95 {prof.length_words.p95:.0f}), {100 * prof.vectors_oov_rate:.1f}% OOV for {prof.vectors_name}."
    )
    console.print(
        f"Held-out vs train ({prof.held_out_profiled} held-out examples profiled): "
        f"{_complexity(prof)}, ambiguity {prof.ambiguity_mean:.2f}, unseen-word prevalence "
        f"{prof.unseen_prevalence_mean:.2f}, {100 * prof.test_unseen_rate:.1f}% of words unseen; "
        f"encoder splits a word into {prof.encoder_pieces_per_word:.2f} pieces on average"
        f"{_truncated(prof)}."
    )
    if prof.HasField("domain"):
        console.print(_domain(prof.domain))
    first = rec.pilots[0] if rec.pilots else pb.PilotResult()
    table = Table(
        title=f"Pilots: {metric_words(rec.metric)} with 95% bootstrap intervals, trained on {first.num_train}, "
        f"scored on {scored_words(rec)} held-out examples"
    )
    sizes = max((p.curve for p in rec.pilots), key=len, default=[])
    curve = f"curve {sizes[0].size}..{sizes[-1].size}" if sizes else "curve"
    columns = (
        "arm",
        "score",
        "interval",
        curve,
        f"fit at {prof.num_train}",
        "examples/s",
        "ms p95",
    )
    for col in columns:
        table.add_column(col, justify="left" if col == "arm" else "right")
    for p in rec.pilots:
        table.add_row(
            p.short_label or p.arm,
            f"{100 * p.score:.1f}",
            f"{100 * p.interval.low:.1f}-{100 * p.interval.high:.1f}",
            " ".join(f"{100 * c.score:.0f}" for c in p.curve) or "-",
            _extrapolated(p.at_full_size) if p.HasField("at_full_size") else "-",
            throughput(p) if p.examples_per_second else "-",
            f"{p.latency_p95_ms:.1f}" if p.latency_ms else "-",
        )
    console.print(table)
    for p in rec.pilots:
        console.print(f"  {p.short_label or p.arm}: {escape(p.description)}", highlight=False)
    if rec.precision:
        console.print(f"  torch computed in {escape(rec.precision)}", highlight=False)
    for note in rec.pilot_notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    if rec.HasField("choice"):
        _decisions(rec, console)
    console.print("Why:")
    for reason in rec.reasons:
        console.print(f"  - {reason}")
