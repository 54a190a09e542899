"""Fuzz soak: generated dataset files (``tests/fuzzing.py``: good rows mixed with hostile lines,
raw bytes, huge numbers, deep nesting, odd Unicode) uploaded to a real server on a loopback port,
each through the real gRPC upload. Every answer must be a stored dataset or INVALID_ARGUMENT with
the file, line and field named; anything else (INTERNAL above all) is counted as a failure, and
the server must still answer health at the end. Targets: 0 crashes, 0 INTERNAL.

    .venv/bin/python benchmarks/fuzz_soak.py [N]        # default 10,000

Writes benchmarks/results/fuzz_soak.json.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import results_file  # noqa: E402
from fuzzing import dataset_file  # noqa: E402

from embedding_advisor import AdvisorClient, AdvisorError, InvalidDatasetError  # noqa: E402


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    from embedding_advisor_server.app import AdvisorServer
    from embedding_advisor_server.settings import ServerSettings

    outcomes: Counter = Counter()
    bad_messages: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = AdvisorServer(ServerSettings(host="127.0.0.1", port=0, data_dir=Path(tmp)))
        server.start()
        path = Path(tmp) / "fuzz.jsonl"
        t0 = time.perf_counter()
        with AdvisorClient(server.target, timeout=30) as client:

            @settings(max_examples=n, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            @given(dataset_file())
            def upload(data: bytes) -> None:
                path.write_bytes(data)
                try:
                    client.upload(path)
                    outcomes["stored"] += 1
                except InvalidDatasetError as err:
                    named = err.violations and all(
                        v.field.startswith("fuzz.jsonl") for v in err.violations
                    )
                    outcomes["invalid, file and line named" if named else "invalid, unnamed"] += 1
                    if not named and len(bad_messages) < 10:
                        bad_messages.append(str(err)[:300])
                except AdvisorError as err:
                    outcomes[f"other: {type(err).__name__}"] += 1
                    if len(bad_messages) < 10:
                        bad_messages.append(f"{type(err).__name__}: {str(err)[:300]}")

            upload()
            seconds = time.perf_counter() - t0
            client.wait_ready(5)
            healthy = bool(client.server_info().version)
        leftovers = len(list((Path(tmp) / "datasets").glob(".upload-*")))
        server.stop(grace=1)
    total = sum(outcomes.values())
    failures = total - outcomes["stored"] - outcomes["invalid, file and line named"]
    payload = {
        "inputs": total,
        "outcomes": dict(outcomes),
        "failures": failures,
        "internal": sum(v for k, v in outcomes.items() if "Internal" in k or k == "other: AdvisorError"),
        "healthy_after": healthy,
        "half_written_files_left": leftovers,
        "seconds": round(seconds, 1),
        "examples_of_failures": bad_messages,
    }
    for key, value in payload.items():
        print(f"{key}: {value}")
    results_file.write(ROOT / "benchmarks" / "results" / "fuzz_soak.json", payload)
    return 0 if failures == 0 and healthy and leftovers == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
