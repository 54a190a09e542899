"""The wire definition: lint-clean under buf, compiled with correct imports and no post-processing."""

from __future__ import annotations

import shutil
import subprocess

import grpc
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
    # The stub offers every method the service declares, each a callable of its kind.
    service = advisor_pb2.DESCRIPTOR.services_by_name["AdvisorService"]
    with grpc.insecure_channel("localhost:1") as channel:  # never connects
        stub = advisor_pb2_grpc.AdvisorServiceStub(channel)
        for method in service.methods:
            kind = (method.client_streaming, method.server_streaming)
            expected = {
                (False, False): grpc.UnaryUnaryMultiCallable,
                (True, False): grpc.StreamUnaryMultiCallable,
                (False, True): grpc.UnaryStreamMultiCallable,
            }[kind]
            assert isinstance(getattr(stub, method.name), expected), method.name
    assert (ROOT / "client" / "embedding_advisor" / "v1" / "advisor_pb2.pyi").exists()
