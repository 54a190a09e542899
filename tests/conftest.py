"""Shared fixtures: a real advisor server on a free loopback port, real models, a real SQLite file;
for the unit tier, small seeded stand-ins (a tiny BERT, a few word vectors).

Tiers by folder, each with its marker: ``unit/`` (no server, no real model heavier than a
tokenizer; ``make test-fast``), ``integration/`` (real models, a real server in-process),
``e2e/`` (the CLI and the server as subprocesses)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import pytest

from embedding_advisor_server.core.pilots import arms as registry

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "movie_reviews.jsonl"
# Every arm an advice reports, baseline included: the registry's options (the TAPT arm is
# evidence for the pretraining question, reported there).
ARMS = {spec.id for spec in registry.ARMS if spec.schedule != "tapt"}
TIERS = ("unit", "integration", "e2e")
SHARED = Path(os.environ.get("ADVISOR_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))


def pytest_collection_modifyitems(config, items):
    """Mark each test with its tier, from the folder it lives in."""
    for item in items:
        parts = Path(item.fspath).relative_to(ROOT / "tests").parts
        if parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))


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
        pytest.fail(
            f"shared dataset {name} not found under {SHARED}: the tests need ../shared/datasets"
        )
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
        # No cross-fitting unless a test asks for it (``reviews_job``): each fold is one more
        # training of every contested option, and the tests' small files would all take them.
        cross_fit_examples=0,
        # The tests' own model folders and files live under the session's temporary folder.
        model_roots=[tmp_path_factory.getbasetemp()],
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
    options, cross-fitted until 500 examples are scored (the test server's default is not to),
    ``--target-size 5000`` (beyond the pool: every curve is extrapolated) and a domain corpus
    (the example's next 1,000 reviews as gzip-compressed text, labels dropped), watched from its
    start: the job as started and every event. Several tests read it: an advice run costs
    minutes."""
    import gzip

    from embedding_advisor import AdvisorClient, options

    folder = tmp_path_factory.mktemp("reviews")
    rows = read_jsonl(EXAMPLE, 1300)
    path = write_jsonl(folder / "reviews.jsonl", rows[:300])
    corpus = folder / "more-reviews.txt.gz"
    corpus.write_bytes(gzip.compress("".join(r["text"] + "\n" for r in rows[300:]).encode()))
    with AdvisorClient(server.target, timeout=300) as c:
        info = c.upload(path)
        domain = c.upload_corpus(corpus)
        job = c.start_advice(
            info.dataset_id,
            advice_options=options(
                seed=0,
                target_size=5000,
                domain_corpus_id=domain.corpus_id,
                cross_fit_examples=500,  # the product's default (the test server's is off)
            ),
        )
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


# --- stand-ins for the unit tier ----------------------------------------------------------

WORDS = (
    "the a film movie plot was is and great wonderful superb awful terrible dull boring "
    "lovely meal trip book show overall very not"
).split()


def tiny_bert(folder: Path, model_class=None, layers: int = 2) -> Path:
    """Save a 32-wide BERT with seeded random weights (``model_class``: ``BertModel`` by
    default, ``BertForMaskedLM`` for one with its own head) and the bundled tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from embedding_advisor_server.core.backends.bundled import default_encoder_path

    tokenizer = AutoTokenizer.from_pretrained(default_encoder_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    (model_class or BertModel)(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def arm_run(
    arm: str,
    embedding,
    description: str,
    evaluation,
    num_train: int,
    num_eval: int,
    featurize_seconds: float = 0.0,
    train_seconds: float = 0.0,
    examples_per_second: float = 0.0,
    **kw,
):
    """A registered arm's run (its identity from the registry; encoder "MiniLM", vectors
    "GloVe") with these measurements: synthetic evidence for the decision and the report."""
    return registry.new_run(
        arm,
        encoder="MiniLM",
        vectors="GloVe",
        embedding=embedding,
        description=description,
        evaluation=evaluation,
        num_train=num_train,
        num_eval=num_eval,
        featurize_seconds=featurize_seconds,
        train_seconds=train_seconds,
        examples_per_second=examples_per_second,
        **kw,
    )


def text_profile(num_train: int, num_test: int, words: float = 10.0, **fields):
    """A text-classification profile with the given sizes (synthetic evidence)."""
    from embedding_advisor_server.core.schema import DatasetProfile, LengthStats, TaskType

    return DatasetProfile(
        task=TaskType.TEXT_CLASSIFICATION,
        num_train=num_train,
        num_test=num_test,
        test_split_made=True,
        labels=[],
        imbalance_ratio=1.0,
        length_words=LengthStats(mean=words, median=words, p95=2 * words, max=int(3 * words)),
        vectors_oov_rate=0.02,
        vectors_oov_type_rate=0.1,
        vectors_name="GloVe",
        **fields,
    )


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory):
    """A 2-layer, 32-wide BERT with random (seeded) weights and the bundled tokenizer."""
    return tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_encoder(tiny_encoder_dir):
    from embedding_advisor_server.core.backends.torch_encoder import Encoder

    return Encoder(tiny_encoder_dir)


@pytest.fixture(scope="session")
def toy_vectors():
    """8-dimensional seeded vectors for a small vocabulary (other words are unknown)."""
    from embedding_advisor_server.core.backends.vectors import StaticVectors

    matrix = np.random.default_rng(0).standard_normal((len(WORDS), 8)).astype(np.float32)
    return StaticVectors("toy vectors", list(WORDS), matrix)


# A fine-tuning head's recipe as the head hands it over (``FineTuneHead``): synthetic evidence.
FINETUNE_RECIPE = {
    "head": "fine-tuned encoder, linear layer on the mean-pooled states",
    "encoder": "MiniLM",
    "learning_rate": 1e-4,
    "learning_rates_tried": [1e-4],
    "schedule_steps": 400,
    "min_epochs": 2,
    "max_epochs": 10,
    "early_stopping_patience": 2,
    "pilot_epochs": 4,
    "batch_size": 16,
    "small_batch": 8,
    "max_length": 128,
    "optimizer": "AdamW, weight decay 0.01, gradient clipping 1.0",
    "schedule": "linear warm-up over 6% of the steps, then linear decay to 0 at max_epochs",
    "dev_fraction": 0.15,
    "precision": "bf16",
}
