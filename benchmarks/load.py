"""Load: 50 clients on loopback mixing health checks, ListJobs, Profile and WatchJob against a real
``advise-server`` subprocess, for a bounded time: first while an advice job trains on both cores
(SECONDS), then with none (SECONDS / 2). Reports per phase and call kind the count, the outcomes
by status code and p50 / p95 / p99 latency (measured in the clients' process, which shares the
two cores), the CPU seconds the server's process and its worker processes used, and the
server's resident memory (peak and at the end, workers apart). RESOURCE_EXHAUSTED is admission
control working (counted as refused, not as an error); anything else but OK is an error. A
watch reads three events or watches for 2 s, whichever comes first, as a dashboard would. Beside
the clients, a health probe in its own process checks every 50 ms, as an orchestrator would.
Targets: 0 errors, health p99 < 100 ms.

The clients' threads share the two cores with the server. They run twice: at the server's own
CPU priority, and at nice 10 (``--client-nice``), which models clients on other machines: a
load generator of 50 busy Python threads otherwise takes the server's CPU as no remote client
can, and the server's latency then measures the generator. The probe stays at the server's
priority, as an orchestrator's would. Each run may be repeated per isolation (``--isolations``:
jobs and profiles in worker processes, the default, or ``thread``, on the server's threads).
A "before" is the same script with ``PYTHONPATH`` naming an older checkout's ``client`` and
``server`` (the server subprocess inherits it) and ``--out`` another file.

    .venv/bin/python benchmarks/load.py [SECONDS] [CLIENTS] [--isolations process,thread]
        [--client-nice 0,10] [--out FILE]     # default 60 s, 50 clients

Writes benchmarks/results/load.json (or ``--out``).
"""

from __future__ import annotations

import argparse
import os
import random
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
from serving import cpu_seconds, descendants, rss_mib, start_server  # noqa: E402

from embedding_advisor.v1 import advisor_pb2 as pb  # noqa: E402
from embedding_advisor.v1 import advisor_pb2_grpc  # noqa: E402

EXAMPLE = ROOT / "examples" / "movie_reviews.jsonl"
MIX = (("health", 0.4), ("list", 0.3), ("watch", 0.2), ("profile", 0.1))


def _cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds of the server's process and, apart, of its worker processes."""
    return {"server": cpu_seconds(pid), "workers": sum(map(cpu_seconds, descendants(pid)))}


def _start_server(data_dir: Path, isolation: str) -> tuple[subprocess.Popen, str]:
    log = ROOT / "benchmarks" / "results" / f"load-server-{isolation}.log"
    log.unlink(missing_ok=True)
    settings = ("--budget", "quick", "--max-train-examples", "400", "--isolation", isolation)
    return start_server(data_dir, *settings, log=log)


def _call(kind: str, stub, health, dataset_id: str, job_id: str) -> str:
    if kind == "health":
        health.Check(health_pb2.HealthCheckRequest(), timeout=10)
    elif kind == "list":
        stub.ListJobs(pb.ListJobsRequest(page_size=50), timeout=10)
    elif kind == "profile":
        stub.Profile(pb.ProfileRequest(dataset_id=dataset_id), timeout=120)
    else:
        stream = stub.WatchJob(pb.WatchJobRequest(job_id=job_id), timeout=2)
        try:
            for n, _ in enumerate(stream):
                if n >= 2:
                    break
        except grpc.RpcError as exc:  # the watcher's own 2 s: it stops watching, as planned
            if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                raise
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
    time.sleep(0.05)
"""


def _probe(target: str, seconds: float) -> subprocess.Popen:
    """A health probe as an orchestrator runs it: its own process, one check every 50 ms."""
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


def _phase(target: str, seconds: float, clients: int, dataset_id: str, job_id: str, rss, pid,
           nice: int = 0):  # fmt: skip
    """``clients`` threads calling for ``seconds``: latencies and outcomes per call kind."""
    latencies: dict[str, list[float]] = defaultdict(list)
    outcomes: dict[str, Counter] = defaultdict(Counter)
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        os.nice(nice)  # this thread's alone on Linux: the probe and the server keep theirs
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
    cpu_before = _cpu_seconds(pid)
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        rss.append(rss_mib(pid))
        time.sleep(0.5)
    probed = _probed(probe)
    cpu = {k: round(v - cpu_before[k], 1) for k, v in _cpu_seconds(pid).items()}

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
    return {"calls": calls, "health_probe": probed, "cpu_seconds": cpu, "errors": errors}


def _run(isolation: str, seconds: float, clients: int, nice: int) -> dict:
    phases = {}
    with tempfile.TemporaryDirectory() as tmp:
        proc, target = _start_server(Path(tmp), isolation)
        try:
            channel = grpc.insecure_channel(target)
            stub = advisor_pb2_grpc.AdvisorServiceStub(channel)
            chunks = [pb.UploadDatasetRequest(chunk=EXAMPLE.read_bytes(), filename=EXAMPLE.name)]
            dataset_id = stub.UploadDataset(iter(chunks), timeout=60).dataset.dataset_id
            job_id = stub.StartAdvice(pb.StartAdviceRequest(dataset_id=dataset_id)).job.job_id
            rss = [rss_mib(proc.pid)]
            # An advice job trains on both cores meanwhile: what a busy server looks like.
            phases["with_a_job_running"] = _phase(
                target, seconds, clients, dataset_id, job_id, rss, proc.pid, nice
            )
            stub.CancelJob(pb.CancelJobRequest(job_id=job_id), timeout=30)
            phases["no_job_running"] = _phase(
                target, seconds / 2, clients, dataset_id, job_id, rss, proc.pid, nice
            )
            time.sleep(2)
            rss_end = rss_mib(proc.pid)
            channel.close()
        finally:
            proc.terminate()
            proc.wait(30)
    return {
        "phases": phases,
        "errors": sum(p["errors"] for p in phases.values()),
        "server_rss_mib": {"start": round(rss[0]), "peak": round(max(rss)), "end": round(rss_end)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("seconds", nargs="?", type=float, default=60.0)
    parser.add_argument("clients", nargs="?", type=int, default=50)
    parser.add_argument("--isolations", default="process")
    parser.add_argument("--client-nice", default="0,10")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "load.json")
    a = parser.parse_args()
    runs = {
        f"{isolation}, clients at nice {nice}": _run(isolation, a.seconds, a.clients, int(nice))
        for isolation in a.isolations.split(",")
        for nice in a.client_nice.split(",")
    }
    for name, run in runs.items():
        for phase_name, phase in run["phases"].items():
            for kind, c in phase["calls"].items():
                print(name, phase_name, kind, c)
            print(name, phase_name, "health probe (own process)", phase["health_probe"])
            print(name, phase_name, "cpu seconds", phase["cpu_seconds"])
        print(name, "errors:", run["errors"], "rss MiB:", run["server_rss_mib"])
    import embedding_advisor_server

    payload = {"seconds": a.seconds, "clients": a.clients, "mix": dict(MIX),
               "server_from": str(Path(embedding_advisor_server.__file__).parents[1]),
               # The server inherits this environment: a before / after of a setting names it
               # (its tokens left out).
               "server_env": {k: v for k, v in os.environ.items()
                              if k.startswith("ADVISOR_") and "TOKEN" not in k},
               "runs": runs}  # fmt: skip
    results_file.write(a.out, payload)
    return 0 if all(run["errors"] == 0 for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
