"""``advise``: the command line over the client library.

``advise data.jsonl`` starts an embedded server in this process (needs the ``server`` extra) and
talks to it through the same client as ``--server HOST:PORT`` would. ``advise serve`` runs a server;
``advise eval DIR`` proves the advice on a folder of datasets (``embedding_advisor_server.evaluation``).
Exit codes: 0 success, 2 invalid input, 1 any other failure, 130 interrupted.
"""

from __future__ import annotations

import enum
import importlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .. import __version__
from ..advice_options import choices, options
from ..v1 import advisor_pb2 as pb
from .checks import SERVER_INSTALL, check_inputs
from .progress import Mode
from .session import EXIT_FAILED, EXIT_INVALID, Remote, Tracking, error, run

EPILOG = (
    "Other commands: advise serve [SETTINGS] runs the service (as advise-server; see "
    "advise-server --help); advise eval DIR checks the advice against full sweeps on a "
    "folder of datasets (see advise eval --help); advise schema prints the JSON Schema of "
    "--json's output.\n\n"
    "Environment: ADVISOR_SERVER, ADVISOR_TOKEN (as above); the embedded server reads the "
    "ADVISOR_* settings of advise-server (ADVISOR_DATA_DIR, ADVISOR_BUDGET, "
    "ADVISOR_MODEL_ROOTS, ...).\n\n"
    "Exit codes: 0 success; 1 failure (server unreachable, job failed, report not written); "
    "2 invalid input (bad file, option or setting), before any work; 130 interrupted (the job "
    "is cancelled)."
)

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def server_default(setting: str) -> str:
    """What help says of a default the server decides: the bundled server's value, read from its
    settings model (nothing is declared twice), and the environment variable that sets it."""
    env = f"ADVISOR_{setting.upper()}"
    try:
        from embedding_advisor_server.core.config import ServiceConfig
    except ImportError:  # a client-only install
        return f"the server's, {env}"
    value = ServiceConfig.model_fields[setting].default
    value = str(getattr(value, "value", value)).replace("_", "-")
    return f"the server's: {value}, {env}"


def default_data_dir() -> str:
    try:
        from embedding_advisor_server.core.config import default_data_dir as folder
    except ImportError:
        return "the embedded server's"
    return str(folder())


def _print_version(value: bool) -> None:
    if value:
        print(f"advise {__version__}")
        raise typer.Exit(0)


# The CLI's choices come from the proto's enums, so the two cannot drift apart.
Backend = enum.Enum(
    "Backend", {c: c for c in choices(pb.FeatureBackend)}, type=str
)
BudgetName = enum.Enum("BudgetName", {c: c for c in choices(pb.Budget)}, type=str)
PriorityName = enum.Enum(
    "PriorityName", {c: c for c in choices(pb.Priority)}, type=str
)
PrecisionName = enum.Enum(
    "PrecisionName", {c: c for c in choices(pb.Precision)}, type=str
)


@app.command(help="Advise on embeddings for a labelled JSONL dataset.", epilog=EPILOG)
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
    token: Annotated[
        str | None,
        typer.Option(
            envvar="ADVISOR_TOKEN",
            help="bearer token for a --server that asks for one (sent only over TLS or to "
            "this machine)",
            show_default=False,
        ),
    ] = None,
    tls_ca: Annotated[
        Path | None,
        typer.Option(help="CA bundle (PEM) of the --server's certificate: connect over TLS"),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="client certificate (PEM), for mutual TLS")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="client private key (PEM)")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", metavar="", help="print the recommendation as JSON on stdout")
    ] = False,
    progress: Annotated[
        Mode,
        typer.Option(
            help="progress on stderr: a bar on a terminal and plain lines elsewhere (auto), or "
            "one JSON object per event (json), or none",
            case_sensitive=False,
        ),
    ] = Mode.auto,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", metavar="", help="no progress: --progress none")] = False,
    encoder: Annotated[
        str | None, typer.Option(help="Hugging Face model directory (on the server)")
    ] = None,
    vectors: Annotated[
        str | None, typer.Option(help="word-vector file, GloVe or word2vec format (on the server)")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="seed for splits and subsamples", show_default="0")
    ] = None,
    test_fraction: Annotated[
        float | None,
        typer.Option(min=0.01, max=0.89, help="held-out share when no --test", show_default="0.2"),
    ] = None,
    max_train: Annotated[
        int | None,
        typer.Option(
            min=10,
            help="most training examples per pilot",
            show_default=server_default("max_train_examples"),
        ),
    ] = None,
    max_eval: Annotated[
        int | None,
        typer.Option(
            min=10,
            help="most held-out examples per pilot",
            show_default=server_default("max_eval_examples"),
        ),
    ] = None,
    cross_fit: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="with no --test: examples the pilots score at least, cross-fitting the "
            "contested options on further folds of the training file (each fold one more "
            "training of each; 0: none)",
            show_default=server_default("cross_fit_examples"),
        ),
    ] = None,
    backend: Annotated[
        Backend | None,
        typer.Option(help="frozen-encoder runtime", show_default=server_default("feature_backend")),
    ] = None,
    budget: Annotated[
        BudgetName | None,
        typer.Option(
            help="pilot effort: learning-curve sizes, seeds, fine-tuning grid",
            show_default=server_default("budget"),
        ),
    ] = None,
    precision: Annotated[
        PrecisionName | None,
        typer.Option(
            help="what torch computes in: auto (bf16 where the hardware has fast bf16 units), "
            "fp32 or bf16",
            show_default=server_default("precision"),
        ),
    ] = None,
    transductive: Annotated[
        bool,
        typer.Option(
            "--transductive",
            metavar="",
            help="let task-adaptive pretraining read the held-out examples' texts too (never "
            "their labels); off: only the training texts",
        ),
    ] = False,
    domain_corpus: Annotated[
        Path | None,
        typer.Option(
            help="unlabeled text of your domain (one document per line, or JSONL with a text "
            "field; gzip accepted): the pilots also measure domain-adaptive pretraining on a "
            "sample of it"
        ),
    ] = None,
    save_adapted: Annotated[
        Path | None,
        typer.Option(
            help="save the continued-pretraining pilot's adapted encoder here (a new or empty "
            "folder; Hugging Face format, usable with --encoder)"
        ),
    ] = None,
    budget_seconds: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="wall-clock limit on the whole job (loading included): the pilots shrink, skip "
            "and stop to fit, and the advice names what it could not afford",
        ),
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
            "tolerance of the best in at least 70% of the paired replicates",
            show_default="balanced",
        ),
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=100,
            help="metric points you would give up for cheaper inference",
            show_default="accuracy 0, balanced 1, cost 3",
        ),
    ] = None,
    min_throughput: Annotated[
        float | None,
        typer.Option(min=0, help="advise only options at least this fast (examples/s, here)"),
    ] = None,
    max_latency_ms: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="advise only options whose one request (an example alone) takes at most this "
            "many ms at the 95th percentile, measured here",
        ),
    ] = None,
    inference_volume: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="examples the deployment will score: training time is weighed against "
            "inference time for this many (default one million)",
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="also write a report: FILE.html (one self-contained page) or FILE.md "
            "(Markdown, plots in FILE_files/)"
        ),
    ] = None,
    mlflow: Annotated[
        bool,
        typer.Option(
            "--mlflow",
            metavar="",
            help="log the advice to MLflow: options as params, each option's expected score and "
            "interval as metrics, the pick as tags, the JSON and the report as artifacts",
        ),
    ] = False,
    mlflow_uri: Annotated[
        str | None,
        typer.Option(
            help="MLflow tracking URI for --mlflow",
            show_default="MLFLOW_TRACKING_URI, else sqlite:///mlflow.db here",
        ),
    ] = None,
    mlflow_experiment: Annotated[
        str, typer.Option(help="MLflow experiment for --mlflow")
    ] = "embedding-advice",
    data_dir: Annotated[
        Path | None,
        typer.Option(help="embedded server's data folder", show_default=default_data_dir()),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", metavar="", is_eager=True, callback=_print_version, help="print the version and exit"
        ),
    ] = False,
) -> None:
    advice_options = options(
        encoder=encoder,
        vectors=vectors,
        seed=seed,
        test_fraction=test_fraction,
        max_train_examples=max_train,
        max_eval_examples=max_eval,
        cross_fit_examples=cross_fit,
        feature_backend=backend.value if backend else None,
        budget=budget.value if budget else None,
        precision=precision.value if precision else None,
        transductive=transductive,
        budget_seconds=budget_seconds,
        target_size=target_size,
        priority=priority.value if priority else None,
        tolerance_points=tolerance,
        min_examples_per_second=min_throughput,
        max_latency_ms=max_latency_ms,
        inference_volume=inference_volume,
    )
    problem = check_inputs(
        files=(dataset, test, domain_corpus, tls_ca, tls_cert, tls_key),
        save_adapted=save_adapted,
        report=report,
        mlflow=mlflow,
    )
    if problem:
        error(problem)
        raise typer.Exit(EXIT_INVALID)
    remote = Remote(server, token, tls_ca, tls_cert, tls_key) if server else None
    raise typer.Exit(
        run(
            dataset,
            test,
            remote,
            as_json,
            Mode.none if quiet else progress,
            data_dir,
            advice_options,
            report,
            corpus=domain_corpus,
            save_adapted=save_adapted,
            tracking=_tracking(mlflow, mlflow_uri, mlflow_experiment),
        )
    )


def _tracking(on: bool, uri: str | None, experiment: str) -> Tracking | None:
    if not on:
        return None
    from ..tracking import default_uri

    return Tracking(uri or default_uri(), experiment)


def main() -> None:
    if sys.argv[1:] == ["schema"]:
        from .. import output

        print(json.dumps(output.schema(), indent=2, ensure_ascii=False))
        sys.exit(0)
    # Commands the server package runs: its module, and what to say when it is not installed.
    served = {
        "eval": (
            "embedding_advisor_server.evaluation.__main__",
            "advise eval runs locally and needs the server, which is not installed",
        ),
        "serve": ("embedding_advisor_server.__main__", "the server is not installed"),
    }
    if sys.argv[1:2] and sys.argv[1] in served:
        module, why = served[sys.argv[1]]
        try:
            command = importlib.import_module(module).main
        except ImportError as exc:
            error(f"{why} ({exc}): {SERVER_INSTALL}")
            sys.exit(EXIT_FAILED)
        sys.exit(command(sys.argv[2:]))
    app()


if __name__ == "__main__":
    main()
