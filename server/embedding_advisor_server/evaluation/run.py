"""One evaluation, end to end: the collection checked, then per dataset and training size the
advice (cached), the sweep's missing runs (each cached as it finishes), the comparison, and the
results rewritten after every comparison, so that a killed run keeps what it finished.

``cached_only``: nothing is advised or trained; a dataset and size whose advice or any named
option's sweep run the cache lacks is left out (named on stderr and in the results). One report
over every size that separate runs measured into one cache (500 for every dataset, 2,000 and the
whole split where they were run) then costs seconds."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import __version__
from ..core.backends.mlm import MLMUnavailable
from ..core.backends.precision import resolve
from ..core.data.sampling import sample
from ..core.pilots.plan import Plan
from ..core.pilots.sweep import SWEPT, TAPT, recipe_of, sweep
from ..core.progress import no_check
from ..core.schema import Budget, Precision
from . import output, scoring
from .advisor import Advisor, overrides
from .cache import Cache, key
from .collection import CollectionError, collect

SMALL = 2000  # below this many training examples the sweep runs ``small_seeds`` seeds
# What the cached advice holds (``advisor.claims``); a new form, or pilots that train
# differently, advise again. 2: the interval of the expected score beside the one-run interval;
# 3: BiLSTM pilots that do not stop on their plateau (``heads/bilstm.py``); 4: cross-fitted
# pilots (``pilots/folds.py``); 5: learning-curve exponents capped at 1
# (``evidence/curves.py``); 6: accuracy traded for cost only at medium confidence or more
# (``decide.TRADE_SUPPORT``).
CLAIMS = 6


@dataclass
class Settings:
    root: Path
    out: Path
    cache: Path
    sizes: list[int] = field(default_factory=lambda: [500, 2000, 0])  # 0: the whole split
    seeds: int = 1
    small_seeds: int = 3
    cap: int = 0  # 0: no cap on the training split
    max_test: int = 2000
    # arm ids, TAPT's among them; empty: every option and the TAPT runs (TAPT runs measured
    # before are reported even when it is not named)
    options: list[str] = field(default_factory=list)
    budget: str = "quick"
    datasets: list[str] = field(default_factory=list)  # folder names; empty: every one
    seed: int = 0
    cached_only: bool = False  # report what the cache holds; train nothing (module docstring)
    max_train: int = 0  # the advice's pool (most training examples per pilot); 0: the advisor's


def evaluate(s: Settings, say: Callable[[str], None] | None = None) -> tuple[list[dict], dict]:
    """Run the evaluation ``s`` describes; progress goes to ``say`` (default: stderr)."""
    say = say or (lambda m: print(m, file=sys.stderr, flush=True))
    collected = collect(s.root, s.datasets or None)  # every file checked before any work
    unknown = sorted(set(s.options) - {spec.id for spec in (*SWEPT, TAPT)})
    if unknown:
        raise CollectionError(
            f"--options: no option {', '.join(unknown)}; the options are "
            + ", ".join(spec.id for spec in (*SWEPT, TAPT))
        )
    rows: list[dict] = []
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(s).items()}
    asked = overrides({"max_train_examples": s.max_train} if s.max_train else None)
    moved = {k: str(v) for k, v in asked.items()}
    if moved:  # a pool of 500 (--max-train, ADVISOR_MAX_TRAIN_EXAMPLES): in the report and key
        settings["advisor_settings"] = moved
        say(
            "the advisor's settings moved from their defaults: "
            + ", ".join(f"{k}={v}" for k, v in moved.items())
        )
    with nullcontext() if s.cached_only else Advisor() as advisor:
        e = _Evaluation(s, Cache(s.cache), advisor, say, moved)
        for ds in collected:
            test = sample(ds.test, s.max_test, s.seed)
            for size in ds.sizes(s.sizes, s.cap):
                row = e.compare(ds, test, size)
                if row is not None:
                    rows.append(row)
                    output.write(s.out, rows, scoring.summary(rows), settings, e.left_out)
    summary = scoring.summary(rows)
    output.write(s.out, rows, summary, settings, e.left_out)
    return rows, summary


class _Evaluation:
    """The parts one evaluation shares: its settings, cache, embedded advisor and models."""

    def __init__(
        self, s: Settings, cache: Cache, advisor: Advisor, say, moved: dict[str, str]
    ) -> None:
        self.s, self.cache, self.advisor, self.say = s, cache, advisor, say
        # the advisor's settings away from their defaults: part of the advice's key (none: the
        # key as it always was, so the defaults' cached advice stays valid)
        self.moved = tuple(moved.items())
        specs = (*SWEPT, TAPT)
        self.specs = [spec for spec in specs if not s.options or spec.id in s.options]
        self.resources = None
        self.left_out: list[str] = []  # "<dataset> at <size>" a cached-only run had no part of

    def compare(self, ds, test, size: int) -> dict | None:
        """The advice and the sweep of ``ds`` at ``size``, compared (``scoring.compare``); None
        when ``cached_only`` and the cache lacks a part."""
        s, where = self.s, f"{ds.name} at {size:,}"
        akey = key("advice", ds.digest, size, s.budget, s.seed, __version__, CLAIMS, *self.moved)
        if s.cached_only and self.cache.get("advice", akey) is None:
            return self._leave_out(where, "no advice in the cache")
        # the seeded sample (and its file) only when the advisor or the sweep trains on it
        drawn = functools.cache(lambda: ds.sample(size, s.seed, s.cache / "samples"))
        claimed = self.advice(ds, drawn, size, akey, where)
        seeds = s.small_seeds if size < SMALL else s.seeds
        plan = Plan.of(Budget.THOROUGH)
        # TAPT's runs measured before are reported even when they are not run this time
        reported = self.specs if TAPT in self.specs else [*self.specs, TAPT]
        keys = {
            (spec.id, s.seed + k): _sweep_key(ds, size, spec, plan, claimed["metric"], s, k)
            for spec in reported
            for k in range(seeds)
        }
        fkey = key("featurise", ds.digest, size, s.max_test, __version__)
        todo = [
            (spec, s.seed + k)
            for spec in self.specs
            for k in range(seeds)
            if not self.cache.get("sweep", keys[spec.id, s.seed + k])
        ]
        if todo and s.cached_only:
            return self._leave_out(where, f"{len(todo)} sweep run(s) not in the cache")
        if todo:
            self.sweep(drawn()[0], test, claimed["metric"], todo, keys, fkey, where)
        # every option's runs are there now; TAPT's may not be (not named, or no masked LM)
        runs = [r for k in keys.values() if (r := self.cache.get("sweep", k)) is not None]
        shared = (self.cache.get("featurise", fkey) or {"seconds": 0.0})["seconds"]
        options_seconds = sum(r["seconds"] for r in runs if r["arm"] != TAPT.id)
        row = scoring.compare(ds.name, size, claimed, runs, options_seconds + shared)
        self.say(
            f"{where}: pick {row['pick'] or '-'}, best {row['best']}, regret "
            f"{row['regret_points']:.1f} points"
        )
        return row

    def _leave_out(self, where: str, why: str) -> None:
        self.say(f"{where}: {why}: left out")
        self.left_out.append(where)

    def advice(self, ds, drawn: Callable[[], tuple], size: int, akey: str, where: str) -> dict:
        """The cached advice, else the advisor's on the sample's file (``drawn()``: the sample
        and its file), cached."""
        s = self.s
        claimed = self.cache.get("advice", akey)
        if claimed is None:
            self.say(f"{where}: advising ({s.budget} budget)")
            dev = ds.folder / "dev.jsonl" if ds.dev is not None else None
            progress = _progress(self.say, f"{where}: advice")
            asked = s.max_train or None
            claimed = self.advisor.advise(drawn()[1], dev, size, s.budget, s.seed, progress, asked)
            self.cache.put("advice", akey, claimed)
        self.say(f"{where}: advised {claimed['pick'] or 'nothing'} in {claimed['seconds']:.0f} s")
        return claimed

    def sweep(self, train, test, metric: str, todo, keys: dict, fkey: str, where: str) -> None:
        """Train the ``todo`` runs, each kept in the cache as it finishes."""
        if self.resources is None:
            from ..core.backends.cache import ResourceCache

            self.resources = ResourceCache()
        asked = {spec.id for spec in self.specs}
        wanted = sum(arm in asked for arm, _ in keys)
        self.say(f"{where}: sweeping {len(todo)} run(s) of {wanted}")

        def keep(run) -> None:
            value = {
                "arm": run.arm,
                "seed": run.seed,
                "score": run.score,
                "seconds": run.seconds,
                "convergence": run.convergence,
                "recipe": run.recipe,
            }
            self.cache.put("sweep", keys[run.arm, run.seed], value)

        t0 = time.perf_counter()
        probe = None
        if any(spec.id == TAPT.id for spec, _ in todo):
            try:
                probe = self.resources.mlm(None, lambda m: self.say(f"{where}: {m}"))
            except MLMUnavailable as exc:
                self.say(f"{where}: no TAPT runs: {exc}")
                todo = [(spec, seed) for spec, seed in todo if spec.id != TAPT.id]
                if not todo:
                    return
        _, featurised = sweep(
            train,
            test,
            self.resources.frozen_encoder(None, "onnx_fp32"),
            self.resources.vectors(None),
            metric,
            todo,
            no_check,
            _progress(self.say, where),
            resolve(Precision.AUTO),
            done=keep,
            probe=probe,
        )
        if self.cache.get("featurise", fkey) is None:
            self.cache.put("featurise", fkey, {"seconds": featurised})
        self.say(f"{where}: swept in {time.perf_counter() - t0:.0f} s")


def _progress(say: Callable[[str], None], where: str):
    """Progress (the advice's or the sweep's) as a line on stderr at most every 20 seconds."""
    last = [0.0]

    def report(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 20:
            last[0] = now
            say(f"{where}: {100 * fraction:.0f}% {message}")

    return report


def _sweep_key(ds, size: int, spec, plan: Plan, metric: str, s: Settings, k: int) -> str:
    """A sweep run's cache key: the dataset, size, option, what of the plan it trains with (a
    change to the BiLSTM's recipe re-runs the BiLSTM options only), metric, test cap, seed."""
    recipe = key(recipe_of(spec, plan), metric, s.max_test, __version__)
    return key("sweep", ds.digest, size, spec.id, recipe, s.seed + k)
