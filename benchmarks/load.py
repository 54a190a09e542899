"""Load: 50 clients on loopback mixing health checks, ListJobs, Profile and WatchJob against a real
``advise-server`` subprocess, for a bounded time: first while an advice job trains on both cores
(SECONDS), then with none (SECONDS / 2). Reports per phase and call kind the count, the outcomes
by status code and p50 / p95 / p99 latency (measured in the clients' process, which shares the
two cores), and the server's resident memory (peak and at the end). RESOURCE_EXHAUSTED is
admission control working (counted as refused, not as an error); anything else but OK is an
error. Beside the clients, a health probe in its own process checks every 100 ms, as an
orchestrator would. Targets: 0 errors, health p99 < 100 ms.

    .venv/bin/python benchmarks/load.py [SECONDS] [CLIENTS]      # default 60 s, 50 clients

Writes benchmarks/results/load.json.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import results_file  # noqa: E402
from serving import start_server  # noqa: E402

from embedding_advisor.v1 import advisor_pb2 as pb  # noqa: E402
from embedding_advisor.v1 import advisor_pb2_grpc  # noqa: E402

EXAMPLE = ROOT / "examples" / "movie_reviews.jsonl"
MIX = (("health", 0.4), ("list", 0.3), ("watch", 0.2), ("profile", 0.1))


def _rss_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024


def _start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    log = ROOT / "benchmarks" / "results" / "load-server.log"
    log.unlink(missing_ok=True)
    return start_server(data_dir, "--budget", "quick", "--max-train-examples", "400", log=log)


def _call(kind: str, stub, health, dataset_id: str, job_id: str) -> str:
    if kind == "health":
        health.Check(health_pb2.HealthCheckRequest(), timeout=10)
    elif kind == "list":
        stub.ListJobs(pb.ListJobsRequest(page_size=50), timeout=10)
    elif kind == "profile":
        stub.Profile(pb.ProfileRequest(dataset_id=dataset_id), timeout=120)
    else:
        stream = stub.WatchJob(pb.WatchJobRequest(job_id=job_id), timeout=30)
        try:
            for n, _ in enumerate(stream):
                if n >= 2:
                    break
        finally:
            stream.cancel()
    return "OK"


PROBE = """
import sys, time, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(sys.argv[1]))
stop = time.monotonic() + float(sys.argv[2])
while time.monotonic() < stop:
    t0 = time.perf_counter()
    try:
        stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
        print(round(1000 * (time.perf_counter() - t0), 2), flush=True)
    except grpc.RpcError as exc:
        print(exc.code().name, flush=True)
    time.sleep(0.1)
"""


def _probe(target: str, seconds: float) -> subprocess.Popen:
    """A health probe as an orchestrator runs it: its own process, one check every 100 ms."""
    return subprocess.Popen([sys.executable, "-c", PROBE, target, str(seconds)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip


def _probed(proc: subprocess.Popen) -> dict:
    said = proc.communicate(timeout=120)[0].split()
    times = sorted(float(x) for x in said if x[0].isdigit())
    failed = [x for x in said if not x[0].isdigit()]

    def at(q: float) -> float:
        return round(times[min(len(times) - 1, int(q * len(times)))], 1) if times else 0.0

    return {"count": len(said), "failed": len(failed), "p50_ms": at(0.5), "p95_ms": at(0.95),
            "p99_ms": at(0.99), "max_ms": round(times[-1], 1) if times else 0.0}  # fmt: skip


def _phase(target: str, seconds: float, clients: int, dataset_id: str, job_id: str, rss, pid):
    """``clients`` threads calling for ``seconds``: latencies and outcomes per call kind."""
    latencies: dict[str, list[float]] = defaultdict(list)
    outcomes: dict[str, Counter] = defaultdict(Counter)
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with grpc.insecure_channel(target) as own:
            own_stub = advisor_pb2_grpc.AdvisorServiceStub(own)
            own_health = health_pb2_grpc.HealthStub(own)
            while time.monotonic() < stop:
                kind = rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
                t0 = time.perf_counter()
                try:
                    code = _call(kind, own_stub, own_health, dataset_id, job_id)
                except grpc.RpcError as exc:
                    code = exc.code().name
                with lock:
                    latencies[kind].append(1000 * (time.perf_counter() - t0))
                    outcomes[kind][code] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    probe = _probe(target, seconds)
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        rss.append(_rss_mib(pid))
        time.sleep(0.5)
    probed = _probed(probe)

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0

    calls = {
        kind: {
            "count": len(latencies[kind]),
            "outcomes": dict(outcomes[kind]),
            "p50_ms": pct(latencies[kind], 0.50),
            "p95_ms": pct(latencies[kind], 0.95),
            "p99_ms": pct(latencies[kind], 0.99),
        }
        for kind, _ in MIX
    }
    errors = sum(n for c in outcomes.values() for code, n in c.items()
                 if code not in ("OK", "RESOURCE_EXHAUSTED"))  # fmt: skip
    errors += probed["failed"]
    return {"calls": calls, "health_probe": probed, "errors": errors}


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    phases = {}
    with tempfile.TemporaryDirectory() as tmp:
        proc, target = _start_server(Path(tmp))
        try:
            channel = grpc.insecure_channel(target)
            stub = advisor_pb2_grpc.AdvisorServiceStub(channel)
            chunks = [pb.UploadDatasetRequest(chunk=EXAMPLE.read_bytes(), filename=EXAMPLE.name)]
            dataset_id = stub.UploadDataset(iter(chunks), timeout=60).dataset.dataset_id
            job_id = stub.StartAdvice(pb.StartAdviceRequest(dataset_id=dataset_id)).job.job_id
            rss = [_rss_mib(proc.pid)]
            # An advice job trains on both cores meanwhile: what a busy server looks like.
            phases["with_a_job_running"] = _phase(
                target, seconds, clients, dataset_id, job_id, rss, proc.pid
            )
            stub.CancelJob(pb.CancelJobRequest(job_id=job_id), timeout=30)
            phases["no_job_running"] = _phase(
                target, seconds / 2, clients, dataset_id, job_id, rss, proc.pid
            )
            time.sleep(2)
            rss_end = _rss_mib(proc.pid)
            channel.close()
        finally:
            proc.terminate()
            proc.wait(30)
    errors = sum(p["errors"] for p in phases.values())
    payload = {
        "seconds": seconds,
        "clients": clients,
        "mix": dict(MIX),
        "phases": phases,
        "errors": errors,
        "server_rss_mib": {"start": round(rss[0]), "peak": round(max(rss)), "end": round(rss_end)},
    }
    for name, phase in phases.items():
        for kind, c in phase["calls"].items():
            print(name, kind, c)
        print(name, "health probe (own process)", phase["health_probe"])
    print("errors:", errors, "rss MiB:", payload["server_rss_mib"])
    results_file.write(ROOT / "benchmarks" / "results" / "load.json", payload)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
