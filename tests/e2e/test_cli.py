"""The ``advise`` command as a user runs it: a subprocess, exit codes, stdout and stderr."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import jsonschema
import tomllib

from conftest import ARMS, EXAMPLE, ROOT, write_jsonl
from embedding_advisor import __version__, output

ADVISE = [sys.executable, "-m", "embedding_advisor.cli"]


def advise(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*ADVISE, *args], capture_output=True, text=True, timeout=timeout)


def test_embedded_json_and_html_report(small_reviews, tmp_path):
    result = advise(
        *[str(small_reviews), "--json", "--max-train", "120", "--data-dir", str(tmp_path / "d")],
        *["--backend", "torch", "--budget", "quick", "--priority", "cost", "--tolerance", "5"],
        *["--report", str(tmp_path / "out" / "advice.html")],
        *["--save-adapted", str(tmp_path / "adapted"), "--progress", "json"],
        *["--cross-fit", "0"],  # the embedded server's default is 500
    )
    assert result.returncode == 0, result.stderr
    # --progress json: one object per event on stderr, the job's stages in order, then done.
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {e["event"] for e in events} == {"progress"} and len(events) >= 5
    stages = [e["stage"].split(":")[0] for e in events]
    assert stages[0] == "client" and {"load", "profile", "pilot"} <= set(stages)
    assert events[-1]["message"].endswith("succeeded") and events[-1]["fraction"] == 1
    elapsed = [e["elapsed_s"] for e in events]
    assert elapsed == sorted(elapsed)
    rec = json.loads(result.stdout)  # stdout holds the JSON and nothing else
    jsonschema.validate(rec, output.schema())  # the shipped schema holds for real output
    # The family advised is the chosen option's (null when nothing is advised).
    assert rec["embedding"] == (rec["choice"] or {}).get("embedding")
    assert rec["run"]["inputs"] == {"train": small_reviews.name, "test": None, "domain_corpus": None}
    assert rec["run"]["client_version"] == rec["run"]["server_version"] == __version__
    assert rec["run"]["options"]["budget"] == "quick" and rec["run"]["options"]["seed"] == 0
    assert rec["run"]["options"]["max_train_examples"] == 120
    assert rec["run"]["options"]["cross_fit_examples"] == 0
    assert rec["run"]["machine"]["cpu_cores"] >= 1 and rec["run"]["machine"]["torch"]
    pilots = {p["arm"]: p for p in rec["pilots"]}
    assert set(pilots) == ARMS
    # The backend and, where not fp32, the precision the run used (bf16 where this CPU has the units).
    frozen = pilots["encoder_frozen_logreg"]["description"]
    precision = "bf16" if rec["precision"].startswith("bf16") else None
    assert f"(torch eager{', ' + precision if precision else ''})" in frozen, (frozen, rec["precision"])
    assert [c["size"] for c in pilots["encoder_frozen_bilstm"]["curve"]] == [60, 120]
    assert rec["profile"]["num_train"] == 120 and rec["metric"] == "accuracy"
    # The pool is the decision size: fine-tuning is measured there, at that size only.
    assert [c["size"] for c in pilots["encoder_finetuned"]["curve"]] == [120]
    assert rec["priority"] == "cost" and rec["tolerance_points"] == 5
    assert (tmp_path / "d" / "jobs.sqlite3").exists()  # the embedded server kept its job
    page = (tmp_path / "out" / "advice.html").read_text()
    assert "report written to" in result.stderr
    assert "Embedding advice: small-reviews.jsonl" in page
    # 30 held-out examples may not tell any option from the majority class: then no choice.
    assert rec["choice"]["label"] in page if rec["choice"] else "nothing is advised" in page
    assert page.count("data:image/png;base64,") == 3
    # The adapted encoder (TAPT's: no corpus here) saved where asked.
    pre = rec.get("pretraining")
    if pre and pre.get("adapted_weights"):
        assert pre["adapted_weights"]["kind"] == "tapt"
        saved = sorted(p.name for p in (tmp_path / "adapted").iterdir())
        assert saved == sorted(pre["adapted_weights"]["files"])
        assert "model.safetensors" in saved and "adapted weights (" in result.stderr
    else:  # nothing learned: no pretraining answer, so nothing kept
        assert "no adapted weights to save" in result.stderr
        assert not (tmp_path / "adapted").exists()


def test_remote_server_human_summary(server, reviews, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    # 200 of the 240 training examples: with 100, every option can fall within the noise of the
    # majority baseline on the 60 held-out examples, and then nothing is advised.
    result = advise(
        *[str(reviews), "--server", server.target, "--max-train", "200", "--seed", "3"],
        *["--budget", "quick", "--min-throughput", "1000"],
        *["--report", str(blocker / "advice.md")],
    )
    # The report cannot be written (its folder is a file): exit 1, but the advice is printed.
    assert result.returncode == 1 and "cannot write the report" in result.stderr
    assert "Recommendation" in result.stdout and "Pilots: accuracy" in result.stdout
    # Not a terminal: no box, no line wrapped mid-value, and progress as plain lines on stderr.
    assert "╭" not in result.stdout and "Recommendation: " in result.stdout.splitlines()[0]
    lines = result.stdout.splitlines()
    assert any(line.startswith("Decision at 240 training examples (priority") for line in lines)
    assert re.search(r"^\[\s*\d+s\]\s+\d+% pilot", result.stderr, re.M), result.stderr
    text = " ".join(result.stdout.split())
    assert "Why:" in text and "Decision at 240 training examples" in text
    assert "at least 1,000 examples/s" in text and "set aside:" in text
    assert "dependency distance" in result.stdout and "masked-LM loss" in result.stdout


def test_invalid_dataset_exits_2_naming_line_and_field(server, tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"text": "ok", "label": "a"}, {"text": "no label"}])
    result = advise(str(bad), "--server", server.target)
    assert result.returncode == 2
    assert "bad.jsonl:2:label: is missing" in result.stderr.replace("\n", " ")


def test_missing_file_and_bad_option_exit_2(server, tmp_path):
    assert advise(str(tmp_path / "nope.jsonl"), "--server", server.target).returncode == 2
    result = advise(str(tmp_path / "nope.jsonl"), "--test-fraction", "3")
    assert result.returncode == 2 and "test-fraction" in result.stderr
    result = advise(str(tmp_path / "nope.jsonl"), "--backend", "tensorrt")
    assert result.returncode == 2 and "backend" in result.stderr


def test_bad_corpus_or_save_folder_exit_2_before_any_work(server, reviews, tmp_path):
    result = advise(str(reviews), "--server", server.target, "--domain-corpus", "nope.txt")
    assert result.returncode == 2 and "no such file: nope.txt" in result.stderr
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    result = advise(str(reviews), "--server", server.target, "--save-adapted", str(full))
    assert result.returncode == 2 and "exists and is not an empty folder" in result.stderr
    assert (full / "keep.txt").read_text() == "mine"
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"text": "a"}\n[1, 2]\n', encoding="utf-8")
    result = advise(str(reviews), "--server", server.target, "--domain-corpus", str(corpus))
    assert result.returncode == 2
    assert "corpus.jsonl, line 2: not a JSON object" in result.stderr.replace("\n", " ")


def test_model_paths_a_server_allows_and_those_the_user_names_embedded(server, reviews, tmp_path):
    # A remote server opens only what its operator allowed: refused before any work.
    result = advise(str(reviews), "--server", server.target, "--vectors", "/etc/hostname")
    assert result.returncode == 2 and "not under a folder this server allows" in result.stderr
    # The embedded server is the user's own: the folder they name is opened (and found wanting).
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    result = advise(
        *[str(reviews), "--encoder", str(empty), "--backend", "torch"],
        *["--data-dir", str(tmp_path / "d")],
    )
    assert result.returncode in (1, 2) and "no config.json" in result.stderr
    assert "not under a folder" not in result.stderr


def test_two_embedded_runs_side_by_side_on_one_data_dir_both_succeed(small_reviews, tmp_path):
    """Parallel pipeline steps share the default data dir: neither may end the other's job."""
    args = [*ADVISE, str(small_reviews), "--json", "-q", "--max-train", "60", "--max-eval", "30"]
    args += ["--budget-seconds", "30", "--data-dir", str(tmp_path / "shared")]
    runs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    time.sleep(8)  # the first one is running its job when the second one starts
    runs.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [run.communicate(timeout=400) for run in runs]
    for run, (out, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, err
        assert json.loads(out)["profile"]["num_train"] == 120


def test_unreachable_server_exits_1(reviews):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = advise(str(reviews), "--server", f"127.0.0.1:{port}", timeout=60)
    assert result.returncode == 1
    assert "did not answer" in result.stderr


def test_server_help_lists_settings():
    result = subprocess.run(
        [*ADVISE, "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for flag in ("--port", "--data-dir", "--db-path", "--workers", "--encoder", "--vectors"):
        assert flag in result.stdout


def test_both_commands_print_the_installed_version():
    from importlib import metadata

    import embedding_advisor

    installed = metadata.version("embedding-advisor")
    assert embedding_advisor.__version__ == installed
    for command, name in (([], "advise"), (["serve"], "advise-server")):
        result = subprocess.run(
            [*ADVISE, *command, "--version"], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0 and result.stdout.strip() == f"{name} {installed}"


def test_help_names_defaults_environment_commands_and_exit_codes():
    result = subprocess.run([*ADVISE, "--help"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "ADVISOR_SERVER" in text and "ADVISOR_TOKEN" in text and "ADVISOR_BUDGET" in text
    assert "advise serve" in text and "advise schema" in text
    assert "130 interrupted" in text and "2 invalid input" in text
    assert "[default: (the server's: onnx-fp32, ADVISOR_FEATURE_BACKEND)]" in text
    assert "--json <bool>" not in text  # flags take no value
    served = subprocess.run([*ADVISE, "serve", "--help"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    server_help = " ".join(served.stdout.split())
    assert "--feature-backend {onnx-fp32,onnx-int8,torch}" in server_help  # one spelling
    assert "(default: onnx-fp32) [env ADVISOR_FEATURE_BACKEND]" in server_help
    assert "[env ADVISOR_WORKERS]" in server_help and "ONNX_FP32" not in server_help
    schema = subprocess.run([*ADVISE, "schema"], capture_output=True, text=True, timeout=60)
    assert json.loads(schema.stdout)["properties"]["schema_version"] == {"const": "1"}


def test_a_bad_server_setting_is_one_line_per_setting_and_exit_2(tmp_path):
    env = {**os.environ, "ADVISOR_WORKERS": "many", "ADVISOR_AUTH_TOKENS": "secret-token-value"}
    result = subprocess.run([*ADVISE, "serve", "--budget", "fast", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    named = sorted(line.split(":")[1].strip() for line in lines)
    assert named == ["bad setting budget (--budget or ADVISOR_BUDGET)",
                     "bad setting workers (--workers or ADVISOR_WORKERS)"]  # fmt: skip
    assert "fast" not in result.stderr and "many" not in result.stderr  # values are not echoed
    # One spelling: the CLI's onnx-fp32 is a valid server setting too.
    ok = subprocess.run([*ADVISE, "serve", "--feature-backend", "onnx-fp32", "--port", "-1"],
                        capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "feature_backend" not in ok.stderr and "bad setting port" in ok.stderr
    # The embedded server of `advise FILE` reads the same variables: a bad one is named, exit 2.
    embedded = subprocess.run([*ADVISE, str(EXAMPLE), "--data-dir", str(tmp_path)],
                              capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert embedded.returncode == 2 and "Traceback" not in embedded.stderr
    assert "bad setting workers (ADVISOR_WORKERS)" in embedded.stderr
    assert "many" not in embedded.stderr and "secret-token-value" not in embedded.stderr


def test_client_imports_without_torch():
    code = (
        "import sys, embedding_advisor, embedding_advisor.cli, embedding_advisor.client\n"
        "import embedding_advisor.aio, embedding_advisor.output, embedding_advisor.results\n"
        "heavy = {'torch', 'transformers', 'sklearn', 'gensim', 'onnxruntime', 'numpy'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"]).lower()
    assert "torch" not in base and "transformers" not in base
    server = tomllib.loads((ROOT / "server" / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("torch") for d in server["dependencies"])


def test_ctrl_c_cancels_the_job_and_exits_130(server, client, tmp_path):
    import signal
    import time

    from conftest import EXAMPLE, read_jsonl
    from embedding_advisor.v1 import advisor_pb2 as pb

    data = write_jsonl(tmp_path / "long.jsonl", read_jsonl(EXAMPLE))
    # A suite started in the background (``cmd &``) inherits SIGINT ignored, and so would the
    # CLI: give it the default disposition, as a terminal's foreground process has.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    proc = subprocess.Popen(
        [*ADVISE, str(data), "--server", server.target, "--max-train", "1600", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # a hang shows every thread's stack
    )
    signal.signal(signal.SIGINT, inherited)
    try:
        # The server runs one job at a time: on a loaded machine this one may queue a while.
        deadline = time.monotonic() + 300
        job = None
        while time.monotonic() < deadline and job is None:
            running = [j for j in client.list_jobs(5) if j.state == pb.JOB_STATE_RUNNING]
            job = running[0] if running and running[0].progress.stage == "pilot" else None
            time.sleep(0.2)
        assert job is not None, "the job never started"
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # faulthandler prints where each thread is
            out, err = proc.communicate(timeout=30)
            raise AssertionError(f"no exit 60 s after SIGINT; the CLI's threads:\n{err}") from None
    finally:  # never leave the advice running: the next tests share this server's one worker
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            for j in client.list_jobs(5):
                if j.state in (pb.JOB_STATE_RUNNING, pb.JOB_STATE_QUEUED):
                    client.cancel_job(j.job_id)
    assert proc.returncode == 130, err
    assert "cancelled" in err
    assert client.get_job(job.job_id).state == pb.JOB_STATE_CANCELLED


def test_server_settings_from_environment_and_flags(tmp_path, monkeypatch):
    from pydantic_settings import CliApp

    from embedding_advisor_server.settings import ServerSettings

    monkeypatch.setenv("ADVISOR_PORT", "6000")
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADVISOR_MAX_TRAIN_EXAMPLES", "123")
    from_env = ServerSettings()
    assert from_env.port == 6000 and from_env.job_db == tmp_path / "jobs.sqlite3"
    assert from_env.max_train_examples == 123
    flags = CliApp.run(
        ServerSettings, cli_args=["--port", "7000", "--db-path", str(tmp_path / "x.db")]
    )
    assert flags.port == 7000 and flags.job_db == tmp_path / "x.db"
    assert flags.max_train_examples == 123  # the environment still fills what flags leave
