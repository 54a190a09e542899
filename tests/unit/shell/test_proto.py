"""The wire definition: lint-clean under buf, compiled with correct imports and no post-processing."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import ROOT


def test_buf_lint_passes():
    buf = ROOT / "node_modules" / ".bin" / "buf"
    if not buf.exists():
        buf = shutil.which("buf")
        if buf is None:
            pytest.skip("buf is not installed (make install puts it in node_modules with npm)")
    result = subprocess.run([str(buf), "lint", "proto"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_modules_import_by_package_path():
    from embedding_advisor.v1 import advisor_pb2, advisor_pb2_grpc

    source = (ROOT / "client" / "embedding_advisor" / "v1" / "advisor_pb2_grpc.py").read_text()
    assert "from embedding_advisor.v1 import advisor_pb2" in source
    assert advisor_pb2.DESCRIPTOR.package == "embedding_advisor.v1"
    assert hasattr(advisor_pb2_grpc, "AdvisorServiceStub")
    assert (ROOT / "client" / "embedding_advisor" / "v1" / "advisor_pb2.pyi").exists()
