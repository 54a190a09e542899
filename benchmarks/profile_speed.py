"""Profiling speed: 10,000 short sentences on this machine, parsing included.

The target (issue: dataset profiler) is about 10 s for 10k short sentences on 2 cores. Measured
here, for 10,000 seeded examples of each named shared dataset (default: rotten_tomatoes, 18.5
words per example, and tweets_sentiment, 15.7):

- ``cold_seconds``: a fresh process loading everything the profile needs (vectors, tokenizer, spaCy
  parser, MLM probe with its cached head) and profiling once: what `advise` with its embedded
  server pays;
- ``warm_seconds``: the same profile again with everything loaded: what a running `advise-server`
  pays; with the time of each stage (from the profile's progress reports);
- ``parse_all``: parsing all 10,000 examples (the profile parses only the held-out sample), to show
  the parser's throughput;
- ``mlm_warmup_seconds``: the one-off warm-up of the MLM head with an empty cache.

    .venv/bin/python benchmarks/profile_speed.py [NAME ...]

Writes benchmarks/results/profile_speed.json.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results" / "profile_speed.json"
N = 10_000


def load(name: str):
    from embedding_advisor_server.core.data.parse import parse_jsonl
    from embedding_advisor_server.core.data.sampling import sample, split

    data = parse_jsonl((SHARED / name / "train.jsonl").read_bytes(), "train.jsonl")
    data = sample(data, N, seed=0)
    train, test = split(data, 0.2, seed=0)
    return data, train, test


def one_run(name: str, cache_dir: str) -> dict:
    """Runs in a fresh process: cold load + profile, then a warm profile with stage times."""
    t0 = time.perf_counter()
    from embedding_advisor_server.core.backends.cache import ResourceCache
    from embedding_advisor_server.core.profile.complexity import dependency_distance
    from embedding_advisor_server.core.profile.profile import ProfileTools, profile_dataset

    data, train, test = load(name)
    t_data = time.perf_counter()
    res = ResourceCache(cache_dir=Path(cache_dir))
    tools = ProfileTools(
        vectors=res.vectors(None),
        tokenizer=res.tokenizer(None),
        parser=res.parser(),
        mlm=res.mlm(None),
    )
    t_loaded = time.perf_counter()
    profile_dataset(train, test, tools, True)
    cold = time.perf_counter() - t0

    marks: list[tuple[float, str]] = []
    t1 = time.perf_counter()
    prof = profile_dataset(
        train, test, tools, True, report=lambda f, m: marks.append((time.perf_counter(), m))
    )
    warm = time.perf_counter() - t1
    # Each progress report starts a stage; a stage lasts until the next report.
    ends = [when for when, _ in marks[1:]] + [t1 + warm]
    stages = {
        message: round(end - when, 2) for (when, message), end in zip(marks, ends, strict=True)
    }

    words = sum(len(x[0].split()) for x in data.inputs)
    t2 = time.perf_counter()
    dependency_distance(tools.parser, data.inputs)
    parse_all = time.perf_counter() - t2
    return {
        "dataset": name,
        "examples": len(data),
        "words": words,
        "cold_seconds": round(cold, 2),
        "cold_breakdown": {
            "read_and_split": round(t_data - t0, 2),
            "load_models": round(t_loaded - t_data, 2),
        },
        "warm_seconds": round(warm, 2),
        "warm_stages_seconds": stages,
        "held_out_profiled": prof.held_out_profiled,
        "train_profiled": prof.train_profiled,
        "parse_all": {
            "seconds": round(parse_all, 2),
            "examples_per_second": round(len(data) / parse_all),
            "words_per_second": round(words / parse_all),
        },
        "profile": {
            "complexity_mean": round(prof.complexity_mean, 3),
            "ambiguity_mean": round(prof.ambiguity_mean, 3),
            "unseen_prevalence_mean": round(prof.unseen_prevalence_mean, 3),
            "test_unseen_rate": round(prof.test_unseen_rate, 3),
            "vectors_oov_rate": round(prof.vectors_oov_rate, 4),
            "encoder_pieces_per_word": round(prof.encoder_pieces_per_word, 3),
            "unigram_overlap": round(prof.domain.unigram_overlap, 3),
            "unigram_similarity": round(prof.domain.unigram_similarity, 3),
            "mlm_loss": round(prof.domain.mlm_loss, 3),
            "reference_mlm_loss": round(prof.domain.reference_mlm_loss, 3),
        },
    }


def warmup_seconds() -> float:
    from embedding_advisor_server.core.backends.bundled import default_encoder_path
    from embedding_advisor_server.core.backends.mlm import MLMProbe

    with tempfile.TemporaryDirectory() as empty:
        t0 = time.perf_counter()
        MLMProbe(default_encoder_path(), Path(empty))
        return time.perf_counter() - t0


def main(names: list[str]) -> None:
    cache = os.environ.get("ADVISOR_CACHE_DIR") or tempfile.mkdtemp(prefix="advisor-cache-")
    warm_up = warmup_seconds()
    # Fill the cache once so the cold runs below measure a normal (cached) start.
    from embedding_advisor_server.core.backends.bundled import default_encoder_path
    from embedding_advisor_server.core.backends.mlm import MLMProbe

    MLMProbe(default_encoder_path(), Path(cache))
    rows = []
    for name in names or ["rotten_tomatoes", "tweets_sentiment"]:
        if not (SHARED / name).is_dir():
            print(f"skipping {name}: not found under {SHARED}")
            continue
        out = subprocess.run(
            [sys.executable, __file__, "--one", name, cache],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{name}: {row['examples']} examples ({row['words']} words): cold {row['cold_seconds']} s "
            f"(models {row['cold_breakdown']['load_models']} s), warm {row['warm_seconds']} s; "
            f"parsing all {row['parse_all']['examples_per_second']} ex/s, "
            f"{row['parse_all']['words_per_second']} words/s"
        )
        print(f"  stages (warm): {row['warm_stages_seconds']}")
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "torch_threads": _torch_threads(),
        },
        "mlm_warmup_seconds": round(warm_up, 2),
        "datasets": rows,
    }
    print(f"MLM head warm-up (once per encoder, then cached): {warm_up:.1f} s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(one_run(sys.argv[2], sys.argv[3])))
    else:
        main(sys.argv[1:])
