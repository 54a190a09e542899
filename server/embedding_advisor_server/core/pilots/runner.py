"""The pilot runner: every registered arm (``arms.py``) at several training sizes and seeds,
inside a budget (``plan.py``).

Order of work, so that a budget in seconds can be kept and effort goes where it can change the
decision (successive halving, ``pruning.py``):
1. the encoder featurises the held-out examples (needed anyway): this measures its speed;
2. with a deadline, the training pool shrinks to what the encoder can featurise in time (the same
   pool serves every arm, so the comparison stays fair), and the note says so;
3. static and random features, then the encoder's pool features, each computed once per source
   and shared by the arms that read it; LogME of each source's pooled features;
4. every ``curve`` arm's headline run (the pool size, seed 0), then the ``finetune`` arm's: these
   always run (fine-tuning unless the deadline rules it out);
5. the learning curves' smaller sizes (geometric, halving) and seeds, round by round, largest
   first; before each round an arm dominated at the decision size gets no more runs; past the
   deadline nothing more runs; the notes list what was dropped or skipped and why;
6. fine-tuning's smaller sizes and seeds (decision size beyond the pool), only when they can
   change the pick: not when fine-tuning is dominated or already ahead of every bound.
Progress is reported per arm and size; ``check`` (cancel) is called between every step.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ..backends.precision import Resolved
from ..backends.torch_encoder import Encoder
from ..backends.vectors import StaticVectors
from ..data.dataset import Dataset
from ..data.sampling import sample_indices
from ..evidence.adaptation import PretrainingRun
from ..evidence.curves import Noise
from ..evidence.evidence import training_noise
from ..evidence.metrics import evaluate
from ..evidence.runs import ArmRun, CurveRun
from ..progress import Check, Deadline, OutOfTime, Report, scaled
from ..schema import Budget
from .adaptive import pretraining_pilots
from .arms import ARMS, ArmSpec, new_run
from .arms import arm as arm_of
from .cost import PeakMemory
from .deployed import deployed_costs
from .features import FeatureSet, rows
from .featurise import PHASES, Featuriser
from .folds import cross_fit as cross_fit_runs
from .heads.base import HeadContext
from .heads.finetune_recipe import FineTuneRecipe
from .plan import Plan, curve_sizes
from .pruning import Bounds, bounds, dominated
from .tuning import FineTuning, Step


@dataclass
class Outcome:
    runs: list[ArmRun]
    notes: list[str] = field(default_factory=list)
    # TAPT, DAPT, DAPT+TAPT (``adaptive.py``)
    pretraining: list[PretrainingRun] = field(default_factory=list)
    # The examples the evaluations have a row for: the held-out examples, then the further folds'
    # when cross-fitted (``folds.py``); the advice's replicates are drawn over as many.
    scored: int = 0


class _Pilots(FineTuning, Featuriser):
    """One job's pilots: the featurised data (``Featuriser``), the plan, and what has been
    measured so far."""

    def context(
        self, report: Report | None = None, finetune: FineTuneRecipe | None = None
    ) -> HeadContext:
        plan = self.plan
        return HeadContext(
            self.tagging,
            self.metric,
            self.encoder,
            finetune or plan.finetune,
            plan.bilstm,
            report or self.report,
            self.precision,
        )

    def hard_check(self) -> None:
        """The job's check, and ``OutOfTime`` once the deadline has passed."""
        self.check()
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OutOfTime("the budget is spent")

    def step(self, spec: ArmSpec, size: int, offset: int, ctx: HeadContext) -> Step | None:
        """Train ``spec``'s head on ``size`` pool examples drawn with seed ``seed + offset`` and
        score the held-out examples; None when the deadline passes first (a hard cap: the
        training stops at its next check)."""
        try:
            return self._step(spec, size, offset, ctx, self.hard_check)
        except OutOfTime:
            return None

    def _step(
        self,
        spec: ArmSpec,
        size: int,
        offset: int,
        ctx: HeadContext,
        check,
        features: FeatureSet | None = None,
    ) -> Step:
        """``step`` without the deadline's catch; ``features``: in place of the arm's source's
        (the frozen TAPT pair's, ``adaptive.py``)."""
        features = features or self.features[spec.features]
        x_all, x_eval = features.view(spec.pooled)
        idx = sample_indices(self.pool, size, self.seed + offset)
        train = (rows(x_all, idx), [self.pool.targets[j] for j in idx])
        scored = (x_eval, self.held_out.targets, self.held_rows)
        return self.fit_score(spec, ctx, offset, check, train, scored, size)

    def fit_score(
        self, spec: ArmSpec, ctx: HeadContext, offset: int, check, train, scored, size: int
    ) -> Step:
        """``spec``'s head trained with seed ``seed + offset`` on ``train`` (features, targets;
        ``size``: the curve's size it stands for) and scored on ``scored`` (features, targets,
        and their rows among the scored examples, ``Featuriser.scored``)."""
        (x, y), (x_eval, y_eval, at) = train, scored
        seed = self.seed + offset
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            head = spec.head(ctx, seed).fit(x, y, check)
            t1 = time.perf_counter()
            predictions = head.predict(x_eval)
            t2 = time.perf_counter()
        evaluation = evaluate(self.metric, y_eval, predictions, self.labels)
        run = CurveRun(size, seed, evaluation.placed(at, self.scored), head.train_seconds)
        return Step(run, head, t2 - t0, t2 - t1, mem.added_mib)

    def arm_run(self, spec: ArmSpec, headline: Step, curve: list[CurveRun], **costs) -> ArmRun:
        features = self.features[spec.features]
        description = ", ".join(
            p for p in (features.describe(spec.pooled), headline.head.description) if p
        )
        return new_run(
            spec.id,
            encoder=self.encoder.name,
            vectors=self.vectors.name,
            description=description,
            evaluation=headline.run.evaluation,
            num_train=headline.run.size,
            num_eval=len(self.held_out),
            train_seconds=headline.run.train_seconds,
            curve=sorted(curve, key=lambda r: (r.size, r.seed)),
            logme=self.logme.get(spec.features, math.nan),
            convergence=headline.head.convergence,
            recipe=headline.head.recipe,
            **costs,
        )

    def once(self, spec: ArmSpec) -> ArmRun:
        """The arm trained once on the whole pool (the majority-class baseline)."""
        return self.arm_run(
            spec, self._step(spec, len(self.pool), 0, self.context(), self.check), []
        )

    def headlines(self, specs: list[ArmSpec], size: int) -> dict[str, list[Step]]:
        """Round one of successive halving: every ``curve`` arm once at the pool size (seed 0),
        its headline run; these always run."""
        report = scaled(self.report, *PHASES["headlines"])
        done: dict[str, list[Step]] = {}
        for i, spec in enumerate(specs):
            self.check()
            report(i / len(specs), f"{spec.id}: {size} examples, seed {self.seed}")
            left = self.time_left()
            headline = (
                self.step(spec, size, 0, self.context()) if left is None or left > 0 else None
            )
            if headline is None:
                self.unafforded.append(spec.id)
            done[spec.id] = [headline] if headline else []
        return done

    def bounds(
        self, spec: ArmSpec, steps: list[Step], decision_size: int, noise: Noise | None = None
    ) -> Bounds:
        run = new_run(
            spec.id,
            description="",
            evaluation=steps[0].run.evaluation,
            num_train=steps[0].run.size,
            num_eval=len(self.held_out),
            curve=[d.run for d in steps],
        )
        return bounds(run, decision_size, self.weights, self.seed, noise)

    def curves(
        self,
        specs: list[ArmSpec],
        sizes: list[int],
        done: dict[str, list[Step]],
        decision_size: int,
        rivals: dict[str, Bounds],
    ) -> list[ArmRun]:
        """The rest of every ``curve`` arm's learning curve, size by size from the largest: an
        arm dominated at the decision size (``pruning.py``; ``rivals``: the bounds of arms
        outside this loop) gets no more; past the deadline nothing more runs. The notes say what
        was dropped and why."""
        active = [spec for spec in specs]
        skipped: dict[str, int] = {}
        report = scaled(self.report, *PHASES["curves"])
        rest = sorted(sizes[:-1], reverse=True)
        planned = sum(len(self.plan.seeds_at(size, sizes)) for size in rest) * len(specs)
        k = 0
        for size in rest:
            active = [spec for spec in active if done[spec.id]]
            arms = rivals | {s.id: self.bounds(s, done[s.id], decision_size) for s in active}
            dropped = dominated(arms, [s.id for s in active], decision_size, len(self.pool))
            for arm_id, why in dropped.items():
                self.notes.append(
                    f"{arm_id}: no learning-curve runs below {2 * size} examples, since {why}."
                )
            active = [spec for spec in active if spec.id not in dropped]
            for spec in active:
                for s in self.plan.seeds_at(size, sizes):
                    left = self.time_left()
                    if left is not None and left < 0:
                        skipped[spec.id] = skipped.get(spec.id, 0) + 1
                        continue
                    self.check()
                    report(k / max(planned, 1), f"{spec.id}: {size} examples, seed {self.seed + s}")
                    k += 1
                    step = self.step(spec, size, s, self.context())
                    if step is None:
                        skipped[spec.id] = skipped.get(spec.id, 0) + 1
                        continue
                    done[spec.id].append(step)
        if skipped:
            self.notes.append(
                "Skipped to stay within the budget: "
                + ", ".join(f"{n} learning-curve runs of {arm}" for arm, n in skipped.items())
                + "."
            )
        return [self._curve_arm(spec, done[spec.id], sizes[-1]) for spec in specs if done[spec.id]]

    def _curve_arm(self, spec: ArmSpec, steps: list[Step], pool_size: int) -> ArmRun:
        features = self.features[spec.features]
        headline = steps[0]  # the pool size, seed 0 (``headlines``)
        return self.arm_run(
            spec,
            headline,
            [d.run for d in steps],
            featurize_seconds=features.seconds,
            peak_memory_mib=max([features.peak_mib] + [d.peak_mib for d in steps]),
            **deployed_costs(self, spec, headline.head, headline.predict_seconds),
        )


def run_pilots(
    train: Dataset,
    held_out: Dataset,
    encoder: Encoder,
    vectors: StaticVectors,
    metric: str,
    seed: int,
    check: Check,
    report: Report,
    plan: Plan | None = None,
    decision_size: int = 0,
    precision: Resolved | None = None,
    deadline: Deadline | None = None,
    probe=None,
    transductive: bool = False,
    corpus=None,
    cross_fit: int = 0,
) -> Outcome:
    """Every registered arm's pilot runs, then the continued-pretraining pilots (``probe``: the
    encoder's masked-LM probe; ``transductive``: TAPT's texts include the held-out inputs;
    ``corpus``: the domain corpus, ``adapt/corpus.Corpus``, for DAPT). ``decision_size``:
    the size the advice is for (0: the training set given); fine-tuning's smaller sizes run only
    when it is beyond the pool.
    ``precision``: what torch computes in (None: fp32). ``deadline``: the job's hard cap (None:
    the plan's seconds from now, if any); arms that could not run are named in the notes.
    ``cross_fit``: the held-out examples were split from the training file, so the contested
    arms may be scored on slices of the pool too, until this many examples are (``folds.py``;
    0: never)."""
    pilots = _Pilots(
        train,
        held_out,
        encoder,
        vectors,
        metric,
        seed,
        check,
        report,
        plan or Plan.of(Budget.UNSPECIFIED),
        precision,
        deadline,
        cross_fit=cross_fit,
    )
    pilots.featurise()
    sizes = curve_sizes(len(pilots.pool), pilots.plan.points)
    decision = decision_size or len(train)
    runs = [pilots.once(spec) for spec in ARMS if spec.schedule == "once"]
    curved = [spec for spec in ARMS if spec.schedule == "curve"]
    tuned = [spec for spec in ARMS if spec.schedule == "finetune"]
    # Successive halving: every arm's headline run first, then the rest where it can matter.
    done = pilots.headlines(curved, sizes[-1])
    headline = {
        spec.id: pilots.tune(spec, pilots.finetune_steps(spec, sizes, decision)[:1], "finetune")
        for spec in tuned
    }
    rivals = {
        spec.id: pilots.bounds(spec, steps, decision)
        for spec in tuned
        if (steps := headline[spec.id])
    }
    runs += pilots.curves(curved, sizes, done, decision, rivals)
    final = {
        spec.id: pilots.bounds(spec, done[spec.id], decision) for spec in curved if done[spec.id]
    }
    pilots.noise = training_noise(runs)  # what fine-tuning's one seed per size is taken to have
    for spec in tuned:
        others = final | {k: v for k, v in rivals.items() if k != spec.id}
        run = pilots.fine_tune(spec, sizes, decision, others, headline[spec.id])
        if run is not None:
            runs.append(run)
    cross_fit_runs(pilots, runs, decision)
    adapted = pretraining_pilots(pilots, runs, probe, transductive, corpus)
    if pilots.unafforded:
        pilots.notes.append(
            "Not measured, the budget ran out first: "
            + ", ".join(arm_of(a).label_for(encoder.name, vectors.name) for a in pilots.unafforded)
            + "."
        )
    report(1.0, "pilots done")
    return Outcome(runs, pilots.notes, adapted, pilots.scored)
