"""Files over the wire: an upload as a stream of chunk requests (hashed as they are read, so the
server's SHA-256 can be checked), and a download written atomically into a new folder."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from . import errors
from .v1 import advisor_pb2 as pb

CHUNK_BYTES = 1024 * 1024


def upload_requests(path: str | Path, request, chunk_bytes: int, digest) -> Iterator:
    """The file at ``path`` as upload requests of ``request``'s type (the file name on the first),
    each chunk also fed to ``digest``. ``InvalidArgumentError`` when there is no such file."""
    path = Path(path)
    if not path.is_file():
        raise errors.InvalidArgumentError(f"no such file: {path}")

    def requests() -> Iterator:
        with open(path, "rb") as fh:
            first = True
            while True:
                chunk = fh.read(chunk_bytes)
                if not chunk and not first:
                    return
                digest.update(chunk)
                yield request(chunk=chunk, filename=path.name if first else "")
                first = False
                if not chunk:
                    return

    return requests()


def sha256():
    return hashlib.sha256()


def verify(path: str | Path, digest, stored: str) -> None:
    """The server's id for the upload is the SHA-256 of what it received: it must be ours."""
    if stored != digest.hexdigest():
        raise errors.AdvisorError(
            f"upload of {path} was corrupted: local SHA-256 {digest.hexdigest()}, server {stored}"
        )


class Download:
    """A file stream (a name and size on each file's first message) written into ``folder``,
    atomically: into a temporary folder beside it, renamed by ``finish`` when every file arrived
    whole; ``abort`` (or a failed ``finish``) leaves nothing behind."""

    def __init__(self, folder: Path) -> None:
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise errors.FailedPreconditionError(f"{folder} exists and is not an empty folder")
        folder.parent.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
        self.out = None
        self.name = ""
        self.sizes: dict[str, tuple[int, int]] = {}

    def write(self, message: pb.DownloadAdaptedWeightsResponse) -> None:
        if message.filename:
            if self.out:
                self.out.close()
            name = message.filename
            if name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
                raise errors.AdvisorError(f"the server sent an unsafe file name {name!r}")
            self.name = name
            self.out = open(self.tmp / name, "wb")  # noqa: SIM115
            self.sizes[name] = (message.size_bytes, 0)
        if self.out is None:
            raise errors.AdvisorError("the server sent bytes before a file name")
        self.out.write(message.chunk)
        want, got = self.sizes[self.name]
        self.sizes[self.name] = (want, got + len(message.chunk))

    def finish(self) -> Path:
        try:
            if self.out:
                self.out.close()
            short = [n for n, (want, got) in self.sizes.items() if want != got]
            if not self.sizes or short:
                raise errors.AdvisorError(
                    f"the download ended early ({', '.join(short) or 'no file'} incomplete)"
                )
            if self.folder.exists():
                self.folder.rmdir()
            self.tmp.rename(self.folder)
            return self.folder
        finally:
            self.abort()

    def abort(self) -> None:
        if self.out:
            self.out.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def save_stream(messages: Iterator[pb.DownloadAdaptedWeightsResponse], folder: Path) -> Path:
    """Write a file stream into ``folder`` (see ``Download``)."""
    download = Download(folder)
    try:
        for message in messages:
            download.write(message)
    except BaseException:
        download.abort()
        raise
    return download.finish()
