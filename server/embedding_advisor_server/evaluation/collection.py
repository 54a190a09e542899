"""The datasets of an evaluation: one folder per dataset under DIR with ``train.jsonl`` and
``test.jsonl`` (and an optional ``dev.jsonl``) in the advisor's JSONL format; each file checked
before any work, as an upload is. A training size is a seeded, stratified sample of the training
split, written out as a file so that the advisor reads exactly what the sweep trains on."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..core.data.dataset import Dataset
from ..core.data.parse import parse_jsonl
from ..core.data.sampling import sample_indices
from ..core.evidence.metrics import choose_metric

FULL = 0  # the size that means the whole training split (capped)


class CollectionError(ValueError):
    """DIR holds no dataset, or a dataset's files are missing or invalid (the message says which
    file, line and field)."""


@dataclass
class Collected:
    """One dataset of the collection, parsed: its splits, metric and a digest of its files."""

    name: str
    folder: Path
    train: Dataset
    test: Dataset
    dev: Dataset | None
    metric: str
    digest: str
    raw_train: list[bytes]  # the training file's lines, to write samples from

    def sizes(self, asked: list[int], cap: int) -> list[int]:
        """The training sizes of ``asked`` this dataset can give (``FULL``: all of it), capped
        at ``cap`` (0: no cap), each once, smallest first."""
        whole = min(len(self.train), cap) if cap else len(self.train)
        out = {whole if n == FULL else n for n in asked if n == FULL or n < whole}
        return sorted(out)

    def sample(self, size: int, seed: int, folder: Path) -> tuple[Dataset, Path]:
        """The seeded sample of ``size`` training examples, and a JSONL file of it in ``folder``
        (written once; the name carries the digest, size and seed)."""
        idx = sample_indices(self.train, size, seed)
        path = folder / f"{self.name}-{self.digest[:12]}-{size}-s{seed}.jsonl"
        if not path.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            rows = [self.raw_train[self.train.lines[i] - 1] for i in idx]
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(b"\n".join(rows) + b"\n")
            tmp.replace(path)
        return self.train.subset(idx), path


def collect(root: Path, only: list[str] | None = None) -> list[Collected]:
    """Every dataset folder under ``root`` (or those named in ``only``), checked."""
    if not root.is_dir():
        raise CollectionError(f"{root}: not a folder")
    folders = sorted(p for p in root.iterdir() if (p / "train.jsonl").is_file())
    if only:
        missing = sorted(set(only) - {p.name for p in folders})
        if missing:
            raise CollectionError(
                f"{root}: no dataset folder with a train.jsonl named {', '.join(missing)}"
            )
        folders = [p for p in folders if p.name in only]
    if not folders:
        raise CollectionError(f"{root}: no dataset folder (one with a train.jsonl) inside")
    return [_collected(p) for p in folders]


def _collected(folder: Path) -> Collected:
    if not (folder / "test.jsonl").is_file():
        raise CollectionError(f"{folder / 'test.jsonl'}: missing (the sweep scores on it)")
    digest = hashlib.sha256()
    parsed = {}
    raw = b""
    for split in ("train", "test", "dev"):
        path = folder / f"{split}.jsonl"
        if not path.is_file():
            continue
        data = path.read_bytes()
        digest.update(split.encode() + b"\0" + data)
        parsed[split] = parse_jsonl(data, source=str(path))
        if split == "train":
            raw = data
    train, test = parsed["train"], parsed["test"]
    for split, other in (("test", test), ("dev", parsed.get("dev"))):
        if other is not None and other.task != train.task:
            raise CollectionError(
                f"{folder / (split + '.jsonl')}: a {other.task.value} file beside a "
                f"{train.task.value} train.jsonl"
            )
    counts = train.label_counts()
    imbalance = max(counts.values()) / max(min(counts.values()), 1)
    return Collected(
        folder.name,
        folder,
        train,
        test,
        parsed.get("dev"),
        choose_metric(train.is_tagging, len(counts), imbalance),
        digest.hexdigest(),
        raw.split(b"\n"),
    )
