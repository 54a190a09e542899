"""Fine-tuning's share of the pilots (the runner's ``_Pilots`` inherits it): its sizes and seeds,
its planned cost, each run inside the deadline, the smaller sizes only where they can change the
pick (with the headline's learning rate: they measure the curve, not the grid), and a third size
when two leave its interval too wide to decide on."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..evidence.curves import Noise
from ..evidence.runs import ArmRun, CurveRun
from ..progress import scaled
from .arms import ArmSpec
from .deployed import deployed_costs
from .featurise import PHASES
from .heads.base import HeadRun
from .heads.finetune_recipe import FineTuneRecipe
from .plan import FINETUNE_COST
from .pruning import Bounds, settled

# Fine-tuning's bounds at the decision size wider than this are narrowed by a third size.
WIDE = 0.25


@dataclass
class Step:
    """One training of a head and its score on the held-out examples."""

    run: CurveRun
    head: HeadRun
    seconds: float  # fit and predict
    predict_seconds: float
    peak_mib: float


class FineTuning:
    """Fine-tuning's runs; the attributes and the other steps are the runner's ``_Pilots``'."""

    # The training noise assumed for fine-tuning's one seed per size when its bounds are judged
    # too wide: the largest any curve arm measured (as the advice assumes, ``evidence.py``).
    noise: Noise | None = None

    def finetune_steps(
        self, spec: ArmSpec, sizes: list[int], decision_size: int
    ) -> list[tuple[int, int]]:
        """``(size, seed offset)`` of fine-tuning's runs: the plan's largest sizes, largest first
        (the first run is the headline); smaller sizes get ``plan.finetune_seeds`` seeds.

        One size when the pool is the decision size: the pilot then measures fine-tuning where
        the advice is for, and its costliest runs would not change it."""
        points = self.plan.finetune_points if decision_size > len(self.pool) else 1
        chosen = sorted(sizes[-points:], reverse=True)
        return [
            (size, s)
            for size in chosen
            for s in range(1 if size == chosen[0] else self.plan.finetune_seeds)
        ]

    def finetune_cost(self, size: int, recipe: FineTuneRecipe | None = None) -> float:
        """Seconds one fine-tuning on ``size`` examples is planned to take: its expected epochs
        (each learning rate's probe, then early stopping) at the encoder's measured speed."""
        recipe = recipe or self.plan.finetune
        labels = len(self.label_set())
        rates = len(recipe.rates(labels, self.tagging))
        return size * recipe.expected_epochs(size, rates) * FINETUNE_COST / max(self.rate, 1e-6)

    def at_rate(self, rate: float | None) -> FineTuneRecipe:
        """The plan's fine-tuning recipe at the headline's learning ``rate`` alone (the plan's
        whole grid when it is unknown): later runs measure the curve or a fold, not the grid."""
        recipe = self.plan.finetune
        return replace(recipe, learning_rates=(rate,), sensitive_rates=()) if rate else recipe

    def label_set(self) -> set[str]:
        targets = self.pool.targets
        return {t for tags in targets for t in tags} if self.tagging else set(targets)

    def tune(
        self,
        spec: ArmSpec,
        steps: list[tuple[int, int]],
        phase: str,
        recipe: FineTuneRecipe | None = None,
    ) -> list[Step]:
        """Fine-tune at each of ``steps`` (with ``recipe``, default the plan's), skipping (and
        noting) what the deadline rules out."""
        done: list[Step] = []
        lo, hi = PHASES[phase]
        for k, (size, s) in enumerate(steps):
            cost = self.finetune_cost(size, recipe)
            left = self.time_left()
            if left is not None and cost > left:
                self.notes.append(
                    f"Fine-tuning on {size} examples (seed {self.seed + s}) skipped: it needs "
                    f"~{cost:.0f} s and the budget has {max(left, 0):.0f} s left."
                )
                continue
            self.check()
            what = f"{spec.id}, {size} examples, seed {self.seed + s}"
            part = scaled(
                self.report,
                lo + (hi - lo) * k / len(steps),
                lo + (hi - lo) * (k + 1) / len(steps),
                what,
            )
            part(0.0, "starting")
            ctx = self.context(part, recipe)
            step = self.step(spec, size, s, ctx)
            if step is None:
                self.notes.append(
                    f"Fine-tuning on {size} examples (seed {self.seed + s}) stopped: the budget "
                    "ran out while it trained."
                )
                continue
            done.append(step)
        return done

    def fine_tune(
        self,
        spec: ArmSpec,
        sizes: list[int],
        decision_size: int,
        rivals: dict[str, Bounds] | None = None,
        done: list[Step] | None = None,
    ) -> ArmRun | None:
        """Fine-tuning's runs (``finetune_steps``): the headline (unless ``done`` holds it), then
        the smaller sizes only when they can change the pick against ``rivals`` (the other arms'
        bounds at the decision size, ``pruning.settled``)."""
        steps = self.finetune_steps(spec, sizes, decision_size)
        done = self.tune(spec, steps[:1], "finetune") if done is None else done
        extra = steps[1:]
        why = ""
        if done and extra:
            arms = (rivals or {}) | {spec.id: self.bounds(spec, done, decision_size)}
            why = settled(spec.id, arms)
        if why:
            self.notes.append(f"{spec.id}: no runs below {steps[0][0]} examples, since {why}.")
        elif extra:  # also when the headline could not run: a smaller size may still fit
            # The headline's learning rate: the smaller sizes measure the curve, not the grid.
            recipe = self.at_rate(done[0].head.learning_rate if done else 0.0)
            done += self.tune(spec, extra, "finetune_rest", recipe)
            done += self.narrow(spec, sizes, decision_size, rivals or {}, done, recipe)
        if not done:
            self.unafforded.append(spec.id)
            return None
        headline = done[0]  # the largest size that could run, its first seed
        return self.arm_run(
            spec,
            headline,
            [d.run for d in done],
            peak_memory_mib=max(d.peak_mib for d in done),
            **deployed_costs(self, spec, headline.head, headline.predict_seconds),
        )

    def narrow(
        self,
        spec: ArmSpec,
        sizes: list[int],
        decision_size: int,
        rivals: dict[str, Bounds],
        done: list[Step],
        recipe: FineTuneRecipe,
    ) -> list[Step]:
        """One more, smaller size when fine-tuning's bounds at the decision size are wider than
        ``WIDE`` and could still change the pick: two sizes leave the curve's exponent open (a
        7-class relation set: [22.0, 89.1]), a third measures it."""
        if not done:
            return []
        here = self.bounds(spec, done, decision_size, self.noise)
        arms = rivals | {spec.id: here}
        measured = {d.run.size for d in done}
        smaller = [z for z in sizes if z not in measured and z < min(measured)]
        if here.high - here.low <= WIDE or settled(spec.id, arms) or not smaller:
            return []
        size = smaller[-1]
        self.notes.append(
            f"{spec.id}: its interval at {decision_size:,} examples spanned "
            f"{100 * (here.high - here.low):.0f} points from {len(measured)} sizes; a third size "
            f"({size:,} examples) was measured to narrow it."
        )
        return self.tune(spec, [(size, 0)], "finetune_rest", recipe)
