"""The advisor as a user runs it: the embedded server (a real gRPC server on a free loopback
port, as ``advise`` starts it), the sampled training file uploaded, the dataset's ``dev.jsonl``
as the test file when there is one (the test split is the sweep's alone), the advice asked for
at the sampled size, timed. The embedded server reads the ``ADVISOR_*`` variables as
``advise-server`` does; those that move a pipeline default (``overrides``) are part of the cached
advice's key, and a bad one stops the evaluation before any work (``settings.SettingsError``)."""

from __future__ import annotations

import enum
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from embedding_advisor import AdvisorClient, options
from embedding_advisor.v1 import advisor_pb2 as pb

from ..app import AdvisorServer
from ..core.config import PipelineDefaults
from ..settings import embedded

LOOPBACK = {"host": "127.0.0.1", "port": 0}  # the embedded server's address: a free port


def overrides(requested: dict[str, object] | None = None) -> dict[str, object]:
    """The pipeline defaults the environment (``ADVISOR_MAX_TRAIN_EXAMPLES=500``: a pool of 500)
    or the advice's ``requested`` options (``{"max_train_examples": 500}``, as ``--max-train``
    asks for it; they win, as a request's options win over the server's defaults) move, by field
    name, in the order ``PipelineDefaults`` declares them; empty under the defaults. Advice
    under another pool is another advice: neither served from the defaults' cache nor served to
    them, and the same whichever way the pool was asked for."""
    settings = embedded(**LOOPBACK)  # reading settings creates no folder
    moved = {}
    for name, spec in PipelineDefaults.model_fields.items():
        value = (requested or {}).get(name, getattr(settings, name))
        if value != spec.get_default(call_default_factory=True):
            moved[name] = value.value if isinstance(value, enum.Enum) else value
    return moved


class Advisor:
    """One embedded server for the whole evaluation (``with Advisor() as a: a.advise(...)``)."""

    def __enter__(self) -> Advisor:
        self._dir = tempfile.TemporaryDirectory(prefix="advise-eval-")
        settings = embedded(**LOOPBACK, data_dir=Path(self._dir.name))
        self._server = AdvisorServer(settings).__enter__()
        self._client = AdvisorClient(self._server.target).__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._client.__exit__(*exc)
        self._server.__exit__(*exc)
        self._dir.cleanup()

    def advise(
        self,
        train: Path,
        dev: Path | None,
        size: int,
        budget: str,
        seed: int,
        progress: Callable[[float, str], None] | None = None,
        max_train: int | None = None,
    ) -> dict:
        """The advice's claims on ``train`` for ``size`` examples, and the seconds it took;
        ``progress(fraction, message)`` hears the job's progress as the server reports it;
        ``max_train``: the pilots' pool (None: the server's default)."""
        t0 = time.perf_counter()
        asked = options(target_size=size, budget=budget, seed=seed, max_train_examples=max_train)
        rec = self._client.advise(
            train,
            test_path=dev,
            advice_options=asked,
            on_progress=(lambda p: progress(p.fraction, p.message)) if progress else None,
        )
        return claims(rec) | {"seconds": round(time.perf_counter() - t0, 1)}


def claims(rec: pb.Recommendation) -> dict:
    """What the advice claims: the pick and runner-up, confidence, each option's expected score
    and intervals (one run's, the mean's) at the decision size and how its pilot was judged, the
    pretraining answer; and, for the research's directions (``directions.py``), the task and the
    frozen encoder's gaps on the halves of each profile metric that the pilots measured. Each
    option also keeps its pilot curve (size, mean score, seeds per size): what a study of the
    extrapolation replays against the sweep without advising again."""
    pre = rec.pretraining
    curves = {p.arm: [[c.size, c.score, c.seeds] for c in p.curve] for p in rec.pilots}
    tapt = pre.tapt if pre.HasField("tapt") else None
    return {
        "task": pb.TaskType.Name(rec.profile.task).removeprefix("TASK_TYPE_").lower(),
        "halves": [
            {
                "metric": g.profile_metric,
                "versus": g.versus,
                "low": g.low.gap,
                "high": g.high.gap,
                "examples": [g.low.examples, g.high.examples],
            }
            for g in rec.bucketed_gaps
        ],
        "metric": rec.metric,
        "decision_size": rec.decision_size,
        "pick": rec.choice.arm if rec.HasField("choice") else "",
        "runner_up": rec.runner_up.arm if rec.HasField("runner_up") else "",
        "confidence": pb.Confidence.Name(rec.confidence).removeprefix("CONFIDENCE_").lower(),
        "pretraining": pb.Pretraining.Name(pre.kind).removeprefix("PRETRAINING_").lower(),
        "tapt_gain": [tapt.gain, tapt.gain_interval.low, tapt.gain_interval.high] if tapt else [],
        "pick_recipe": json.loads(rec.choice.recipe_config or "{}"),
        "options": [
            {
                "arm": o.arm,
                "label": o.label,
                "basis": o.basis,
                "convergence": o.convergence,
                "expected": o.expected.score,
                "interval": [o.expected.interval.low, o.expected.interval.high],
                "curve": curves.get(o.arm, []),
            }
            | _mean_interval(o.expected)
            for o in rec.options
        ],
    }


def _mean_interval(e: pb.Extrapolation) -> dict:
    """The interval of the expected score, where the advice has one (``{}``: it does not)."""
    if not e.HasField("mean_interval"):
        return {}
    return {"mean_interval": [e.mean_interval.low, e.mean_interval.high]}
