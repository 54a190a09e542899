"""The shipped pipeline step (``examples/pipeline.py``) as a pipeline runs it, against a real
server, logging to a real MLflow store (SQLite) with ``--mlflow``."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, write_jsonl

PIPELINE = [sys.executable, str(ROOT / "examples" / "pipeline.py")]


def test_the_pipeline_step_advises_hands_on_the_answer_and_logs_to_mlflow(
    server, small_reviews, tmp_path
):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    (tmp_path / "store").mkdir()
    result = subprocess.run(
        [*PIPELINE, str(small_reviews), "--out", str(tmp_path / "out"), "--",
         "--server", server.target, "--max-train", "100", "--budget", "quick",
         "--report", str(tmp_path / "out" / "advice.html"),
         "--mlflow", "--mlflow-uri", uri, "--mlflow-experiment", "ci"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "advisor [" in result.stderr and "pilot" in result.stderr  # progress, forwarded
    advice = json.loads((tmp_path / "out" / "advice.json").read_text())
    env = dict(
        line.split("=", 1) for line in (tmp_path / "out" / "choice.env").read_text().splitlines()
    )
    assert json.loads(env["EMBEDDING"]) == (advice["embedding"] or "none")
    assert json.loads(env["CONFIDENCE"]) == (advice["confidence"] or "none")

    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("ci").experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == small_reviews.name
    assert run.data.params["options.budget"] == "quick"
    assert run.data.params["options.max_train_examples"] == "100"
    assert run.data.params["dataset_sha256"] == advice["run"]["dataset_id"]
    for option in advice["options"]:
        expected = option["expected"]
        assert abs(run.data.metrics[f"expected.{option['arm']}"] - expected["score"]) < 1e-6
        assert run.data.metrics[f"expected.{option['arm']}.low"] <= expected["score"]
    assert run.data.tags["pick"] == (advice["choice"] or {}).get("arm", "none")
    assert run.data.tags["confidence"] == (advice["confidence"] or "none")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"advice.json", "report"}
    assert [a.path for a in client.list_artifacts(run.info.run_id, "report")] == [
        "report/advice.html"
    ]
    # Artifacts sit beside the database, not in whatever folder the step ran in.
    assert (tmp_path / "store" / "mlartifacts").is_dir() and not (tmp_path / "mlruns").exists()


def test_the_pipeline_step_passes_on_advise_exit_code_for_bad_input(server, tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"text": "no label"}])
    result = subprocess.run(
        [*PIPELINE, str(bad), "--out", str(tmp_path / "out"), "--", "--server", server.target],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and "advise exited 2 (invalid input)" in result.stderr
    assert "bad.jsonl:1:label" in result.stderr and not (tmp_path / "out").exists()
