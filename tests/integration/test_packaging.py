"""The client as a pipeline installs it: its wheel built from this checkout, installed into a fresh
virtual environment with the lowest versions its metadata allows, then run against a real server.
The wheel holds no server code, and what it lacks is named with the install that adds it."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

from conftest import EXAMPLE, ROOT


def _lowest(requirement: str) -> str:
    """``name>=X`` (any further bounds dropped) as ``name==X``: the lowest version allowed."""
    name, low = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)(,.*)?", requirement).group(1, 2)
    return f"{name}=={low}"


def _run(*args: str | Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(map(str, args)), capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    for source in (ROOT, ROOT / "server"):
        built = _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, source)
        assert built.returncode == 0, built.stderr
    found = {p.name.split("-")[0]: p for p in out.glob("*.whl")}
    assert set(found) == {"embedding_advisor", "embedding_advisor_server"}, found
    return found


@pytest.fixture(scope="module")
def lowest_venv(wheels, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("lowest") / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = [_lowest(r) for r in project["dependencies"]]
    installed = _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet",
                     wheels["embedding_advisor"], *pins)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return venv


def test_client_wheel_holds_no_server_code_and_says_its_bounds(wheels):
    names = zipfile.ZipFile(wheels["embedding_advisor"]).namelist()
    assert not [n for n in names if n.startswith("embedding_advisor_server")]
    assert "embedding_advisor/py.typed" in names and "embedding_advisor/v1/advisor_pb2.py" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    meta = zipfile.ZipFile(wheels["embedding_advisor"])
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    scripts = meta.read(info).decode()
    assert "advise = " in scripts and "advise-server" not in scripts
    gencode = meta.read("embedding_advisor/v1/advisor_pb2.py").decode()
    grpc_code = meta.read("embedding_advisor/v1/advisor_pb2_grpc.py").decode()
    made_by = re.search(r"Protobuf Python Version: ([0-9.]+)", gencode).group(1)
    grpc_made_by = re.search(r"GRPC_GENERATED_VERSION = '([0-9.]+)'", grpc_code).group(1)
    metadata = meta.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    # The oldest runtimes the metadata allows are the ones that generated code needs.
    assert f"Requires-Dist: protobuf<8,>={made_by}" in metadata, metadata[:2000]
    assert f"Requires-Dist: grpcio>={grpc_made_by}" in metadata
    assert "Requires-Dist: matplotlib" in metadata and "extra == 'report'" in metadata
    server = zipfile.ZipFile(wheels["embedding_advisor_server"]).namelist()
    assert "embedding_advisor_server/py.typed" in server
    assert not [n for n in server if n.startswith("embedding_advisor/")]


def test_lowest_allowed_versions_run_the_cli_and_reach_a_real_server(lowest_venv, server, tmp_path):
    bin_ = lowest_venv / "bin"
    versions = _run(bin_ / "python", "-c", "import google.protobuf, grpc; "
                    "print(google.protobuf.__version__, grpc.__version__)")  # fmt: skip
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {r.split("==")[0]: r.split("==")[1] for r in map(_lowest, project["dependencies"])}
    assert versions.stdout.split() == [wanted["protobuf"], wanted["grpcio"]], versions.stderr

    assert _run(bin_ / "advise", "--version").stdout.strip() == "advise 0.1.0"
    helped = _run(bin_ / "advise", "--help")
    assert helped.returncode == 0 and "--server" in helped.stdout, helped.stderr
    listed = _run(bin_ / "python", "-c",
                  "import sys; from embedding_advisor import AdvisorClient\n"
                  "with AdvisorClient(sys.argv[1]) as c:\n"
                  "    c.wait_ready(10); print(type(c.list_jobs()).__name__)",
                  server.target)  # fmt: skip
    assert listed.returncode == 0 and listed.stdout.strip() == "list", listed.stderr

    # What a client-only install lacks is named, with the install that adds it, before any work.
    assert not (bin_ / "advise-server").exists()
    served = _run(bin_ / "advise", "serve")
    assert served.returncode == 1 and "pip install 'embedding-advisor-server[cpu]'" in served.stderr
    embedded = _run(bin_ / "advise", EXAMPLE, "--quiet")
    assert embedded.returncode == 1, embedded.stderr
    assert "embedded server cannot start" in embedded.stderr and "--server" in embedded.stderr
    report = tmp_path / "advice.html"
    asked = _run(bin_ / "advise", EXAMPLE, "--server", server.target, "--report", report)
    assert asked.returncode == 2 and "pip install 'embedding-advisor[report]'" in asked.stderr
    assert not report.exists()
