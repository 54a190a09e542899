"""Which process owns a job: a lease per job store, so that several processes can share one job
database (two ``advise`` commands side by side, an ``advise`` beside a server) and each recovers
only what a dead process left behind.

Each ``JobStore`` takes a lease when it opens: a lock file ``<owner id>`` in a folder beside the
database, held with an exclusive ``flock`` for as long as the process lives. The kernel drops the
lock when the process ends, however it ends (kill -9 included), so "is this owner alive?" is
"can its lock be taken?". No pid is compared, so a reused pid cannot pass for a live owner.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no leases; every unfinished job is then taken for orphaned
    fcntl = None

_OWNER = re.compile(r"^[0-9a-f]{32}$")


class Lease:
    """This process's lease on a job database (``folder``: where the lock files live)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.owner = uuid.uuid4().hex
        self._fd: int | None = None
        if fcntl is not None:
            self._fd = os.open(self.folder / self.owner, os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def alive(self, owner: str | None) -> bool:
        """Whether the process that holds ``owner``'s lease is still running."""
        if owner == self.owner:
            return self._fd is not None
        if fcntl is None or not owner or not _OWNER.match(owner):
            return False
        path = self.folder / owner
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        path.unlink(missing_ok=True)  # its owner is gone: tidy the lock file up
        return False

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                (self.folder / self.owner).unlink()
            os.close(self._fd)
            self._fd = None


def hold_alone(path: Path) -> int | None:
    """Take the exclusive lock at ``path`` for the rest of this process (its file descriptor),
    or None when another live process holds it."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
