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


def test_the_schedule_is_sized_in_steps_within_its_epoch_bounds():
    recipe = Recipe((1e-4,), steps=400, min_epochs=2, max_epochs=10)
    # 1,700 examples in batches of 16: 107 steps an epoch, 4 epochs for 400 steps.
    assert (recipe.batch(1700), recipe.epochs(1700)) == (16, 4)
    # 425 in batches of 8: 54 steps an epoch, 8 epochs.
    assert (recipe.batch(425), recipe.epochs(425)) == (8, 8)
    assert recipe.epochs(100) == 10  # the cap
    assert recipe.epochs(20_000) == 2  # at least min_epochs
    # A full-size run of 2,000 examples holds out its 15% dev slice: 1,700 to train on.
    assert recipe.at_size(2000) == (16, 4)


def test_every_rate_runs_its_schedule_and_sensitive_tasks_get_their_own_grid():
    recipe = Recipe((1e-4,), steps=400, sensitive_rates=(1e-4, 2e-4))
    assert recipe.rates(2, tagging=False) == (1e-4,)
    assert recipe.rates(7, tagging=False) == recipe.rates(2, tagging=True) == (1e-4, 2e-4)
    assert recipe.expected_epochs(1700, 1) == 4 and recipe.expected_epochs(1700, 2) == 8


def test_the_larger_presets_spend_more_on_schedules_and_rates_and_keep_the_annealed_end():
    plans = [Plan.of(b).finetune for b in (Budget.QUICK, Budget.STANDARD, Budget.THOROUGH)]
    assert [p.steps for p in plans] == sorted(p.steps for p in plans)
    assert [len(p.rates(7, False)) for p in plans] == sorted(len(p.rates(7, False)) for p in plans)
    assert all(p.patience == 0 for p in plans)  # the schedule's last epoch is kept


def test_one_seed_at_the_pool_and_the_plans_seeds_below_it():
    plan = Plan.of(Budget.THOROUGH)
    sizes = [250, 500, 1000]
    assert [len(plan.seeds_at(n, sizes)) for n in sizes] == [3, 3, 1]
