"""A content-addressed store of uploaded files (datasets; domain corpora in a store of their own).

A file is stored as ``<root>/<sha256>``. An upload is written to a temporary file in the same
folder, hashed as it arrives, checked, and only then renamed into place: a failed or rejected
upload leaves nothing behind, and uploading the same bytes twice stores one copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from embedding_advisor.errors import InvalidArgumentError, NotFoundError, ResourceExhaustedError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


STALE_SECONDS = 3600  # a temporary file untouched this long belongs to no live upload


def remove_stale(root: Path, prefix: str) -> int:
    """Remove what uploads or saves cut short (a killed process) left behind: entries named
    ``prefix*`` not written to for ``STALE_SECONDS`` (one still being written is left alone:
    another process may share the folder). How many went."""
    gone = 0
    cutoff = time.time() - STALE_SECONDS
    for path in Path(root).glob(f"{prefix}*"):
        try:
            if path.stat().st_mtime < cutoff:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
                gone += 1
        except OSError:
            continue
    return gone


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size_bytes: int
    already_stored: bool


class BlobStore:
    def __init__(self, root: Path, max_bytes: int, kind: str = "dataset") -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.kind = kind  # what it holds, in messages
        remove_stale(self.root, ".upload-")

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256 or ""):
            raise InvalidArgumentError(
                f"{self.kind} id must be 64 lower-case hex digits, got {sha256!r}"
            )
        path = self.root / sha256
        if not path.exists():
            raise self.not_found(sha256)
        return path

    def exists(self, sha256: str) -> bool:
        return bool(_SHA256.match(sha256 or "")) and (self.root / sha256).is_file()

    def delete(self, sha256: str) -> None:
        (self.root / sha256).unlink(missing_ok=True)
        (self.root / f"{sha256}.info.json").unlink(missing_ok=True)

    def read_info(self, sha256: str) -> dict | None:
        """What the first upload's check found (a re-upload of the same bytes is not parsed
        again), or None when nothing was kept."""
        try:
            return json.loads((self.root / f"{sha256}.info.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_info(self, sha256: str, info: dict) -> None:
        target = self.root / f"{sha256}.info.json"
        tmp = target.with_name(f".upload-{sha256}.info")
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, target)

    def ids(self) -> list[str]:
        """Every stored id."""
        return [p.name for p in self.root.iterdir() if _SHA256.match(p.name)]

    def not_found(self, sha256: str) -> NotFoundError:
        """What a missing id gets (also one the caller may not see: the same words)."""
        return NotFoundError(f"no {self.kind} {sha256} on this server; upload it first")

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def put(
        self, chunks: Iterable[bytes], check: Callable[[Path], object] | None = None
    ) -> StoredBlob:
        """Store the concatenated ``chunks``; ``check(tmp_path)`` may raise to reject them."""
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise ResourceExhaustedError(
                            f"upload exceeds the server's limit of {self.max_bytes} bytes for a "
                            f"{self.kind}"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.root / sha
            if final.exists():
                return StoredBlob(sha, size, already_stored=True)
            if check is not None:
                check(tmp)
            os.replace(tmp, final)
            return StoredBlob(sha, size, already_stored=False)
        finally:
            tmp.unlink(missing_ok=True)
