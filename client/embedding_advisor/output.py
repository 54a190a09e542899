"""Advice as plain JSON for pipelines: every field present, ``null`` where a number is undefined
(never the string ``"NaN"``), 64-bit integers as numbers, floats to six significant digits, and
enums as the CLI's words (``high``, ``fine-tune``, ``onnx-fp32``). The shape is versioned
(``SCHEMA_VERSION``) and described by the JSON Schema shipped beside this module
(``schema/advice.schema.json``, see ``schema()``); a change of shape bumps the version.

Units are the protocol's: scores, intervals, rates, gains and gaps are fractions (the text
output's points are these times 100); fields named ``*_points`` are in points; times are in
seconds unless the name says otherwise."""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from . import __version__

SCHEMA_VERSION = "1"
SIGNIFICANT_DIGITS = 6
_FLOATS = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}
_TIMESTAMP = "google.protobuf.Timestamp"


def enum_prefix(enum: EnumDescriptor) -> str:
    """``CONFIDENCE_`` for ``Confidence``: what each value's name starts with."""
    return next(v.name for v in enum.values if v.number == 0).removesuffix("UNSPECIFIED")


def enum_word(enum: EnumDescriptor, number: int) -> str | None:
    """The value as the CLI spells it (``FEATURE_BACKEND_ONNX_FP32`` -> ``onnx-fp32``); the
    unset value (0) is ``None``."""
    if number == 0:
        return None
    value = enum.values_by_number.get(number)
    if value is None:  # a value newer than this client
        return str(number)
    return value.name.removeprefix(enum_prefix(enum)).lower().replace("_", "-")


def repeated(field: FieldDescriptor) -> bool:
    """protobuf 7 has ``is_repeated`` and no ``label``; protobuf 6 has ``label`` only."""
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == FieldDescriptor.LABEL_REPEATED


def _number(value: float) -> float | None:
    if not math.isfinite(value):
        return None
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def _scalar(field: FieldDescriptor, value: Any) -> Any:
    if field.type in _FLOATS:
        return _number(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_word(field.enum_type, value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return value.hex()
    return value


def _field(message: Message, field: FieldDescriptor) -> Any:
    value = getattr(message, field.name)
    if repeated(field):
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return [as_dict(item) for item in value]
        return [_scalar(field, item) for item in value]
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if not message.HasField(field.name):
            return None
        if field.message_type.full_name == _TIMESTAMP:
            return value.ToJsonString()
        return as_dict(value)
    if field.has_presence and not message.HasField(field.name):
        return None  # an optional scalar left unset
    return _scalar(field, value)


def as_dict(message: Message) -> dict[str, Any]:
    """Every field of ``message``, converted as the module docstring says."""
    descriptor: Descriptor = message.DESCRIPTOR
    return {field.name: _field(message, field) for field in descriptor.fields}


def document(rec: Message, inputs: dict[str, str | None] | None = None) -> dict[str, Any]:
    """What ``advise --json`` prints: the recommendation's fields, its schema version, and in
    ``run`` the client's version and the local names of the files it read."""
    out = {"schema_version": SCHEMA_VERSION, **as_dict(rec)}
    run = out.get("run") or {}
    out["run"] = {**run, "client_version": __version__, "inputs": dict(inputs or {})}
    return out


def dumps(rec: Message, inputs: dict[str, str | None] | None = None) -> str:
    return json.dumps(document(rec, inputs), indent=2, ensure_ascii=False, allow_nan=False)


def schema() -> dict[str, Any]:
    """The JSON Schema of ``document()``'s output (draft 2020-12)."""
    text = resources.files(__package__).joinpath("schema/advice.schema.json").read_text("utf-8")
    return json.loads(text)
