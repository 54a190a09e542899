"""What the CLI checks before any work: the files it was given, the folders it will write, and the
optional parts of the install that the options need."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.util import find_spec
from pathlib import Path

SERVER_INSTALL = (
    "install the server with: pip install 'embedding-advisor-server[cpu]' "
    "(from a checkout: pip install './server[cpu]'), or pass --server"
)
REPORT_INSTALL = "pip install 'embedding-advisor[report]'"
MLFLOW_INSTALL = "pip install 'embedding-advisor[mlflow]'"


def missing_modules(*names: str) -> list[str]:
    return [name for name in names if find_spec(name) is None]


def check_inputs(
    files: Iterable[Path | None],
    save_adapted: Path | None,
    report: Path | None,
    mlflow: bool = False,
) -> str | None:
    """The first problem found, in words, or None."""
    for path in files:
        if path is not None and not path.is_file():
            return f"no such file: {path}"
    if save_adapted is not None and save_adapted.exists():
        if not save_adapted.is_dir() or any(save_adapted.iterdir()):
            return f"--save-adapted {save_adapted}: exists and is not an empty folder"
    if report is not None:
        missing = missing_modules("matplotlib", "markdown")
        if missing:
            return f"--report needs {' and '.join(missing)}: {REPORT_INSTALL}"
    if mlflow:
        missing = missing_modules("mlflow", "sqlalchemy", "alembic")
        if missing:
            return f"--mlflow needs {' and '.join(missing)}: {MLFLOW_INSTALL}"
    return None
