"""Fine-tuning trains to convergence: early stopping on the dev slice, a learning-rate probe on
sensitive tasks (tagging, multi-class), and the recipe to hand over. A tiny seeded BERT stands in
for the encoder: the subject is the stopping rule, not the model."""

from __future__ import annotations

from synthetic import sentences, tagging

from embedding_advisor_server.core.evidence.convergence import CONVERGED, EXTRAPOLATED
from embedding_advisor_server.core.evidence.metrics import ACCURACY, ENTITY_F1
from embedding_advisor_server.core.pilots.heads.finetune import FineTuneHead, FineTuneRecipe
from embedding_advisor_server.core.progress import no_check


def _fit(encoder, data, metric, recipe):
    said: list[str] = []
    head = FineTuneHead(encoder, data.is_tagging, metric, 0, recipe, lambda f, m: said.append(m))
    return head.fit(data.inputs, data.targets, no_check), said


def test_training_stops_once_the_dev_score_has_not_improved_for_patience_epochs(tiny_encoder):
    data = sentences(80, 0)
    run, said = _fit(tiny_encoder, data, ACCURACY, FineTuneRecipe((3e-3,), 40, patience=2))
    verdict = run.convergence
    assert verdict.verdict == CONVERGED
    assert verdict.epochs_run < 40 and verdict.epochs_run - verdict.epoch == 2
    assert len(said) == verdict.epochs_run  # one progress line per epoch trained
    assert run.epochs == verdict.epoch and run.recipe["pilot_epochs"] == verdict.epoch
    assert run.recipe["max_epochs"] == 40 and run.recipe["early_stopping_patience"] == 2
    assert f"epoch {verdict.epoch} of {verdict.epochs_run}" in run.description


def test_a_run_cut_by_the_cap_while_improving_is_extrapolated_not_called_converged(tiny_encoder):
    run, _ = _fit(tiny_encoder, sentences(80, 0), ACCURACY, FineTuneRecipe((1e-5,), 2, patience=2))
    assert run.convergence.verdict == EXTRAPOLATED and run.convergence.epochs_run == 2
    assert "still improving at the cap of 2" in run.description


def test_a_tagging_task_probes_each_rate_and_only_the_best_goes_on(tiny_encoder):
    recipe = FineTuneRecipe(
        (1e-4,), max_epochs=6, patience=2, probe_epochs=1, sensitive_rates=(1e-5, 3e-3)
    )
    run, said = _fit(tiny_encoder, tagging(60, 0), ENTITY_F1, recipe)
    probed = [m for m in said if "epoch 1:" in m]
    assert probed == said[:2] and len(probed) == 2  # each rate's probe first
    kept = f"lr {run.learning_rate:g},"
    assert all(kept in m for m in said[2:])  # then only the kept rate trains on
    assert run.recipe["learning_rates_tried"] == [1e-5, 3e-3]
    assert run.learning_rate in (1e-5, 3e-3)
