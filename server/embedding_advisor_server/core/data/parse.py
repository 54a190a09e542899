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

from embedding_advisor.errors import FieldViolation, InvalidDatasetError, dataset_field

from ..schema import TaskType
from .dataset import Dataset

MAX_VIOLATIONS = 20
MIN_TRAIN_EXAMPLES = 10
_TAG = re.compile(r"^(O|[BI]-\S+)$")

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


def _label(value, line: int, col: _Collector, field: str = "label") -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        col.add(line, field, f"must be a string or an integer, got {type(value).__name__}")
        return None
    text = str(value).strip()
    if not text:
        col.add(line, field, "must not be empty")
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
    if not value.strip():
        col.add(line, field, "must not be empty")
        return None
    return value


def _tagging(
    record: dict, line: int, col: _Collector
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
        if not isinstance(token, str) or not token.strip():
            col.add(line, f"tokens[{i}]", "must be a non-empty string")
            return None
    if len(tags) != len(tokens):
        col.add(line, "tags", f"has {len(tags)} tags for {len(tokens)} tokens")
        return None
    for i, tag in enumerate(tags):
        if not isinstance(tag, str) or not _TAG.match(tag):
            col.add(line, f"tags[{i}]", f"must be a BIO tag such as O, B-PER or I-PER, got {tag!r}")
            return None
    return tuple(tokens), tuple(tags)


def parse_jsonl(data: bytes, source: str = "dataset") -> Dataset:
    """Parse and check JSONL bytes. Raises ``InvalidDatasetError`` naming every bad line and field."""
    col = _Collector(source)
    task: TaskType | None = None
    inputs: list[tuple[str, ...]] = []
    targets: list = []
    lines: list[int] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            col.add(lineno, None, f"is not valid UTF-8 ({exc.reason} at byte {exc.start})")
            continue
        except json.JSONDecodeError as exc:
            col.add(lineno, None, f"is not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(record, dict):
            col.add(lineno, None, f"must be a JSON object, got {type(record).__name__}")
            continue
        if task is None:
            task = _detect(record)
            if task is None:
                col.add(
                    lineno,
                    None,
                    "has none of the known shapes: {text, label}, {text_a, text_b, label} or "
                    "{tokens, tags}; found fields " + (", ".join(sorted(record)) or "none"),
                )
                break
        if task is TaskType.TOKEN_TAGGING:
            parsed = _tagging(record, lineno, col)
            if parsed is None:
                continue
            inputs.append(parsed[0])
            targets.append(parsed[1])
        else:
            fields = ("text",) if task is TaskType.TEXT_CLASSIFICATION else ("text_a", "text_b")
            texts = [_text(record, f, lineno, col) for f in fields]
            if "label" not in record:
                col.add(lineno, "label", "is missing")
                continue
            label = _label(record["label"], lineno, col)
            if label is None or any(t is None for t in texts):
                continue
            inputs.append(tuple(texts))
            targets.append(label)
        lines.append(lineno)
    if task is None and not col.violations:
        col.add(None, None, "has no records")
    col.raise_if_any()
    assert task is not None
    return Dataset(task, inputs, targets, lines, source)


def check_pairing(train: Dataset, test: Dataset | None) -> None:
    """Check that a training set (and its test set) can be used for advice."""
    col = _Collector(train.source)
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
    if test is not None and test.task is not train.task:
        col.add(
            None,
            None,
            f"is {train.task.value} but the test file {test.source} is {test.task.value}",
        )
    col.raise_if_any()
