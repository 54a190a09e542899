"""One advice from the command line: connect (to a server, or an embedded one), upload, start,
watch with a progress bar, then print the advice and write the report."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from .. import errors, output
from ..client import AdvisorClient, recommendation_of
from ..v1 import advisor_pb2 as pb
from .checks import SERVER_INSTALL
from .progress import Mode, Reporter, reporter
from .render import render

EXIT_INVALID = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
CANCEL_SECONDS = 15.0  # what Ctrl-C waits for the server to stop the job

# No emoji codes: a label such as ":fire:" is printed as written, never as a picture.
# No wrapping: an error names a path whole on one line, for the logs and greps of pipelines.
stderr = Console(stderr=True, emoji=False, soft_wrap=True)


def error(message: object) -> None:
    stderr.print(f"[red]error:[/red] {escape(str(message))}", highlight=False)


@dataclass(frozen=True)
class Remote:
    """A server to connect to, and the credentials it asks for."""

    target: str
    token: str | None = None
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None


@contextlib.contextmanager
def connect(
    server: Remote | str | None, data_dir: Path | None, model_paths: tuple[str, ...] = ()
) -> Iterator[AdvisorClient]:
    """A client of ``server``, or of an embedded server on a free loopback port that may open
    the model paths the user named (``model_paths``: the embedded server's model roots)."""
    if server:
        remote = server if isinstance(server, Remote) else Remote(server)
        with AdvisorClient(
            remote.target,
            token=remote.token,
            tls_ca=remote.tls_ca,
            tls_cert=remote.tls_cert,
            tls_key=remote.tls_key,
        ) as client:
            client.wait_ready(timeout=10)
            yield client
        return
    try:
        from embedding_advisor_server.app import AdvisorServer
        from embedding_advisor_server.settings import SettingsError, embedded
    except ImportError as exc:
        raise errors.FailedPreconditionError(
            f"no --server given and the embedded server cannot start ({exc}); {SERVER_INSTALL}"
        ) from None
    overrides = {"host": "127.0.0.1", "port": 0}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    try:
        settings = embedded(**overrides)
    except SettingsError as exc:  # an ADVISOR_* variable the embedded server cannot take
        raise errors.InvalidArgumentError(f"the embedded server's settings: {exc}") from None
    # The user runs this server: what they named on the command line is theirs to open.
    settings.model_roots = [*settings.model_roots, *(Path(p) for p in model_paths if p)]
    with (
        AdvisorServer(settings) as embedded,
        AdvisorClient(embedded.target) as client,
    ):
        yield client


@dataclass(frozen=True)
class Tracking:
    """Where ``--mlflow`` logs the advice."""

    uri: str
    experiment: str


def run(
    dataset: Path,
    test: Path | None,
    server: Remote | str | None,
    as_json: bool,
    progress_mode: Mode,
    data_dir: Path | None,
    advice_options: pb.AdviceOptions,
    report: Path | None = None,
    corpus: Path | None = None,
    save_adapted: Path | None = None,
    tracking: Tracking | None = None,
) -> int:
    progress = reporter(progress_mode, stderr)

    def moved(p: pb.Progress) -> None:
        progress.update(p.stage, p.fraction, p.message)

    try:
        models = (advice_options.encoder, advice_options.vectors)
        with progress, connect(server, data_dir, models) as client:
            job_id = None
            try:
                job = _start(client, dataset, test, corpus, advice_options, progress)
                job_id = job.job_id
                progress.status(f"job {job_id} queued")
                rec = recommendation_of(_wait(client, job_id, moved))
                progress.done(f"job {job_id} succeeded")
                if save_adapted is not None:
                    _save_adapted(client, job_id, rec, save_adapted)
            except KeyboardInterrupt:
                # Still connected (an embedded server still up): stop the job, don't orphan it.
                if job_id is not None:
                    with contextlib.suppress(errors.AdvisorError):
                        client.cancel_job(job_id, timeout=CANCEL_SECONDS)
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
    inputs = {"train": dataset.name, "test": test.name if test else None}
    inputs["domain_corpus"] = corpus.name if corpus else None
    if as_json:
        sys.stdout.write(output.dumps(rec, inputs) + "\n")
    else:
        out = Console(emoji=False)
        out.soft_wrap = not out.is_terminal  # a log or a file: one line per line, never wrapped
        render(rec, out)
    if report is not None:
        from ..report import write_report

        try:
            written = write_report(rec, report, title=dataset.name)
        except OSError as exc:
            error(f"cannot write the report to {report}: {exc}")
            return EXIT_FAILED
        stderr.print(f"report written to {written[0]}")
    if tracking is not None:
        return _track(rec, inputs, tracking, written if report is not None else [])
    return 0


def _track(rec: pb.Recommendation, inputs: dict, tracking: Tracking, files: list[Path]) -> int:
    from ..tracking import log_advice

    try:
        run_id = log_advice(rec, inputs, tracking.uri, tracking.experiment, files)
    except Exception as exc:  # the store's own errors: unreachable, locked, refused
        error(f"cannot log to MLflow at {tracking.uri}: {type(exc).__name__}: {exc}")
        return EXIT_FAILED
    stderr.print(
        f"logged to MLflow: run {run_id} in experiment {tracking.experiment!r} ({tracking.uri})"
    )
    return 0


def _wait(client: AdvisorClient, job_id: str, moved) -> pb.Job:
    """Watch the job on a thread while this (the main) thread only waits: Ctrl-C then lands
    here, between waits, never inside gRPC's own locks, and the watch is ended by the job's
    cancellation rather than cut mid-call."""
    box: dict = {}

    def watch() -> None:
        try:
            box["job"] = client.wait(job_id, moved)
        except BaseException as exc:  # handed to the main thread
            box["error"] = exc

    worker = threading.Thread(target=watch, name="watch", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
    if "error" in box:
        raise box["error"]
    return box["job"]


def _start(client, dataset, test, corpus, advice_options, progress: Reporter) -> pb.Job:
    """Upload the files and start the job."""
    progress.status(f"uploading {dataset.name}")
    train = client.upload(dataset)
    if test:
        progress.status(f"uploading {test.name}")
    test_info = client.upload(test) if test else None
    if corpus is not None:
        progress.status(f"uploading {corpus.name}")
        advice_options.domain_corpus_id = client.upload_corpus(corpus).corpus_id
    job = client.start_advice(
        train.dataset_id, test_info.dataset_id if test_info else None, advice_options
    )
    return job


def _save_adapted(client: AdvisorClient, job_id: str, rec: pb.Recommendation, folder: Path):
    if not rec.pretraining.HasField("adapted_weights"):
        stderr.print(
            "no adapted weights to save: no continued-pretraining pilot ran (see the notes)"
        )
        return
    client.download_adapted(job_id, folder)
    kind = pb.Pretraining.Name(rec.pretraining.adapted_weights.kind).removeprefix("PRETRAINING_")
    stderr.print(
        f"adapted weights ({kind.replace('_', '+')}) saved to {folder}: use them with --encoder "
        f"{folder}"
    )
