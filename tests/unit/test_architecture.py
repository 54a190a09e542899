"""The house's shape, held: the server package has no import cycle (function-level imports
count), its core never imports gRPC or the client's gRPC code, the client imports neither torch
nor the server at import time, and no module or function outgrows the limits."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SERVER = ROOT / "server" / "embedding_advisor_server"
CLIENT = ROOT / "client" / "embedding_advisor"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def modules(package: Path) -> dict[str, Path]:
    out = {}
    for path in sorted(package.rglob("*.py")):
        if "_pb2" in path.name:
            continue
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _runtime_nodes(tree: ast.AST):
    """Every node that can run: all but the bodies of ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            continue
        yield node
        yield from _runtime_nodes(node)


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's own modules that ``name`` imports anywhere in its source (function-level
    imports too; type-checking imports never run)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in known}
    return found - {name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_server_package_has_no_import_cycle():
    mods = modules(SERVER)
    graph = {name: imports(name, path, set(mods)) for name, path in mods.items()}
    assert sum(map(len, graph.values())) > 50  # the walker sees the imports
    assert cycles(graph) == []


def test_cycles_are_found_where_they_exist():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _loaded_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_the_core_imports_no_grpc():
    core = [n for n in modules(SERVER) if n.startswith("embedding_advisor_server.core")]
    loaded = _loaded_after("\n".join(f"import {n}" for n in core))
    assert "embedding_advisor_server.core.pipeline" in loaded
    assert not {m for m in loaded if m == "grpc" or m.startswith("grpc.")}
    assert (
        "embedding_advisor.client" not in loaded
        and "embedding_advisor.v1.advisor_pb2" not in loaded
    )


def test_the_client_and_cli_import_without_torch_or_the_server():
    loaded = _loaded_after("import embedding_advisor.cli, embedding_advisor.report")
    assert "grpc" in loaded and "torch" not in loaded
    assert not {m for m in loaded if m.startswith("embedding_advisor_server.core.pipeline")}


def _is_cli_command(node: ast.FunctionDef) -> bool:
    """A typer command: its option declarations are its length, not its logic."""
    return any(
        isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "command"
        for d in node.decorator_list
    )


@pytest.mark.parametrize("package", [SERVER, CLIENT], ids=["server", "client"])
def test_modules_and_functions_stay_small(package):
    too_long = []
    for name, path in modules(package).items():
        source = path.read_text()
        if source.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{name}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_cli_command(
                node
            ):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert too_long == []
