"""One conformance suite over every registered arm (scikit-learn's ``test_common`` idea): on each
task, every arm featurises, fits, predicts one label (tag sequence) per held-out example from the
training labels, describes and names itself, repeats itself under the same seed, and stops when
cancelled. A tiny seeded BERT stands in for the encoder: the subject is the arm contract."""

from __future__ import annotations

import json

import numpy as np
import pytest
from synthetic import TASKS

from embedding_advisor_server.core.evidence.convergence import (
    CONVERGED,
    CONVEX,
    EXTRAPOLATED,
    UNJUDGED,
)
from embedding_advisor_server.core.evidence.metrics import ACCURACY, ENTITY_F1
from embedding_advisor_server.core.pilots.arms import ARMS, BY_ID, arm
from embedding_advisor_server.core.pilots.heads.bilstm import BiLSTMRecipe
from embedding_advisor_server.core.pilots.heads.finetune import FineTuneRecipe
from embedding_advisor_server.core.pilots.plan import Plan
from embedding_advisor_server.core.pilots.runner import _Pilots
from embedding_advisor_server.core.progress import no_check, no_report
from embedding_advisor_server.core.schema import Adaptation, Embedding

SOURCES = {"encoder", "static", "random", "inputs", ""}
PLAN = Plan(
    2,
    1,
    finetune=FineTuneRecipe((1e-3,), max_epochs=1),
    bilstm=BiLSTMRecipe(hidden=16, max_epochs=4, patience=2),
)


def test_the_registry_names_each_arm_once_and_completely():
    assert len({spec.id for spec in ARMS}) == len(ARMS) and set(BY_ID) == {s.id for s in ARMS}
    baselines = [s for s in ARMS if s.schedule == "once"]
    assert [s.family for s in baselines] == [Embedding.UNSPECIFIED]
    for spec in ARMS:
        assert arm(spec.id) is spec
        assert spec.features in SOURCES
        assert spec.schedule in {"once", "curve", "finetune", "tapt"}
        assert spec.short_label and "{" not in spec.label_for("ENC", "VEC")
        assert not spec.borrows_curve_of or spec.borrows_curve_of in BY_ID
        if spec.schedule != "once":
            assert spec.family is not Embedding.UNSPECIFIED
            assert spec.adaptation is not Adaptation.UNSPECIFIED
        tuned = spec.schedule in {"finetune", "tapt"}
        assert (spec.adaptation is Adaptation.FINE_TUNE) == tuned


def test_labels_name_the_encoder_and_vectors_they_stand_for():
    labels = {s.id: s.label_for("MiniLM", "GloVe") for s in ARMS}
    assert labels["encoder_finetuned"] == "fine-tuned MiniLM"
    assert labels["encoder_tapt_finetuned"] == ("fine-tuned MiniLM after task-adaptive pretraining")
    assert labels["static_bilstm"] == "GloVe + BiLSTM"
    assert all("{" not in label for label in labels.values())


@pytest.fixture(scope="module", params=sorted(TASKS))
def pilots(request, tiny_encoder, toy_vectors):
    make = TASKS[request.param]
    train, held_out = make(60, 0), make(20, 1)
    metric = ENTITY_F1 if train.is_tagging else ACCURACY
    run = _Pilots(train, held_out, tiny_encoder, toy_vectors, metric, 0, no_check, no_report, PLAN)
    run.featurise()
    return run


@pytest.mark.parametrize("spec", ARMS, ids=lambda s: s.id)
def test_every_arm_fits_predicts_and_describes_itself(pilots, spec):
    ctx = pilots.context()
    step = pilots.step(spec, len(pilots.pool), 0, ctx)
    _, x_eval = pilots.features[spec.features].view(spec.pooled)
    predictions = step.head.predict(x_eval)
    held, pool = pilots.held_out, pilots.pool
    assert len(predictions) == len(held)
    if held.is_tagging:
        assert [len(p) for p in predictions] == [len(t) for t in held.targets]
        seen = {t for tags in pool.targets for t in tags} | {"O"}
        assert {t for p in predictions for t in p} <= seen
    else:
        assert set(predictions) <= set(pool.targets)
    assert step.run.size == len(pool) and step.head.train_seconds >= 0
    assert 0.0 <= step.run.evaluation.score() <= 1.0

    run = pilots.arm_run(spec, step, [step.run])
    assert (run.arm, run.embedding, run.adaptation) == (spec.id, spec.family, spec.adaptation)
    assert run.label == spec.label_for(pilots.encoder.name, pilots.vectors.name) and run.short_label
    assert step.head.description and step.head.description in run.description
    # Every trained head says how it was judged and hands over its full-size recipe.
    assert run.convergence.verdict in {CONVERGED, EXTRAPOLATED, CONVEX, UNJUDGED}
    if spec.schedule != "once":
        assert run.recipe["head"] and json.loads(json.dumps(run.recipe)) == run.recipe
        epochs = run.convergence.verdict != CONVEX
        assert ("max_epochs" in run.recipe) == epochs and ("C" in run.recipe) != epochs

    again = pilots.step(spec, len(pilots.pool), 0, ctx)  # the same seed: the same predictions
    assert np.array_equal(again.run.evaluation.stats, step.run.evaluation.stats)


class Cancelled(Exception):
    pass


@pytest.mark.parametrize("spec", ARMS, ids=lambda s: s.id)
def test_every_head_stops_when_cancelled(pilots, spec):
    def cancel() -> None:
        raise Cancelled

    x, _ = pilots.features[spec.features].view(spec.pooled)
    head = spec.head(pilots.context(), 0)
    with pytest.raises(Cancelled):
        head.fit(x, pilots.pool.targets, cancel)
