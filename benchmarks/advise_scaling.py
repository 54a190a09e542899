"""Does advice cost grow with the training set? The same dataset advised at two sizes.

The pilot pool is bounded by the budget, so only reading, parsing and profiling should grow with
the training set (linearly); the pilots should cost the same. This advises the first N lines of
one shared dataset's training file for each N (default: tweets_sentiment at 2,000 and 20,000,
no test file, as a user would call it) through one embedded server, and prints and writes
(benchmarks/results/advise_scaling.json) each run's wall time and seconds per stage, with the
ratio of the largest to the smallest.

    .venv/bin/python benchmarks/advise_scaling.py [--dataset NAME] [N ...]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import results_file
from advise_walltime import RESULTS, SHARED, _commit, measure

from embedding_advisor import AdvisorClient
from embedding_advisor_server.app import AdvisorServer
from embedding_advisor_server.settings import ServerSettings


def main(dataset: str, sizes: list[int]) -> None:
    source = SHARED / dataset / "train.jsonl"
    with source.open(encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    if max(sizes) > len(lines):
        raise SystemExit(f"{source} has {len(lines)} examples, fewer than {max(sizes)}")
    rows = []
    with tempfile.TemporaryDirectory() as work:
        settings = ServerSettings(host="127.0.0.1", port=0, data_dir=Path(work) / "data")
        with AdvisorServer(settings) as server, AdvisorClient(server.target) as client:
            for n in sorted(sizes):
                train = Path(work) / f"{dataset}_{n}.jsonl"
                train.write_text("".join(lines[:n]), encoding="utf-8")
                rows.append(measure(client, f"{dataset} first {n}", train, None))
    ratio = round(rows[-1]["wall_seconds"] / rows[0]["wall_seconds"], 2)
    print(f"wall time at {max(sizes)} / at {min(sizes)}: {ratio}")
    results_file.write(
        RESULTS.with_name("advise_scaling.json"),
        {
            "dataset": dataset,
            "budget": "server default (quick)",
            "wall_ratio_largest_to_smallest": ratio,
            "runs": rows,
            "commit": _commit(),
        },
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    name = "tweets_sentiment"
    if "--dataset" in args:
        i = args.index("--dataset")
        name = args[i + 1]
        del args[i : i + 2]
    main(name, [int(a) for a in args] or [2000, 20000])
