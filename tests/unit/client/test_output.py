"""``advise --json`` as pipelines read it: null for undefined numbers, numbers for 64-bit integers,
the CLI's words for enums, every field present, and the shipped schema true of real output."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import jsonschema
import pytest
from test_report import rec  # noqa: F401  (the fixture: a recommendation from the real rule)

from conftest import ROOT
from embedding_advisor import __version__, output
from embedding_advisor.v1 import advisor_pb2 as pb


def test_undefined_numbers_are_null_and_a_label_spelled_nan_stays_a_string():
    profile = pb.DatasetProfile(
        labels=[pb.LabelCount(label="NaN", train_count=3)], ambiguity_mean=math.nan
    )
    profile.examples.complexity.extend([0.123456789, math.nan, math.inf])
    doc = output.as_dict(profile)
    assert doc["labels"][0]["label"] == "NaN" and doc["ambiguity_mean"] is None
    assert doc["examples"]["complexity"] == [0.123457, None, None]
    assert doc["domain"] is None  # an unset message is null, not left out
    assert doc["task"] is None  # the unset enum value
    json.dumps(doc, allow_nan=False)  # strictly valid JSON


def test_enums_are_the_cli_words_and_big_integers_are_numbers():
    opts = pb.AdviceOptions(
        feature_backend=pb.FEATURE_BACKEND_ONNX_FP32, budget=pb.BUDGET_THOROUGH, seed=7
    )
    doc = output.as_dict(opts)
    assert doc["feature_backend"] == "onnx-fp32" and doc["budget"] == "thorough"
    assert doc["seed"] == 7 and doc["tolerance_points"] is None  # optional and unset
    weights = output.as_dict(pb.AdaptedWeights(kind=pb.PRETRAINING_DAPT_TAPT, size_bytes=2**40))
    assert weights == {"kind": "dapt-tapt", "files": [], "size_bytes": 2**40}
    job = output.as_dict(pb.Job(job_id="j", state=pb.JOB_STATE_SUCCEEDED))
    assert job["state"] == "succeeded" and job["create_time"] is None


def test_the_document_carries_version_inputs_and_validates(rec):  # noqa: F811
    rec = pb.Recommendation.FromString(rec.SerializeToString())
    rec.run.server_version = "9.9.9"
    rec.run.options.seed = 4
    doc = output.document(rec, {"train": "train.jsonl", "test": None})
    assert doc["schema_version"] == output.SCHEMA_VERSION
    assert doc["run"]["client_version"] == __version__ and doc["run"]["server_version"] == "9.9.9"
    assert doc["run"]["inputs"] == {"train": "train.jsonl", "test": None}
    assert doc["confidence"] in {"low", "medium", "high"}
    assert doc["choice"]["embedding"] == doc["embedding"]
    jsonschema.validate(doc, output.schema())
    assert json.loads(output.dumps(rec)) == output.document(rec)
    broken = {**doc, "confidence": "CONFIDENCE_HIGH"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, output.schema())


def test_the_shipped_schema_is_what_the_protocol_generates():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "json_schema.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    described = output.schema()["$defs"]["Option"]["properties"]["basis"]
    assert "measured" in described["description"]  # the proto's comment, carried over
