"""Memory of checking an upload: a generated ~100 MB JSONL file (short reviews) checked by the
whole-file parse (``parse_jsonl`` on its bytes, what uploads did before) and by the streamed check
(``check_file``, what they do now), each in a fresh process; peak resident memory above the
process's baseline, and seconds.

    .venv/bin/python benchmarks/upload_memory.py [MB]      # default 100

Writes benchmarks/results/upload_memory.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import results_file  # noqa: E402

PROBE = """
import resource, sys, time
from pathlib import Path
from embedding_advisor_server.core.data.parse import check_file, parse_jsonl
path = Path(sys.argv[2])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
if sys.argv[1] == "whole":
    n = len(parse_jsonl(path.read_bytes(), "big.jsonl"))
else:
    n = len(check_file(path, "big.jsonl"))
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(n, (peak - base) / 1024, seconds)
"""


def main() -> int:
    mb = float(sys.argv[1]) if len(sys.argv) > 1 else 100.0
    lines = (ROOT / "examples" / "movie_reviews.jsonl").read_bytes().splitlines(keepends=True)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        with open(path, "wb") as fh:
            written = 0
            while written < mb * 1024**2:
                for line in lines:
                    fh.write(line)
                    written += len(line)
        for how in ("whole", "streamed"):
            run = subprocess.run([sys.executable, "-c", PROBE, how, str(path)],
                                 capture_output=True, text=True, check=True)  # fmt: skip
            rows, mib, seconds = run.stdout.split()
            out[how] = {"rows": int(rows), "peak_rss_above_start_mib": round(float(mib)),
                        "seconds": round(float(seconds), 1)}  # fmt: skip
            print(how, out[how], flush=True)
        size = path.stat().st_size
    payload = {"file_mib": round(size / 1024**2, 1), **out}
    print(json.dumps(payload))
    results_file.write(ROOT / "benchmarks" / "results" / "upload_memory.json", payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
