"""A domain corpus for domain-adaptive pretraining (DAPT): unlabeled text of the user's domain.

One document per line, either plain text or JSON Lines with a string ``text`` field (the format
is read from the first non-blank line: a JSON object there means JSON Lines); gzip-compressed
either way (recognised by its magic bytes, not its name). Blank lines are skipped.

Everything here streams: a corpus is read line by line and never held in memory whole. A check
(``check_corpus``) reads it once at upload and names the file, the line and the field of the
first fault; a sample draws a seeded, uniform sample of a fixed number of documents
in one pass (``Corpus.sample``: reservoir sampling, Vitter's algorithm R), which is what a DAPT
pilot trains on.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedding_advisor.errors import InvalidArgumentError

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class CorpusLimits:
    """What a corpus may hold: the largest line (bytes, decompressed) and the most text in all
    (decompressed bytes; a guard against compression bombs)."""

    max_line_bytes: int = 1024**2
    max_text_bytes: int = 8 * 1024**3


@dataclass(frozen=True)
class CorpusStats:
    documents: int
    text_bytes: int  # decompressed, blank lines included
    format: str  # "text" or "jsonl"
    compressed: bool


def _is_compressed(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


class Corpus:
    """The corpus at ``path``, read as documents: iterating yields ``(line number, document)``
    for every non-blank line and raises ``InvalidArgumentError`` naming ``source``, the line and
    the field at the first fault. After a full pass, ``stats`` describes it."""

    def __init__(self, path: Path, source: str = "corpus", limits: CorpusLimits | None = None):
        self.path = Path(path)
        self.source = source
        self.limits = limits or CorpusLimits()
        self.compressed = _is_compressed(self.path)
        self.format = "text"
        self.documents = 0
        self.text_bytes = 0

    def __iter__(self) -> Iterator[tuple[int, str]]:
        source, limits = self.source, self.limits
        fmt = None
        self.documents = self.text_bytes = 0
        opener = gzip.open if self.compressed else open
        with opener(self.path, "rb") as fh:
            for number, raw in enumerate(_lines(fh, source, limits), start=1):
                self.text_bytes += len(raw)
                if self.text_bytes > limits.max_text_bytes:
                    raise InvalidArgumentError(
                        f"{source}: more than {limits.max_text_bytes:,} bytes of text once "
                        "decompressed (the server's corpus limit)"
                    )
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InvalidArgumentError(
                        f"{source}, line {number}: not UTF-8 (byte {exc.start})"
                    ) from None
                if not line.strip():
                    continue
                if fmt is None:
                    fmt = self.format = "jsonl" if _json_object(line) is not None else "text"
                text = _text(line, source, number) if fmt == "jsonl" else line.rstrip("\r\n")
                if text.strip():
                    self.documents += 1
                    yield number, text

    @property
    def stats(self) -> CorpusStats:
        return CorpusStats(self.documents, self.text_bytes, self.format, self.compressed)

    def sample(self, n: int, seed: int, check=None) -> tuple[list[str], int]:
        """A seeded uniform sample of ``n`` documents (all of them when there are fewer), in
        corpus order, in one streaming pass; and how many documents the corpus holds.
        ``check`` (cancel, the deadline) is called every 10,000 documents."""
        rng = np.random.default_rng(seed)
        kept: list[tuple[int, str]] = []
        seen = 0
        for _, text in self:
            if check is not None and seen % 10_000 == 0:
                check()
            if seen < n:
                kept.append((seen, text))
            else:
                j = int(rng.integers(0, seen + 1))
                if j < n:
                    kept[j] = (seen, text)
            seen += 1
        kept.sort()
        return [text for _, text in kept], seen


def _lines(fh, source: str, limits: CorpusLimits) -> Iterator[bytes]:
    number = 0
    try:
        while True:
            number += 1
            raw = fh.readline(limits.max_line_bytes + 1)
            if not raw:
                return
            if len(raw) > limits.max_line_bytes and not raw.endswith(b"\n"):
                raise InvalidArgumentError(
                    f"{source}, line {number}: longer than {limits.max_line_bytes:,} bytes (the "
                    "server's limit per document)"
                )
            yield raw
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidArgumentError(
            f"{source}, line {number}: the gzip stream is damaged ({type(exc).__name__})"
        ) from None


def _json_object(line: str):
    if not line.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _text(line: str, source: str, number: int) -> str:
    value = _json_object(line)
    if value is None:
        raise InvalidArgumentError(
            f"{source}, line {number}: not a JSON object (the file's first line made it JSON "
            "Lines, one object with a text field per line)"
        )
    text = value.get("text")
    if not isinstance(text, str):
        what = "missing" if "text" not in value else f"a {type(text).__name__}, not a string"
        raise InvalidArgumentError(f"{source}, line {number}, field 'text': {what}")
    return text


def check_corpus(
    path: Path, source: str = "corpus", limits: CorpusLimits | None = None
) -> CorpusStats:
    """Read the corpus once (streaming) and describe it; raises on the first fault, and on a
    corpus with no document."""
    corpus = Corpus(path, source, limits)
    for _ in corpus:
        pass
    if corpus.documents == 0:
        raise InvalidArgumentError(f"{source}: no document (every line is blank)")
    return corpus.stats
