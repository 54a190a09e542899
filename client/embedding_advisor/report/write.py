"""Writing the report: ``.html`` as one page, anything else as Markdown with its plots beside it.
Files are written to a temporary name and renamed: a failed run leaves no half-written report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..v1 import advisor_pb2 as pb
from .html import html
from .markdown import markdown
from .plots import figures


def _atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as readable as any file the user writes
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_report(rec: pb.Recommendation, path: Path, title: str = "") -> list[Path]:
    """Write the report: ``.html`` / ``.htm`` as one file, anything else as Markdown with its
    plots in ``<stem>_files/``. Returns the files written."""
    if path.suffix.lower() in {".html", ".htm"}:
        _atomic(path, html(rec, title).encode("utf-8"))
        return [path]
    folder = path.with_name(f"{path.stem}_files")
    written = []
    images = {}
    for name, png in figures(rec).items():
        target = folder / f"{name}.png"
        _atomic(target, png)
        written.append(target)
        images[name] = f"{folder.name}/{name}.png"
    _atomic(path, markdown(rec, images, title).encode("utf-8"))
    return [path, *written]
