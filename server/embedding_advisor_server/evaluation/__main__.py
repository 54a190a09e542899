"""``advise eval DIR`` (or ``python -m embedding_advisor_server.evaluation DIR``): the command
line of an evaluation. Exit status 0 when it ran, 2 for bad input (a missing folder or file, a
dataset line that does not parse: named, before any work), 1 when it failed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.config import PipelineDefaults
from ..core.pilots.sweep import SWEPT, TAPT
from .collection import FULL, CollectionError

EXIT_BAD_INPUT, EXIT_FAILED = 2, 1
_FIELD = PipelineDefaults.model_fields["max_train_examples"]
POOL = _FIELD.default
MIN_POOL = next(m.ge for m in _FIELD.metadata if hasattr(m, "ge"))  # as a request's bound


def _sizes(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if part == "full":
            out.append(FULL)
        elif part.isdigit() and int(part) >= 20:
            out.append(int(part))
        else:
            raise argparse.ArgumentTypeError(f"{part!r}: a size is a number >= 20 or 'full'")
    return out


def _pool(text: str) -> int:
    if not text.strip().isdigit() or int(text) < MIN_POOL:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the pool is a number of examples >= {MIN_POOL}"
        )
    return int(text)


def _advice_arguments(p: argparse.ArgumentParser) -> None:
    """What the advice is asked for, as a user asks ``advise`` for it."""
    p.add_argument(
        "--budget",
        default="quick",
        choices=["quick", "standard", "thorough"],
        help="the advice's budget (default quick)",
    )
    p.add_argument(
        "--max-train",
        type=_pool,
        default=0,
        help="the advice's pool, most training examples per pilot, as advise --max-train "
        f"(default: the advisor's, {POOL:,}; advice under another pool is cached apart)",
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="advise eval",
        description="Prove the advice on a folder of labelled datasets: for each dataset and "
        "training size, the advisor as a user runs it against a full sweep of every option it "
        "can recommend; regret, agreement, interval coverage and width, cost ratio.",
    )
    p.add_argument(
        "dir",
        type=Path,
        help="one folder per dataset: train.jsonl, test.jsonl, "
        "optional dev.jsonl (the advisor's test file; the test split is the sweep's)",
    )
    p.add_argument(
        "--sizes",
        type=_sizes,
        default=[500, 2000, FULL],
        help="training sizes, seeded samples (default 500,2000,full)",
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="sweep runs per option from 2,000 training examples (default 1)",
    )
    p.add_argument(
        "--small-seeds",
        type=int,
        default=3,
        help="sweep runs per option below 2,000 examples (default 3: noisier)",
    )
    p.add_argument(
        "--cap", type=int, default=0, help="at most this many training examples (default: none)"
    )
    p.add_argument(
        "--max-test",
        type=int,
        default=2000,
        help="test examples scored, a seeded sample (default 2000)",
    )
    p.add_argument(
        "--options",
        default="",
        help="only these options, comma-separated: "
        + ",".join(spec.id for spec in SWEPT)
        + f" (and {TAPT.id}: fine-tuning after task-adaptive pretraining, the pretraining "
        "answer's check; default: all)",
    )
    p.add_argument("--datasets", default="", help="only these dataset folders, comma-separated")
    _advice_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the samples (default 0)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("advise-eval"),
        help="where eval.json, eval.md and the plots go (default ./advise-eval)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="what was measured, kept for re-runs (default OUT/cache)",
    )
    p.add_argument(
        "--cached-only",
        action="store_true",
        help="advise and train nothing: report the datasets and sizes the cache holds, leave "
        "out the rest (one report over sizes that separate runs measured into one cache)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from embedding_advisor.errors import InvalidArgumentError

    from ..settings import SettingsError
    from .run import Settings, evaluate

    settings = Settings(
        root=args.dir,
        out=args.out,
        cache=args.cache or args.out / "cache",
        sizes=args.sizes,
        seeds=max(args.seeds, 1),
        small_seeds=max(args.small_seeds, 1),
        cap=max(args.cap, 0),
        max_test=max(args.max_test, 20),
        options=[o for o in args.options.split(",") if o],
        budget=args.budget,
        datasets=[d for d in args.datasets.split(",") if d],
        seed=args.seed,
        cached_only=args.cached_only,
        max_train=args.max_train,
    )
    try:
        evaluate(settings)
    except (CollectionError, InvalidArgumentError) as exc:
        print(f"advise eval: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SettingsError as exc:  # an ADVISOR_* variable the embedded server cannot take
        for line in exc.lines:
            print(f"advise eval: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print((args.out / "eval.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
