"""The pilots' budget presets: learning-curve sizes, seeds, and fine-tuning's step floor."""

from __future__ import annotations

from embedding_advisor_server.core.pilots.heads.finetune import FineTuneRecipe as Recipe
from embedding_advisor_server.core.pilots.plan import Plan, curve_sizes
from embedding_advisor_server.core.schema import Budget


def test_curve_sizes_halve_from_the_pool():
    assert curve_sizes(2000, 4) == [250, 500, 1000, 2000]
    assert curve_sizes(2000, 3) == [500, 1000, 2000]
    assert curve_sizes(120, 5) == [60, 120]  # never below 50 examples
    assert curve_sizes(30, 4) == [30]
    quick, standard = Plan.of(Budget.QUICK), Plan.of(Budget.STANDARD)
    assert (quick.points, quick.seeds, quick.finetune_points) == (3, 2, 2)
    assert Plan.of(Budget.UNSPECIFIED) == quick  # the default: fine-tuning is the costly arm
    assert (standard.points, standard.seeds, standard.finetune.learning_rates) == (
        4,
        2,
        (5e-5, 1e-4),
    )
    assert Plan.of(Budget.THOROUGH, 30).seconds == 30


def test_small_runs_take_more_epochs_and_smaller_batches_to_reach_the_step_floor():
    recipe = Recipe((1e-4,), max_epochs=2, min_steps=120, epoch_cap=6)
    # 1,700 examples in batches of 16: 107 steps an epoch, 2 epochs already pass the floor.
    assert (recipe.batch(1700), recipe.epochs(1700)) == (16, 2)
    # 425 in batches of 8: 54 steps an epoch, 3 epochs for 120 steps.
    assert (recipe.batch(425), recipe.epochs(425)) == (8, 3)
    # 100 examples: 13 steps an epoch; the floor would take 10 epochs, the cap stops at 6.
    assert recipe.epochs(100) == 6
    assert Recipe((1e-4,), max_epochs=3).epochs(100) == 3  # no floor: the recipe's epochs


def test_one_seed_at_the_pool_and_the_plans_seeds_below_it():
    plan = Plan.of(Budget.THOROUGH)
    sizes = [250, 500, 1000]
    assert [len(plan.seeds_at(n, sizes)) for n in sizes] == [3, 3, 1]
