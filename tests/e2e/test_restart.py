"""A real server process killed mid-job: finished results survive, the running job is interrupted."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import EXAMPLE, read_jsonl, write_jsonl
from embedding_advisor import AdvisorClient, options
from embedding_advisor.v1 import advisor_pb2 as pb


def start_server(data_dir) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "embedding_advisor_server",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        match = re.search(r"listening on ([\d.]+:\d+)", line)
        if match:
            return proc, match.group(1)
        if time.monotonic() > deadline:
            break
    proc.kill()
    pytest.fail("the server did not start")


def test_kill_and_restart(tmp_path):
    data_dir = tmp_path / "data"
    small = write_jsonl(tmp_path / "small.jsonl", read_jsonl(EXAMPLE, 120))
    big = write_jsonl(tmp_path / "big.jsonl", read_jsonl(EXAMPLE))
    proc, target = start_server(data_dir)
    try:
        with AdvisorClient(target, timeout=300) as client:
            client.wait_ready(30)
            done = client.start_advice(client.upload(small).dataset_id)
            finished = client.wait(done.job_id)
            assert finished.state == pb.JOB_STATE_SUCCEEDED, finished.error
            running = client.start_advice(
                client.upload(big).dataset_id, advice_options=options(max_train_examples=1600)
            )
            for event in client.watch(running.job_id):
                if event.HasField("progress") and event.progress.stage == "pilot":
                    break
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # no clean shutdown: the process just dies
        proc.wait(30)
        proc.stdout.close()

    proc, target = start_server(data_dir)
    try:
        # A second server on the same data dir refuses to start, saying why.
        second = subprocess.run(
            [sys.executable, "-m", "embedding_advisor_server", "--port", "0", "--data-dir"]
            + [str(data_dir)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 2 and "already serving" in second.stderr
        with AdvisorClient(target, timeout=60) as client:
            again = client.get_job(done.job_id)
            assert again.state == pb.JOB_STATE_SUCCEEDED
            assert again.recommendation == finished.recommendation
            lost = client.get_job(running.job_id)
            assert lost.state == pb.JOB_STATE_INTERRUPTED
            assert "stopped" in lost.error
            assert [e.job.state for e in client.watch(running.job_id)] == [pb.JOB_STATE_INTERRUPTED]
            assert {j.job_id for j in client.list_jobs()} >= {done.job_id, running.job_id}
    finally:
        proc.send_signal(signal.SIGTERM)  # a clean shutdown this time
        assert proc.wait(60) == 0
        proc.stdout.close()
