"""Hatch build hook: compile ``proto/`` into Python modules and type stubs at build time.

The proto tree is package-shaped (``proto/embedding_advisor/v1/advisor.proto``, package
``embedding_advisor.v1``), so compiling with ``-Iproto`` into ``client/`` gives the import
``from embedding_advisor.v1 import advisor_pb2`` with no post-processing.
"""

from __future__ import annotations

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def compile_protos(root: Path) -> list[Path]:
    import grpc_tools
    from grpc_tools import protoc

    proto_root = root / "proto"
    out = root / "client"
    sources = sorted(proto_root.rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{proto_root}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *map(str, sources),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed on " + ", ".join(map(str, sources)))
    return sources


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        compile_protos(Path(self.root))
