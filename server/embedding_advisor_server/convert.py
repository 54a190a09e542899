"""Protobuf <-> core models. Field names match on both sides; only enums need translating
(``TaskType.TEXT_CLASSIFICATION`` <-> ``TASK_TYPE_TEXT_CLASSIFICATION``), so one walker serves every
message and no field is listed twice.
"""

from __future__ import annotations

import math
import re
from typing import TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from pydantic import BaseModel, ValidationError

from embedding_advisor.errors import FieldViolation, InvalidArgumentError

M = TypeVar("M", bound=BaseModel)
P = TypeVar("P", bound=Message)


def _prefix(enum_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum_name).upper() + "_"


def _json_float(value):
    """Proto JSON spells non-finite numbers as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _walk(value, descriptor: Descriptor, to_proto: bool):
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        field = descriptor.fields_by_name.get(key)
        if field is None or item is None:
            if field is not None or not to_proto:
                continue
            raise KeyError(f"{descriptor.full_name} has no field {key!r}")
        items = item if isinstance(item, list) else [item]
        if field.type == FieldDescriptor.TYPE_ENUM:
            prefix = _prefix(field.enum_type.name)
            conv = [
                prefix + v.upper() if to_proto else v.removeprefix(prefix).lower() for v in items
            ]
        elif field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.full_name.startswith(
            "embedding_advisor."
        ):
            conv = [_walk(v, field.message_type, to_proto) for v in items]
        elif to_proto and field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            conv = [_json_float(v) for v in items]
        else:
            conv = items
        out[key] = conv if isinstance(item, list) else conv[0]
    return out


def to_proto(model: BaseModel, cls: type[P]) -> P:
    data = _walk(model.model_dump(mode="json", exclude_none=True), cls.DESCRIPTOR, to_proto=True)
    return json_format.ParseDict(data, cls())


def from_proto(message: Message, cls: type[M], field_prefix: str = "") -> M:
    """Build a core model; invalid values become ``InvalidArgumentError`` naming each field."""
    data = json_format.MessageToDict(message, preserving_proto_field_name=True)
    try:
        return cls.model_validate(_walk(data, message.DESCRIPTOR, to_proto=False))
    except ValidationError as exc:
        violations = [
            FieldViolation(field_prefix + ".".join(str(p) for p in err["loc"]), err["msg"])
            for err in exc.errors()
        ]
        raise InvalidArgumentError(
            f"invalid {field_prefix.rstrip('.') or cls.__name__}", violations
        ) from exc
