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
    recipe = Recipe((1e-4,), max_epochs=6, min_steps=120)
    # 1,700 examples in batches of 16: 107 steps an epoch, 2 epochs pass the floor.
    assert (recipe.batch(1700), recipe.least(1700)) == (16, 2)
    # 425 in batches of 8: 54 steps an epoch, 3 epochs for 120 steps.
    assert (recipe.batch(425), recipe.least(425)) == (8, 3)
    # 100 examples: 13 steps an epoch; the floor would take 10 epochs, the cap stops at 6.
    assert recipe.least(100) == 6
    assert Recipe((1e-4,), max_epochs=3).least(100) == 1  # no floor: early stopping decides


def test_a_grid_probes_each_rate_and_sensitive_tasks_get_their_own_grid():
    recipe = Recipe((1e-4,), max_epochs=8, patience=2, probe_epochs=2, sensitive_rates=(1e-4, 2e-4))
    assert recipe.rates(2, tagging=False) == (1e-4,)
    assert recipe.rates(7, tagging=False) == recipe.rates(2, tagging=True) == (1e-4, 2e-4)
    # One rate: at least 1 epoch, then 2 of patience. Two rates: each probes 2 epochs, the kept
    # one goes on past them for the patience.
    assert recipe.expected_epochs(1700, 1) == 3
    assert recipe.expected_epochs(1700, 2) == 4 + 2
    assert Recipe((1e-4,), max_epochs=2, patience=2).expected_epochs(1700) == 2  # the cap


def test_every_preset_trains_fine_tuning_to_convergence_with_more_patience_and_rates_higher_up():
    plans = [Plan.of(b).finetune for b in (Budget.QUICK, Budget.STANDARD, Budget.THOROUGH)]
    assert all(p.patience >= 2 and p.max_epochs >= 8 for p in plans)
    assert [len(p.rates(7, False)) for p in plans] == sorted(len(p.rates(7, False)) for p in plans)
    assert plans[0].patience <= plans[2].patience


def test_one_seed_at_the_pool_and_the_plans_seeds_below_it():
    plan = Plan.of(Budget.THOROUGH)
    sizes = [250, 500, 1000]
    assert [len(plan.seeds_at(n, sizes)) for n in sizes] == [3, 3, 1]
