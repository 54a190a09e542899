"""What an evaluation has measured, kept so that a re-run, an added dataset or a killed run
resumes without training anything twice. One JSON-lines file per kind under the cache folder:
each line is one finished measurement with its key (the dataset's digest, the training size,
the option or the advice's options, the recipe and the seed); a line is appended only once its
measurement finished, and a torn last line (a kill mid-write) is ignored."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def key(*parts: object) -> str:
    """A stable key of ``parts`` (anything ``repr`` spells the same from run to run)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


class Cache:
    """``get(kind, key)`` / ``put(kind, key, value)`` over ``folder/<kind>.jsonl``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._kept: dict[str, dict[str, dict]] = {}

    def _load(self, kind: str) -> dict[str, dict]:
        if kind not in self._kept:
            kept: dict[str, dict] = {}
            path = self.folder / f"{kind}.jsonl"
            if path.is_file():
                for line in path.read_text(encoding="utf-8").splitlines():
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:  # a torn last line: measured again
                        continue
                    kept[entry["key"]] = entry["value"]
            self._kept[kind] = kept
        return self._kept[kind]

    def get(self, kind: str, k: str) -> dict | None:
        return self._load(kind).get(k)

    def put(self, kind: str, k: str, value: dict) -> None:
        self._load(kind)[k] = value
        self.folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"key": k, "value": value}) + "\n"
        with open(self.folder / f"{kind}.jsonl", "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
