"""Logging an advice to MLflow (``advise --mlflow``): one run per advice, with

- params: the options as the server resolved them, the input files' names and digests, the
  versions;
- metrics: each option's expected score at the decision size and its 95% interval
  (``expected.<arm>``, ``expected.<arm>.low`` / ``.high``), its throughput, and the pick's;
- tags: the pick (arm and label), the three answers, the confidence, the metric;
- artifacts: the advice as JSON (``advice.json``, the document ``--json`` prints) and the report
  when one was written.

The default store is a SQLite file in the current folder (``sqlite:///mlflow.db``, artifacts in
``mlartifacts/`` beside it), or whatever ``MLFLOW_TRACKING_URI`` names."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .output import document
from .v1 import advisor_pb2 as pb

DEFAULT_URI = "sqlite:///mlflow.db"
EXPERIMENT = "embedding-advice"


def default_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


def _flat(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flat(f"{prefix}.{key}" if prefix else key, item, out)
    elif value not in (None, "", [], {}):
        out[prefix] = str(value)[:500]  # MLflow caps a param's value


def _artifact_root(uri: str) -> str | None:
    """For a SQLite store, artifacts beside the database file (not in the current folder)."""
    if uri.startswith("sqlite:///"):
        db = Path(uri.removeprefix("sqlite:///"))
        return (db.parent.resolve() / "mlartifacts").as_uri()
    return None


def log_advice(
    rec: pb.Recommendation,
    inputs: dict[str, str | None],
    uri: str | None = None,
    experiment: str = EXPERIMENT,
    report_files: list[Path] | None = None,
    run_name: str | None = None,
) -> str:
    """Log ``rec`` as one MLflow run; returns the run's id."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    uri = uri or default_uri()
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = (
        found.experiment_id
        if found
        else client.create_experiment(experiment, artifact_location=_artifact_root(uri))
    )
    doc = document(rec, inputs)
    params: dict[str, str] = {}
    _flat("options", doc["run"].get("options") or {}, params)
    _flat("inputs", doc["run"]["inputs"], params)
    params["dataset_sha256"] = rec.run.dataset_id
    params["server_version"] = rec.run.server_version
    params["client_version"] = doc["run"]["client_version"]
    metrics: dict[str, float] = {}
    for o in doc["options"]:
        e = o["expected"] or {}
        for key, value in (
            (f"expected.{o['arm']}", e.get("score")),
            (f"expected.{o['arm']}.low", (e.get("interval") or {}).get("low")),
            (f"expected.{o['arm']}.high", (e.get("interval") or {}).get("high")),
            (f"expected.{o['arm']}.mean_low", (e.get("mean_interval") or {}).get("low")),
            (f"expected.{o['arm']}.mean_high", (e.get("mean_interval") or {}).get("high")),
            (f"examples_per_second.{o['arm']}", o["examples_per_second"]),
        ):
            if value is not None:
                metrics[key] = float(value)
    choice = doc["choice"]
    if choice and choice["expected"]:
        metrics["chosen.expected"] = float(choice["expected"]["score"])
    tags = {
        "mlflow.note.content": rec.headline,
        "pick": choice["arm"] if choice else "none",
        "pick.label": choice["label"] if choice else "nothing is advised",
        "embedding": doc["embedding"] or "none",
        "adaptation": (doc["adaptation_decision"] or {}).get("answer") or "none",
        "pretraining": (doc["pretraining"] or {}).get("kind") or "none",
        "confidence": doc["confidence"] or "none",
        "metric": rec.metric,
        "decision_size": str(rec.decision_size),
    }
    run = client.create_run(experiment_id, run_name=run_name or inputs.get("train") or None)
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    try:
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        client.log_text(run_id, json.dumps(doc, indent=2, ensure_ascii=False), "advice.json")
        for path in report_files or []:
            folder = "report" if path.suffix in {".html", ".htm", ".md"} else "report/files"
            client.log_artifact(run_id, str(path), folder)
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return run_id
