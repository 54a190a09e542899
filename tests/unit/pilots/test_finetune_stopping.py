"""Fine-tuning trains to convergence: early stopping on the dev slice, a learning-rate probe on
sensitive tasks (tagging, multi-class), and the recipe to hand over. A tiny seeded BERT stands in
for the encoder: the subject is the stopping rule, not the model."""

from __future__ import annotations

from synthetic import sentences, tagging

from embedding_advisor_server.core.evidence.convergence import CONVERGED
from embedding_advisor_server.core.evidence.metrics import ACCURACY, ENTITY_F1
from embedding_advisor_server.core.pilots.heads.finetune import FineTuneHead, FineTuneRecipe
from embedding_advisor_server.core.progress import no_check


def _fit(encoder, data, metric, recipe):
    said: list[str] = []
    head = FineTuneHead(encoder, data.is_tagging, metric, 0, recipe, lambda f, m: said.append(m))
    return head.fit(data.inputs, data.targets, no_check), said


def test_training_stops_once_the_dev_score_has_not_improved_for_patience_epochs(tiny_encoder):
    data = sentences(80, 0)
    recipe = FineTuneRecipe((3e-3,), steps=10_000, max_epochs=40, patience=2)
    run, said = _fit(tiny_encoder, data, ACCURACY, recipe)
    verdict = run.convergence
    assert verdict.verdict == CONVERGED
    assert verdict.epochs_run < 40 and verdict.epochs_run - verdict.epoch == 2
    assert len(said) == verdict.epochs_run  # one progress line per epoch trained
    assert run.epochs == verdict.epoch and run.recipe["pilot_epochs"] == verdict.epoch
    assert run.recipe["max_epochs"] == 40 and run.recipe["early_stopping_patience"] == 2
    assert f"epoch {verdict.epoch} of {verdict.epochs_run} kept (the best dev epoch" in (
        run.description
    )
    assert "over 40 epochs: stopped early, 2 epochs without a gain" in run.description


def test_without_patience_the_whole_schedule_runs_and_its_last_epoch_is_kept(tiny_encoder):
    recipe = FineTuneRecipe((3e-3,), steps=10_000, min_epochs=2, max_epochs=6)
    run, said = _fit(tiny_encoder, sentences(80, 0), ACCURACY, recipe)
    assert len(said) == 6 and run.epochs == 6 and run.convergence.epoch == 6
    assert "epoch 6 of 6 kept (the last (annealed) epoch" in run.description
    assert run.recipe["early_stopping_patience"] == 0


def test_a_grid_trains_each_rate_over_its_schedule_and_keeps_the_best(tiny_encoder):
    recipe = FineTuneRecipe(
        (1e-4,), steps=1, min_epochs=3, max_epochs=3, patience=5, sensitive_rates=(1e-5, 3e-3)
    )
    run, said = _fit(tiny_encoder, tagging(60, 0), ENTITY_F1, recipe)
    assert [m.split(",")[0] for m in said] == ["fine-tuning: lr 1e-05"] * 3 + [
        "fine-tuning: lr 0.003"
    ] * 3
    assert run.recipe["learning_rates_tried"] == [1e-5, 3e-3]
    assert run.learning_rate in (1e-5, 3e-3)
