"""Shared fixtures: a real advisor server on a free loopback port, real models, a real SQLite file."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "movie_reviews.jsonl"
# Every arm an advice reports, baseline included.
ARMS = {
    "majority",
    "static_logreg",
    "encoder_frozen_logreg",
    "static_bilstm",
    "random_bilstm",
    "encoder_frozen_bilstm",
    "encoder_finetuned",
}
SHARED = Path(os.environ.get("ADVISOR_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory) -> Path:
    """One cache (the warmed-up MLM head) for every server of the session, subprocesses included:
    the first profile pays the warm-up, as on a fresh install, and nothing lands in ~/.cache."""
    folder = tmp_path_factory.mktemp("advisor-cache")
    os.environ["ADVISOR_CACHE_DIR"] = str(folder)
    # Servers started as subprocesses (the CLI's embedded one, restart tests) default to the
    # quick pilot budget, as the in-process test server does: the suite stays fast.
    os.environ["ADVISOR_BUDGET"] = "quick"
    return folder


def read_jsonl(path: Path, limit: int | None = None, seed: int | None = None) -> list[dict]:
    text = path.read_text(encoding="utf-8")  # split on \n only: texts may hold U+2028 and the like
    rows = [json.loads(line) for line in text.split("\n") if line.strip()]
    if seed is not None:
        random.Random(seed).shuffle(rows)
    return rows[:limit] if limit else rows


def write_jsonl(path: Path, rows: list) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def shared(name: str) -> Path:
    folder = SHARED / name
    if not folder.is_dir():
        pytest.skip(f"shared dataset {name} not found under {SHARED}")
    return folder


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    from embedding_advisor_server.app import AdvisorServer
    from embedding_advisor_server.settings import ServerSettings

    settings = ServerSettings(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path_factory.mktemp("advisor-data"),
        workers=1,
        max_train_examples=400,
        max_eval_examples=200,
        budget="quick",
    )
    srv = AdvisorServer(settings)
    srv.start()
    yield srv
    srv.stop(grace=1)


@pytest.fixture()
def client(server):
    from embedding_advisor import AdvisorClient

    with AdvisorClient(server.target, timeout=300) as c:
        yield c


@pytest.fixture(scope="session")
def reviews_job(server, tmp_path_factory):
    """One advice on the 300 reviews (``reviews``: 240 train, 60 held out) with the default
    options and ``--target-size 5000`` (beyond the pool: every curve is extrapolated), watched
    from its start: the job as started and every event. Several tests read it: an advice run
    costs minutes."""
    from embedding_advisor import AdvisorClient, options

    folder = tmp_path_factory.mktemp("reviews")
    path = write_jsonl(folder / "reviews.jsonl", read_jsonl(EXAMPLE, 300))
    with AdvisorClient(server.target, timeout=300) as c:
        info = c.upload(path)
        job = c.start_advice(info.dataset_id, advice_options=options(seed=0, target_size=5000))
        events = list(c.watch(job.job_id))
    return job, events


@pytest.fixture(scope="session")
def reviews_advice(reviews_job):
    """The recommendation that ``reviews_job`` ended with (it must have succeeded)."""
    from embedding_advisor.v1 import advisor_pb2 as pb

    final = reviews_job[1][-1].job
    assert final.state == pb.JOB_STATE_SUCCEEDED, final.error
    return final.recommendation


@pytest.fixture()
def reviews(tmp_path) -> Path:
    """300 real movie-review snippets from the shipped example."""
    return write_jsonl(tmp_path / "reviews.jsonl", read_jsonl(EXAMPLE, 300))


@pytest.fixture()
def small_reviews(tmp_path) -> Path:
    """150 real movie-review snippets (120 train, 30 held out): for plumbing, not science."""
    return write_jsonl(tmp_path / "small-reviews.jsonl", read_jsonl(EXAMPLE, 150))


@pytest.fixture()
def pairs(tmp_path) -> Path:
    """150 real MRPC sentence pairs."""
    return write_jsonl(tmp_path / "mrpc.jsonl", read_jsonl(shared("mrpc") / "train.jsonl", 150))


@pytest.fixture()
def tagging(tmp_path) -> Path:
    """200 real WNUT-16 tweets with BIO tags."""
    return write_jsonl(tmp_path / "wnut.jsonl", read_jsonl(shared("wnut16") / "train.jsonl", 200))
