"""The evaluation's datasets and cache: a folder of dataset folders checked before any work,
sizes and seeded samples written as files, and a cache that survives a torn last line."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from embedding_advisor.errors import InvalidDatasetError
from embedding_advisor_server.core.pilots.arms import (
    ENCODER_FINETUNED,
    ENCODER_FROZEN,
    RANDOM,
    STATIC,
)
from embedding_advisor_server.core.pilots.plan import Plan
from embedding_advisor_server.core.pilots.sweep import SWEPT, TAPT, recipe_of
from embedding_advisor_server.core.schema import Budget
from embedding_advisor_server.evaluation.cache import Cache, key
from embedding_advisor_server.evaluation.collection import FULL, CollectionError, collect


def _write(folder, n, start=0, bad_line=None):
    folder.mkdir(parents=True)
    for split, size in (("train", n), ("test", 20)):
        rows = [
            json.dumps(
                {"text": f"example {i} is {'good' if i % 2 else 'bad'}", "label": str(i % 2)}
            )
            for i in range(start, start + size)
        ]
        if bad_line is not None and split == "train":
            rows[bad_line - 1] = '{"text": "no label"}'
        (folder / f"{split}.jsonl").write_text("\n".join(rows) + "\n")


def test_every_dataset_folder_is_collected_and_sampled_to_a_file(tmp_path):
    _write(tmp_path / "one", 100)
    _write(tmp_path / "two", 40)
    (tmp_path / "notes").mkdir()  # no train.jsonl: not a dataset
    got = collect(tmp_path)
    assert [c.name for c in got] == ["one", "two"] and got[0].metric == "accuracy"
    one = got[0]
    assert one.sizes([50, 2000, FULL], 0) == [50, 100]  # 2,000 is more than it has
    assert one.sizes([50, FULL], 80) == [50, 80]  # the cap bounds the whole split
    sample, path = one.sample(50, 0, tmp_path / "samples")
    lines = path.read_text().splitlines()
    assert len(sample) == 50 == len(lines)
    assert [json.loads(x)["text"] for x in lines] == [x[0] for x in sample.inputs]
    again, same = one.sample(50, 0, tmp_path / "samples")
    assert same == path and again.inputs == sample.inputs  # seeded: the same sample


def test_a_bad_file_is_named_with_its_line_before_any_work(tmp_path):
    _write(tmp_path / "good", 30)
    _write(tmp_path / "broken", 30, bad_line=7)
    with pytest.raises(InvalidDatasetError) as err:
        collect(tmp_path)
    assert "broken/train.jsonl:7:label: is missing" in str(err.value)
    with pytest.raises(CollectionError, match="not a folder"):
        collect(tmp_path / "good" / "train.jsonl")
    (tmp_path / "good" / "test.jsonl").unlink()
    with pytest.raises(CollectionError, match="test.jsonl: missing"):
        collect(tmp_path, ["good"])
    with pytest.raises(CollectionError, match="named nowhere"):
        collect(tmp_path, ["nowhere"])


def test_the_cache_keeps_finished_measurements_and_skips_a_torn_line(tmp_path):
    cache = Cache(tmp_path)
    k = key("sweep", "digest", 500, "static_bilstm", 0)
    assert (
        k == key("sweep", "digest", 500, "static_bilstm", 0) != key("sweep", "digest", 500, "x", 0)
    )
    cache.put("sweep", k, {"score": 0.8})
    with open(tmp_path / "sweep.jsonl", "a") as fh:
        fh.write('{"key": "torn", "val')  # killed mid-write
    again = Cache(tmp_path)
    assert again.get("sweep", k) == {"score": 0.8} and again.get("sweep", "torn") is None


def test_a_sweep_run_is_keyed_by_its_own_heads_recipe():
    """A change to the BiLSTM's recipe re-runs the BiLSTM options and nothing else."""
    plan = Plan.of(Budget.THOROUGH)
    changed = replace(plan, bilstm=replace(plan.bilstm, patience=plan.bilstm.patience + 1))
    moved = {s.id for s in (*SWEPT, TAPT) if recipe_of(s, plan) != recipe_of(s, changed)}
    assert moved == {STATIC, RANDOM, ENCODER_FROZEN}
    tuned = replace(plan, finetune=replace(plan.finetune, max_epochs=plan.finetune.max_epochs + 1))
    moved = {s.id for s in (*SWEPT, TAPT) if recipe_of(s, plan) != recipe_of(s, tuned)}
    assert moved == {ENCODER_FINETUNED, TAPT.id}
