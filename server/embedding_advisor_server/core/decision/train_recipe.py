"""The recipe handed over with each option: how to train it at the decision size the way its pilot
was trained and judged (``evidence/convergence.py``), in words (``Option.recipe``) and as a JSON
config (``Option.recipe_config``) that a pipeline can read.

The head's settings are those its headline pilot used (the learning rate and C it chose, the
stopping rule); fine-tuning's epochs at the decision size come from its schedule's steps (fewer
epochs on more data); ``pilot_epochs`` is the epoch the pilot kept, a guide, since early stopping
on the dev slice decides at full size. The training time is the pilot's scaled linearly to the
decision size, on this machine (its learning-rate probes included, so an upper estimate).
"""

from __future__ import annotations

import json

from ..evidence.candidates import Candidate
from ..evidence.runs import ArmRun
from ..pilots.heads.finetune_recipe import FineTuneRecipe


def handed_over(run: ArmRun, c: Candidate, size: int) -> tuple[str, str]:
    """``(words, JSON config)`` of ``run``'s option trained on ``size`` examples ("" without a
    trained head)."""
    if not run.recipe:
        return "", ""
    config = {
        "option": run.label,
        "arm": run.arm,
        "training_examples": size,
        **run.recipe,
        **_schedule_at(run.recipe, size),
        "pilot_judged": c.convergence,
        "expected_train_seconds_here": round(c.train_seconds_at_decision, 1),
    }
    return _words(config, size), json.dumps(config)


def _schedule_at(recipe: dict, size: int) -> dict:
    """Fine-tuning's batch and epochs at ``size`` examples: its schedule is sized in optimiser
    steps (``finetune_recipe.py``), so a full-size run takes fewer epochs than the pilot."""
    if "schedule_steps" not in recipe:
        return {}
    batch, epochs = FineTuneRecipe(
        steps=recipe["schedule_steps"],
        min_epochs=recipe["min_epochs"],
        max_epochs=recipe["max_epochs"],
        batch_size=recipe["batch_size"],
        small_batch=recipe["small_batch"],
    ).at_size(size)
    return {"batch_size": batch, "epochs": epochs}


def _stopping(config: dict) -> str:
    patience = config["early_stopping_patience"]
    length = (
        f"{config['epochs']} epochs with the rate decaying to 0 at the last"
        if "epochs" in config
        else f"up to {config['max_epochs']} epochs"
    )
    if not patience:
        return f"{length}, keeping the last epoch (the pilot's {config['pilot_epochs']})"
    start = config.get("early_stopping_from_epoch", 0)
    return (
        f"{length}, stopping after {patience} epoch{'s' if patience != 1 else ''} without a "
        f"gain on a {config['dev_fraction']:.0%} dev slice"
        + (f" (not before epoch {start}, nor while every dev score is the same)" if start else "")
        + f" and keeping the best epoch (the pilot kept epoch {config['pilot_epochs']})"
    )


def _words(config: dict, size: int) -> str:
    head = config["head"]
    when = f"~{_duration(config['expected_train_seconds_here'])} to train on {size:,} examples here"
    if "encoder" in config:  # fine-tuning
        how = (
            f"fine-tune {config['encoder']} ({head.removeprefix('fine-tuned encoder, ')}): "
            f"lr {config['learning_rate']:g} (chosen from "
            + "/".join(f"{r:g}" for r in config["learning_rates_tried"])
            + f"), {config['optimizer']}, warm-up over 6% of the steps, batches of "
            f"{config['batch_size']}, {config['max_length']} pieces max, {_stopping(config)}"
        )
    elif "hidden_per_direction" in config:  # the BiLSTM
        how = (
            f"{head} ({config['hidden_per_direction']} per direction, dropout "
            f"{config['dropout']:g}): {config['optimizer']}, lr {config['learning_rate']:g}, "
            f"batches of {config['batch_size']}, {_stopping(config)}"
        )
    else:  # logistic regression
        how = f"{head}, C={config['C']:g}" + (
            f" (chosen by {config['cv_folds']}-fold CV)" if config["cv_folds"] else ""
        )
    return f"{config['option']}: {how}; {when}."


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
