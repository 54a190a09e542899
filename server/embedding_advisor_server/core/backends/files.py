"""Files of the derived-model caches (ONNX exports, the warmed-up MLM head): where they live, the
digest that keys them, and writes that never leave a half-written file."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def default_cache_dir() -> Path:
    """Derived model files (ONNX exports, the warmed-up MLM head) kept between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "embedding-advisor"


def weights_digest(path: Path) -> str:
    """SHA-256 of a model directory's weight files and config: the key of derived-model caches."""
    h = hashlib.sha256()
    for name in sorted(p.name for p in path.iterdir() if p.suffix in {".safetensors", ".bin"}):
        with open(path / name, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    h.update((path / "config.json").read_bytes())
    return h.hexdigest()


def write_atomically(target: Path, write: Callable[[Path], None], suffix: str = ".tmp") -> Path:
    """Let ``write`` fill a temporary file beside ``target``, then rename it into place: readers
    never see a half-written file, and a failed write leaves nothing behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
