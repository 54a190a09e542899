"""Reading and checking JSONL datasets.

One JSON object per line; the task type is detected from the first record's fields:

- text classification ``{"text": str, "label": str|int}``
- sentence pair ``{"text_a": str, "text_b": str, "label": str|int}``
- token tagging ``{"tokens": [str, ...], "tags": [str, ...]}`` with BIO tags

Other fields are ignored. Blank lines are skipped. Every problem is reported with its file, line and
field; at most ``MAX_VIOLATIONS`` are listed, so that a broken file gives a readable error.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from embedding_advisor.errors import FieldViolation, InvalidDatasetError, dataset_field

from ..schema import TaskType
from .dataset import Dataset

MAX_VIOLATIONS = 20
CHECK_EVERY = 20_000  # lines between two stop checks of a streamed check (~0.15 s)
MIN_TRAIN_EXAMPLES = 10
MAX_LABEL_CHARS = 200  # a label or tag longer than this is a mistake (a text in the wrong field)
_TAG = re.compile(r"O|[BI]-\S+")  # matched whole (fullmatch): no trailing newline slips by


_KIND = {int: "an integer", str: "a string"}


def _shown(value, limit: int = 40) -> str:
    """A value as a message may quote it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _encodable(value: str) -> bool:
    """False for a string JSON let through that UTF-8 cannot hold (an unpaired surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _visible(value: str) -> bool:
    """Whether a text holds a character that shows: not only spaces, NULs, zero-width marks."""
    return any(c.isprintable() and not c.isspace() for c in value)


_SHAPES: list[tuple[TaskType, tuple[str, ...]]] = [
    (TaskType.TOKEN_TAGGING, ("tokens", "tags")),
    (TaskType.TEXT_PAIR_CLASSIFICATION, ("text_a", "text_b", "label")),
    (TaskType.TEXT_CLASSIFICATION, ("text", "label")),
]


class _Collector:
    def __init__(self, source: str) -> None:
        self.source = source
        self.violations: list[FieldViolation] = []
        self.extra = 0

    def add(self, line: int | None, field: str | None, description: str) -> None:
        # What a file holds may not be valid Unicode (an unpaired surrogate in a key): the
        # message must be, to travel over gRPC.
        description = description.encode("utf-8", "backslashreplace").decode("utf-8")
        if len(self.violations) < MAX_VIOLATIONS:
            self.violations.append(
                FieldViolation(dataset_field(self.source, line, field), description)
            )
        else:
            self.extra += 1

    def raise_if_any(self) -> None:
        if not self.violations:
            return
        more = f" (and {self.extra} more)" if self.extra else ""
        n = len(self.violations) + self.extra
        raise InvalidDatasetError(
            f"{self.source}: {n} problem{'s' if n != 1 else ''} found{more}", self.violations
        )


def _detect(record: dict) -> TaskType | None:
    for task, fields in _SHAPES:
        if fields[0] in record:
            return task
    return None


def _label(value, line: int, col: _Collector, max_chars: int = MAX_LABEL_CHARS) -> str | None:
    field = "label"
    if isinstance(value, bool) or not isinstance(value, str | int):
        col.add(line, field, f"must be a string or an integer, got {type(value).__name__}")
        return None
    if isinstance(value, int) and abs(value) >= 10**18:
        col.add(line, field, "is an integer too large to be a class label")
        return None
    if isinstance(value, str) and not _encodable(value):
        col.add(line, field, "holds an unpaired surrogate (not valid Unicode text)")
        return None
    text = str(value).strip()
    if not _visible(text):
        col.add(line, field, "must not be empty")
        return None
    if len(text) > max_chars:
        col.add(line, field, f"is {len(text):,} characters long; a label has at most {max_chars}")
        return None
    return text


def _text(record: dict, field: str, line: int, col: _Collector) -> str | None:
    if field not in record:
        col.add(line, field, "is missing")
        return None
    value = record[field]
    if not isinstance(value, str):
        col.add(line, field, f"must be a string, got {type(value).__name__}")
        return None
    if not _encodable(value):
        col.add(line, field, "holds an unpaired surrogate (not valid Unicode text)")
        return None
    if not value.strip():
        col.add(line, field, "must not be empty")
        return None
    if not _visible(value):
        col.add(line, field, "must hold a visible character (not only NULs or zero-width marks)")
        return None
    return value


def _tagging(
    record: dict, line: int, col: _Collector, limits: DatasetLimits
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    ok = True
    for field in ("tokens", "tags"):
        if field not in record:
            col.add(line, field, "is missing")
            ok = False
        elif not isinstance(record[field], list) or not record[field]:
            col.add(line, field, "must be a non-empty list of strings")
            ok = False
    if not ok:
        return None
    tokens, tags = record["tokens"], record["tags"]
    for i, token in enumerate(tokens):
        if not isinstance(token, str) or not _encodable(token) or not _visible(token):
            col.add(line, f"tokens[{i}]", "must be a string with a visible character")
            return None
    if len(tags) != len(tokens):
        col.add(line, "tags", f"has {len(tags)} tags for {len(tokens)} tokens")
        return None
    for i, tag in enumerate(tags):
        if (
            not isinstance(tag, str)
            or len(tag) > limits.max_label_chars
            or not _encodable(tag)
            or not _TAG.fullmatch(tag)
        ):
            col.add(
                line,
                f"tags[{i}]",
                f"must be a BIO tag such as O, B-PER or I-PER, got {_shown(tag)}",
            )
            return None
    return tuple(tokens), tuple(tags)


def _classified(
    record: dict,
    task: TaskType,
    line: int,
    col: _Collector,
    label_types: dict,
    limits: DatasetLimits,
) -> tuple[tuple[str, ...], str] | None:
    """A classification record's texts and label; ``label_types``: each label's JSON type and
    first line so far (1 and "1" would be merged as one label: refused)."""
    fields = ("text",) if task is TaskType.TEXT_CLASSIFICATION else ("text_a", "text_b")
    texts = [_text(record, f, line, col) for f in fields]
    if "label" not in record:
        col.add(line, "label", "is missing")
        return None
    label = _label(record["label"], line, col, limits.max_label_chars)
    if label is None:
        return None
    kind = type(record["label"])
    first = label_types.setdefault(label, (kind, line))
    if first[0] is not kind:
        col.add(
            line,
            "label",
            f"is {_KIND[kind]} {_shown(record['label'])} where line {first[1]}'s is "
            f"{_KIND[first[0]]} {_shown(label) if first[0] is str else label}: they would be "
            "merged as one label; use one spelling",
        )
        return None
    if any(t is None for t in texts):
        return None
    return tuple(texts), label


@dataclass(frozen=True)
class DatasetLimits:
    """What one dataset file may hold; past a limit the file is refused, naming the line."""

    max_rows: int = 10_000_000
    max_line_bytes: int = 4 * 1024**2
    max_label_chars: int = MAX_LABEL_CHARS
    max_labels: int = 10_000  # distinct labels (or tags)


@dataclass
class Summary:
    """What a streamed check of a file found: its task, size and label counts (not its rows)."""

    task: TaskType
    source: str
    rows: int
    counts: Counter

    def __len__(self) -> int:
        return self.rows

    @property
    def is_tagging(self) -> bool:
        return self.task is TaskType.TOKEN_TAGGING

    def label_counts(self) -> Counter:
        return self.counts


class _Reader:
    """The checks of one file, line by line: every record through the same code, whether the
    rows are kept (``parse_jsonl``) or only counted (``check_file``)."""

    def __init__(self, source: str, limits: DatasetLimits, keep: bool) -> None:
        self.col = _Collector(source)
        self.limits, self.keep = limits, keep
        self.task: TaskType | None = None
        self.inputs: list[tuple[str, ...]] = []
        self.targets: list = []
        self.lines: list[int] = []
        self.rows = 0
        self.counts: Counter = Counter()
        self.label_types: dict[str, tuple[type, int]] = {}  # each label's JSON type, first line
        self.stopped = False

    def line(self, lineno: int, raw: bytes) -> None:
        col = self.col
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            return
        if len(raw) > self.limits.max_line_bytes:
            col.add(lineno, None, f"is longer than {self.limits.max_line_bytes:,} bytes, the "
                    "most a line may hold")  # fmt: skip
            return
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            col.add(lineno, None, f"is not valid UTF-8 ({exc.reason} at byte {exc.start})")
            return
        except json.JSONDecodeError as exc:
            col.add(lineno, None, f"is not valid JSON: {exc.msg} (column {exc.colno})")
            return
        except (ValueError, RecursionError):  # a number too long, nesting too deep
            col.add(lineno, None, "is not usable JSON: a number too long or nesting too deep")
            return
        if not isinstance(record, dict):
            col.add(lineno, None, f"must be a JSON object, got {type(record).__name__}")
            return
        if self.task is None:
            self.task = _detect(record)
            if self.task is None:
                col.add(
                    lineno,
                    None,
                    "has none of the known shapes: {text, label}, {text_a, text_b, label} or "
                    "{tokens, tags}; found fields "
                    + (", ".join(_shown(k) for k in sorted(record)[:10]) or "none"),
                )
                self.stopped = True
                return
        if self.task is TaskType.TOKEN_TAGGING:
            parsed = _tagging(record, lineno, col, self.limits)
        else:
            parsed = _classified(record, self.task, lineno, col, self.label_types, self.limits)
        if parsed is None:
            return
        self.rows += 1
        if self.rows > self.limits.max_rows:
            col.add(lineno, None, f"is past the limit of {self.limits.max_rows:,} examples")
            self.stopped = True
            return
        targets = parsed[1] if self.task is TaskType.TOKEN_TAGGING else (parsed[1],)
        self.counts.update(targets)
        if len(self.counts) > self.limits.max_labels:
            field = "tags" if self.task is TaskType.TOKEN_TAGGING else "label"
            col.add(lineno, field, f"makes more than {self.limits.max_labels:,} distinct labels")
            self.stopped = True
            return
        if self.keep:
            self.inputs.append(parsed[0])
            self.targets.append(parsed[1])
            self.lines.append(lineno)

    def finish(self):
        if self.task is None and not self.col.violations:
            self.col.add(None, None, "has no records")
        self.col.raise_if_any()
        assert self.task is not None
        if self.keep:
            return Dataset(self.task, self.inputs, self.targets, self.lines, self.col.source)
        return Summary(self.task, self.col.source, self.rows, self.counts)


def parse_jsonl(
    data: bytes, source: str = "dataset", limits: DatasetLimits = DatasetLimits()
) -> Dataset:
    """Parse and check JSONL bytes. Raises ``InvalidDatasetError`` naming every bad line and field."""
    reader = _Reader(source, limits, keep=True)
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        reader.line(lineno, raw)
        if reader.stopped:
            break
    return reader.finish()


def check_file(
    path: Path,
    source: str = "dataset",
    limits: DatasetLimits = DatasetLimits(),
    check: Callable[[], None] = lambda: None,
) -> Summary:
    """Check a JSONL file as ``parse_jsonl`` does, streamed: in memory at most one line (cut at
    ``max_line_bytes``) and the label counts, whatever the file's size. ``check`` is called
    every ``CHECK_EVERY`` lines and may raise to stop (the uploader went away)."""
    reader = _Reader(source, limits, keep=False)
    with open(path, "rb") as fh:
        lineno = 0
        while not reader.stopped:
            if lineno % CHECK_EVERY == 0:
                check()
            raw = fh.readline(limits.max_line_bytes + 1)
            if not raw:
                break
            lineno += 1
            if len(raw) > limits.max_line_bytes and not raw.endswith(b"\n"):
                while (rest := fh.readline(1024**2)) and not rest.endswith(b"\n"):
                    pass  # skip the rest of an overlong line without holding it
            reader.line(lineno, raw.rstrip(b"\n"))
    return reader.finish()


def check_usable(data: Dataset | Summary) -> None:
    """Check that one file can take part in an advice: enough examples, two labels (or an
    entity tag). Run at upload, so a file that cannot is refused before any work."""
    _usable(data, _Collector(data.source)).raise_if_any()


def check_pairing(train: Dataset, test: Dataset | None) -> None:
    """Check that a training set (and its test set) can be used for advice."""
    col = _usable(train, _Collector(train.source))
    if test is not None and test.task is not train.task:
        col.add(
            None,
            None,
            f"is {train.task.value} but the test file {test.source} is {test.task.value}",
        )
    col.raise_if_any()


def _usable(train: Dataset | Summary, col: _Collector) -> _Collector:
    if len(train) < MIN_TRAIN_EXAMPLES:
        col.add(
            None,
            None,
            f"has {len(train)} examples; the advisor needs at least {MIN_TRAIN_EXAMPLES}",
        )
    counts = train.label_counts()
    field = "tags" if train.is_tagging else "label"
    if train.is_tagging:
        if not any(tag != "O" for tag in counts):
            col.add(None, field, "has no entity tags (every tag is O)")
    elif len(counts) < 2:
        col.add(
            None, field, f"has a single label ({next(iter(counts))!r}); at least two are needed"
        )
    return col
