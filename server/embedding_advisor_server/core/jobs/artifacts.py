"""Files a job keeps beside its record: the continued-pretraining pilot's adapted encoder.

Each job's files live in ``<root>/<job id>/``, written to a temporary folder first and renamed
into place only when complete and within the size limit: a reader never sees half a checkpoint,
and a job over the limit keeps nothing. ``delete`` removes them with the job.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from embedding_advisor.errors import InvalidArgumentError, NotFoundError

from ..data.blobs import remove_stale

_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Kept:
    files: list[str]
    size_bytes: int


class TooLarge(Exception):
    """The files exceed the store's limit per job (the message says by how much)."""


class ArtifactStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        remove_stale(self.root, ".saving-")

    def _folder(self, job_id: str) -> Path:
        if not _JOB_ID.match(job_id or ""):
            raise InvalidArgumentError(f"job id must be 32 lower-case hex digits, got {job_id!r}")
        return self.root / job_id

    def save(self, job_id: str, write: Callable[[Path], None]) -> Kept:
        """Let ``write(folder)`` write the job's files, then keep them; raises ``TooLarge``
        (keeping nothing) when they exceed the limit."""
        final = self._folder(job_id)
        tmp = Path(tempfile.mkdtemp(dir=self.root, prefix=".saving-"))
        try:
            write(tmp)
            files = sorted(p for p in tmp.iterdir() if p.is_file())
            size = sum(p.stat().st_size for p in files)
            if size > self.max_bytes:
                raise TooLarge(
                    f"{size / 1e6:,.0f} MB, over the server's limit of {self.max_bytes / 1e6:,.0f} "
                    "MB per job"
                )
            shutil.rmtree(final, ignore_errors=True)
            tmp.rename(final)
            return Kept([p.name for p in files], size)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def files(self, job_id: str) -> list[Path]:
        """The job's files; ``NotFoundError`` when it kept none."""
        folder = self._folder(job_id)
        if not folder.is_dir():
            raise NotFoundError(f"job {job_id} kept no adapted weights")
        return sorted(p for p in folder.iterdir() if p.is_file())

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self._folder(job_id), ignore_errors=True)
