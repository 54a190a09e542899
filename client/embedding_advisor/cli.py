"""``advise``: the command line over the client library.

``advise data.jsonl`` starts an embedded server in this process (needs the ``server`` extra) and
talks to it through the same client as ``--server HOST:PORT`` would. ``advise serve`` runs a server.
Exit codes: 0 success, 2 invalid input, 1 any other failure, 130 interrupted.
"""

from __future__ import annotations

import contextlib
import enum
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from google.protobuf import json_format
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import errors
from .client import AdvisorClient, choices, options, recommendation_of
from .v1 import advisor_pb2 as pb

EXIT_INVALID = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
stderr = Console(stderr=True)

_EMBEDDING = {
    pb.EMBEDDING_CONTEXTUAL: "BERT-family encoder",
    pb.EMBEDDING_STATIC: "static word vectors (GloVe-style)",
    pb.EMBEDDING_RANDOM: "random embeddings",
    pb.EMBEDDING_UNSPECIFIED: "no recommendation",
}


def error(message: object) -> None:
    stderr.print(f"[red]error:[/red] {escape(str(message))}", highlight=False)


@contextlib.contextmanager
def connect(server: str | None, data_dir: Path | None) -> Iterator[AdvisorClient]:
    """A client of ``server``, or of an embedded server on a free loopback port."""
    if server:
        with AdvisorClient(server) as client:
            client.wait_ready(timeout=10)
            yield client
        return
    try:
        from embedding_advisor_server.app import AdvisorServer
        from embedding_advisor_server.settings import ServerSettings
    except ImportError as exc:
        raise errors.FailedPreconditionError(
            "no --server given and the embedded server cannot start "
            f"({exc}); install it with: pip install 'embedding-advisor[server]'"
        ) from None
    overrides = {"host": "127.0.0.1", "port": 0}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    with (
        AdvisorServer(ServerSettings(**overrides)) as embedded,
        AdvisorClient(embedded.target) as client,
    ):
        yield client


# The CLI's choices come from the proto's enums, so the two cannot drift apart.
Backend = enum.Enum(
    "Backend", {c: c for c in choices(pb.FeatureBackend, "FEATURE_BACKEND_")}, type=str
)
BudgetName = enum.Enum("BudgetName", {c: c for c in choices(pb.Budget, "BUDGET_")}, type=str)
PriorityName = enum.Enum(
    "PriorityName", {c: c for c in choices(pb.Priority, "PRIORITY_")}, type=str
)


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


_ARM_LABELS = {
    "majority": "majority",
    "static_logreg": "static+LR",
    "encoder_frozen_logreg": "frozen+LR",
    "static_bilstm": "static+BiLSTM",
    "random_bilstm": "random+BiLSTM",
    "encoder_frozen_bilstm": "frozen+BiLSTM",
    "encoder_finetuned": "fine-tuned",
}


def _extrapolated(e: pb.Extrapolation) -> str:
    if not e.fitted:
        return "-"
    return f"{100 * e.score:.1f} ({100 * e.interval.low:.0f}-{100 * e.interval.high:.0f})"


def _option(o: pb.Option) -> str:
    e = o.expected
    return (
        f"{escape(o.label)}: {100 * e.score:.1f} [{100 * e.interval.low:.1f}, "
        f"{100 * e.interval.high:.1f}] ({o.basis}), {o.examples_per_second:,.0f} examples/s"
    )


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
        + "):",
        highlight=False,
    )
    console.print(f"  choice     {_option(rec.choice)}, {confidence} confidence", highlight=False)
    if rec.HasField("runner_up"):
        console.print(f"  runner-up  {_option(rec.runner_up)}", highlight=False)
    for name, d in (
        ("embedding", rec.embedding_decision),
        ("adaptation", rec.adaptation_decision),
    ):
        gain = f" ({100 * d.gain:+.1f} points)" if d.HasField("alternative") else ""
        console.print(f"  {name:<10} {escape(d.answer)}{gain}", highlight=False)
    kind = pb.Pretraining.Name(rec.pretraining.kind).removeprefix("PRETRAINING_")
    console.print(
        f"  pretraining {kind.replace('_', '+').replace('NONE', 'none')}"
        + ("" if rec.pretraining.measured else " (unmeasured: from domain signals only)"),
        highlight=False,
    )
    for line in rec.excluded:
        console.print(f"  [yellow]set aside:[/yellow] {escape(line)}", highlight=False)


def render(rec: pb.Recommendation, console: Console) -> None:
    prof = rec.profile
    task = pb.TaskType.Name(prof.task).removeprefix("TASK_TYPE_").lower().replace("_", " ")
    console.print(
        Panel(
            f"[bold]{rec.headline}[/bold]",
            title=f"Recommendation: {_EMBEDDING[rec.embedding]}",
            border_style="green" if rec.anything_learned else "yellow",
        )
    )
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
        title=f"Pilots: {rec.metric} with 95% bootstrap intervals, trained on {first.num_train}, "
        f"scored on {first.num_eval} held-out examples"
    )
    sizes = max((p.curve for p in rec.pilots), key=len, default=[])
    curve = f"curve {sizes[0].size}..{sizes[-1].size}" if sizes else "curve"
    for col in ("arm", "score", "interval", curve, f"fit at {prof.num_train}", "examples/s"):
        table.add_column(col, justify="left" if col == "arm" else "right")
    for p in rec.pilots:
        table.add_row(
            _ARM_LABELS.get(p.arm, p.arm),
            f"{100 * p.score:.1f}",
            f"{100 * p.interval.low:.1f}-{100 * p.interval.high:.1f}",
            " ".join(f"{100 * c.score:.0f}" for c in p.curve) or "-",
            _extrapolated(p.at_full_size) if p.HasField("at_full_size") else "-",
            f"{p.examples_per_second:,.0f}" if p.examples_per_second else "-",
        )
    console.print(table)
    for p in rec.pilots:
        console.print(
            f"  {_ARM_LABELS.get(p.arm, p.arm)}: {escape(p.description)}", highlight=False
        )
    for note in rec.pilot_notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    if rec.HasField("choice"):
        _decisions(rec, console)
    console.print("Why:")
    for reason in rec.reasons:
        console.print(f"  - {reason}")


def run(
    dataset: Path,
    test: Path | None,
    server: str | None,
    as_json: bool,
    quiet: bool,
    data_dir: Path | None,
    advice_options: pb.AdviceOptions,
    report: Path | None = None,
) -> int:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=quiet,
    )
    bar = progress.add_task("starting the advisor", total=1.0)

    def moved(p: pb.Progress) -> None:
        progress.update(bar, completed=p.fraction, description=f"{p.stage}: {p.message}")

    try:
        with progress, connect(server, data_dir) as client:
            job_id = None
            try:
                progress.update(bar, description=f"uploading {dataset.name}")
                train = client.upload(dataset)
                test_info = client.upload(test) if test else None
                job = client.start_advice(
                    train.dataset_id, test_info.dataset_id if test_info else None, advice_options
                )
                job_id = job.job_id
                progress.update(bar, description=f"job {job_id[:8]} queued")
                rec = recommendation_of(client.wait(job_id, moved))
            except KeyboardInterrupt:
                # Still connected (an embedded server still up): stop the job, don't orphan it.
                if job_id is not None:
                    with contextlib.suppress(errors.AdvisorError):
                        client.cancel_job(job_id)
                    stderr.print(f"interrupted; job {job_id} was cancelled")
                else:
                    stderr.print("interrupted")
                return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        stderr.print("interrupted")
        return EXIT_INTERRUPTED
    except errors.InvalidArgumentError as exc:
        error(exc)
        return EXIT_INVALID
    except errors.AdvisorError as exc:
        error(exc)
        return EXIT_FAILED
    if as_json:
        sys.stdout.write(
            json_format.MessageToJson(
                rec, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
            )
            + "\n"
        )
    else:
        render(rec, Console())
    if report is not None:
        from .report import write_report

        try:
            written = write_report(rec, report, title=dataset.name)
        except OSError as exc:
            error(f"cannot write the report to {report}: {exc}")
            return EXIT_FAILED
        stderr.print(f"report written to {written[0]}")
    return 0


@app.command(help="Advise on embeddings for a labelled JSONL dataset.")
def advise(
    dataset: Annotated[
        Path, typer.Argument(help="JSONL training data (or all the data, with no --test)")
    ],
    test: Annotated[
        Path | None,
        typer.Option(help="separate JSONL test file; without it the advisor makes a seeded split"),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            envvar="ADVISOR_SERVER",
            help="HOST:PORT of an advisor service; without it an embedded one starts",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the recommendation as JSON on stdout")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
    encoder: Annotated[
        str | None, typer.Option(help="Hugging Face model directory (on the server)")
    ] = None,
    vectors: Annotated[
        str | None, typer.Option(help="word-vector file, GloVe or word2vec format (on the server)")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="seed for splits and subsamples [default: 0]")
    ] = None,
    test_fraction: Annotated[
        float | None,
        typer.Option(min=0.01, max=0.89, help="held-out share when no --test [default: 0.2]"),
    ] = None,
    max_train: Annotated[
        int | None,
        typer.Option(min=10, help="most training examples per pilot [default: server's, 2000]"),
    ] = None,
    max_eval: Annotated[
        int | None,
        typer.Option(min=10, help="most held-out examples per pilot [default: server's, 1000]"),
    ] = None,
    backend: Annotated[
        Backend | None,
        typer.Option(help="frozen-encoder runtime [default: server's, onnx-fp32]"),
    ] = None,
    budget: Annotated[
        BudgetName | None,
        typer.Option(
            help="pilot effort: learning-curve sizes, seeds, fine-tuning grid [default: server's, quick]"
        ),
    ] = None,
    budget_seconds: Annotated[
        float | None,
        typer.Option(min=1, help="wall-clock limit on the pilots; they shrink and skip to fit"),
    ] = None,
    target_size: Annotated[
        int | None,
        typer.Option(
            min=1, help="decide at this training size (the curves are extrapolated to it)"
        ),
    ] = None,
    priority: Annotated[
        PriorityName | None,
        typer.Option(
            help="accuracy: the best score; balanced / cost: the cheapest option within the "
            "tolerance of the best [default: balanced]"
        ),
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=100,
            help="metric points you would give up for cheaper inference "
            "[default: accuracy 0, balanced 1, cost 3]",
        ),
    ] = None,
    min_throughput: Annotated[
        float | None,
        typer.Option(min=0, help="advise only options at least this fast (examples/s, here)"),
    ] = None,
    max_latency_ms: Annotated[
        float | None,
        typer.Option(min=0, help="advise only options at most this slow (ms per example, here)"),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="also write a report: FILE.html (one self-contained page) or FILE.md "
            "(Markdown, plots in FILE_files/)"
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="embedded server's data folder [default: ~/.local/share/embedding-advisor]"
        ),
    ] = None,
) -> None:
    advice_options = options(
        encoder=encoder,
        vectors=vectors,
        seed=seed,
        test_fraction=test_fraction,
        max_train_examples=max_train,
        max_eval_examples=max_eval,
        feature_backend=backend.value if backend else None,
        budget=budget.value if budget else None,
        budget_seconds=budget_seconds,
        target_size=target_size,
        priority=priority.value if priority else None,
        tolerance_points=tolerance,
        min_examples_per_second=min_throughput,
        max_latency_ms=max_latency_ms,
    )
    for path in (dataset, test):
        if path is not None and not path.is_file():
            error(f"no such file: {path}")
            raise typer.Exit(EXIT_INVALID)
    raise typer.Exit(run(dataset, test, server, as_json, quiet, data_dir, advice_options, report))


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        try:
            from embedding_advisor_server.__main__ import main as serve
        except ImportError as exc:
            error(f"the server is not installed ({exc}): pip install 'embedding-advisor[server]'")
            sys.exit(EXIT_FAILED)
        sys.exit(serve(sys.argv[2:]))
    app()


if __name__ == "__main__":
    main()
