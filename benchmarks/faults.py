"""Faults: a real ``advise-server`` process killed or stopped at bad moments, then restarted on the
same data dir. Each case reports what a user would check:

- ``kill_mid_upload``: kill -9 while a large upload streams; after a restart the dataset store
  holds no partial dataset, the half-written temporary file is named (it is removed at a start
  once it is an hour old, so that another process's upload in progress is never taken), and a
  new upload of the same file succeeds;
- ``kill_mid_job``: kill -9 while an advice runs, after another finished; after a restart the
  finished result is intact and the cut job reads INTERRUPTED; the killed server's worker
  processes are gone within seconds (none left training for nobody);
- ``worker_killed``: kill -9 the worker process of a running advice, as the kernel's
  out-of-memory killer would: the job's state and message, and whether the same server then
  finishes the next advice;
- ``sigterm``: SIGTERM while an advice runs: seconds to exit, exit code, the job's state after;
- ``cancel``: CancelJob during the profile and during the pilots: seconds until CANCELLED, and
  the resident memory of the server and its workers while the job runs and 2 s after;
- ``second_server``: a second server on a served data dir: exit code and message.

Targets: 0 lost finished results, no partial dataset, a second server refused, cancel <= 2 s.

    .venv/bin/python benchmarks/faults.py

Writes benchmarks/results/faults.json.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import psutil  # noqa: E402
import results_file  # noqa: E402
from serving import descendants, rss_mib, start_server  # noqa: E402

from embedding_advisor import AdvisorClient, AdvisorError, options  # noqa: E402
from embedding_advisor.v1 import advisor_pb2 as pb  # noqa: E402

EXAMPLE = ROOT / "examples" / "movie_reviews.jsonl"


def start(data_dir: Path) -> tuple[subprocess.Popen, str]:
    return start_server(data_dir, "--budget", "quick", "--max-train-examples", "300")


def _running(client: AdvisorClient, job_id: str, stage: str = "pilot") -> None:
    for event in client.watch(job_id):
        if event.HasField("progress") and event.progress.stage.startswith(stage):
            return
        if event.HasField("job"):
            raise RuntimeError(f"job {job_id} ended before the {stage} stage")


def kill_mid_upload(tmp: Path) -> dict:
    data = tmp / "upload"
    big = tmp / "big.jsonl"
    big.write_bytes(EXAMPLE.read_bytes() * 40)  # ~10 MB, sent in 64 KiB chunks
    proc, target = start(data)
    sent = threading.Event()

    def upload() -> None:
        with AdvisorClient(target, timeout=60) as client:
            try:
                client.upload(big, chunk_bytes=64 * 1024)
            except AdvisorError:
                pass
            sent.set()

    worker = threading.Thread(target=upload)
    worker.start()
    time.sleep(0.3)  # part of the stream is on the server's disk
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    worker.join(60)
    partial = sorted(p.name for p in (data / "datasets").glob(".upload-*"))
    proc, target = start(data)
    try:
        with AdvisorClient(target, timeout=120) as client:
            stored = [p.name for p in (data / "datasets").iterdir() if not p.name.startswith(".")]
            again = client.upload(big)
    finally:
        proc.terminate()
        proc.wait(30)
    return {
        "temporary_files_after_kill": len(partial),
        "datasets_stored_before_reupload": len([s for s in stored if not s.endswith(".json")]),
        "reupload_ok": bool(again.dataset_id),
    }


def kill_mid_job(tmp: Path) -> dict:
    data = tmp / "job"
    small = tmp / "small.jsonl"
    small.write_bytes(b"".join(EXAMPLE.read_bytes().splitlines(keepends=True)[:150]))
    proc, target = start(data)
    with AdvisorClient(target, timeout=600) as client:
        done = client.wait(client.start_advice(client.upload(small).dataset_id).job_id)
        before = done.recommendation.SerializeToString()
        cut = client.start_advice(client.upload(EXAMPLE).dataset_id, advice_options=options(seed=1))
        _running(client, cut.job_id)
    workers = descendants(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    left = _left_after(workers, 10.0)
    proc, target = start(data)
    try:
        with AdvisorClient(target, timeout=60) as client:
            kept = client.get_job(done.job_id)
            state = client.get_job(cut.job_id).state
    finally:
        proc.terminate()
        proc.wait(30)
    return {
        "finished_result_intact": kept.recommendation.SerializeToString() == before,
        "cut_job_state": pb.JobState.Name(state),
        "workers_left_10_s_after": left,
    }


def _left_after(pids: list[int], seconds: float) -> int:
    """How many of the processes still run ``seconds`` after now."""
    time.sleep(seconds)
    return sum(rss_mib(pid) > 0 for pid in pids)


def _memory(pid: int) -> dict:
    workers = descendants(pid)
    return {"server_mib": round(rss_mib(pid)), "workers_mib": round(sum(map(rss_mib, workers)))}


def worker_killed(tmp: Path) -> dict:
    data = tmp / "oom"
    small = tmp / "small-again.jsonl"
    small.write_bytes(b"".join(EXAMPLE.read_bytes().splitlines(keepends=True)[:150]))
    proc, target = start(data)
    try:
        with AdvisorClient(target, timeout=600) as client:
            job = client.start_advice(client.upload(EXAMPLE).dataset_id)
            _running(client, job.job_id)
            for worker in descendants(proc.pid):  # the job's worker (and the resource tracker)
                if "spawn_main" in " ".join(psutil.Process(worker).cmdline()):
                    os.kill(worker, signal.SIGKILL)
            cut = client.wait(job.job_id)
            after = client.wait(client.start_advice(client.upload(small).dataset_id).job_id)
    finally:
        proc.terminate()
        proc.wait(30)
    return {
        "job_state": pb.JobState.Name(cut.state),
        "job_error": cut.error,
        "next_job_state": pb.JobState.Name(after.state),
    }


def sigterm(tmp: Path) -> dict:
    data = tmp / "term"
    proc, target = start(data)
    with AdvisorClient(target, timeout=600) as client:
        job = client.start_advice(client.upload(EXAMPLE).dataset_id)
        _running(client, job.job_id)
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(120)
    exit_seconds = time.perf_counter() - t0
    proc, target = start(data)
    try:
        with AdvisorClient(target, timeout=60) as client:
            state = client.get_job(job.job_id).state
    finally:
        proc.terminate()
        proc.wait(30)
    return {
        "exit_code": code,
        "seconds_to_exit": round(exit_seconds, 1),
        "job_state_after": pb.JobState.Name(state),
    }


def cancel(tmp: Path) -> dict:
    """CancelJob on an advice in each stage it reaches: seconds until the job reads CANCELLED."""
    data = tmp / "cancel"
    proc, target = start(data)
    out = {}
    try:
        with AdvisorClient(target, timeout=600) as client:
            dataset = client.upload(EXAMPLE).dataset_id
            for stage in ("profile", "pilot"):
                job = client.start_advice(dataset, advice_options=options(seed=len(out)))
                _running(client, job.job_id, stage)
                running = _memory(proc.pid)
                t0 = time.perf_counter()
                state = client.cancel_job(job.job_id).state
                seconds = round(time.perf_counter() - t0, 2)
                time.sleep(2)
                out[f"during_{stage}"] = {"seconds": seconds, "state": pb.JobState.Name(state),
                                          "memory_while_running": running,
                                          "memory_2_s_after": _memory(proc.pid)}  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(30)
    return out


def second_server(tmp: Path) -> dict:
    data = tmp / "second"
    proc, _ = start(data)
    try:
        other = subprocess.run(
            [sys.executable, "-m", "embedding_advisor_server", "--port", "0", "--data-dir",
             str(data)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(30)
    return {"exit_code": other.returncode, "message": other.stderr.strip().splitlines()[-1]}


def main() -> int:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        cases = (kill_mid_upload, kill_mid_job, worker_killed, sigterm, cancel, second_server)
        for case in cases:
            t0 = time.perf_counter()
            results[case.__name__] = {
                **case(Path(tmp)),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            print(case.__name__, results[case.__name__], flush=True)
    results_file.write(ROOT / "benchmarks" / "results" / "faults.json", results)
    ok = (
        results["kill_mid_upload"]["datasets_stored_before_reupload"] == 0
        and results["kill_mid_job"]["finished_result_intact"]
        and results["kill_mid_job"]["cut_job_state"] == "JOB_STATE_INTERRUPTED"
        and results["kill_mid_job"]["workers_left_10_s_after"] == 0
        and results["worker_killed"]["job_state"] == "JOB_STATE_FAILED"
        and results["worker_killed"]["next_job_state"] == "JOB_STATE_SUCCEEDED"
        and results["second_server"]["exit_code"] == 2
        and all(
            c["state"] == "JOB_STATE_CANCELLED"
            for c in results["cancel"].values()
            if isinstance(c, dict)
        )  # fmt: skip
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
