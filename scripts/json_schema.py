"""Generate the JSON Schema of ``advise --json`` from the protocol: the structure from the
generated descriptors, each field's description from its comment in ``proto/``. The result is
shipped in the client package (``embedding_advisor/schema/advice.schema.json``).

    python scripts/json_schema.py           # write it
    python scripts/json_schema.py --check   # exit 1 if the shipped file is not what it would write
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from embedding_advisor import output
from embedding_advisor.v1 import advisor_pb2 as pb

ROOT = Path(__file__).resolve().parents[1]
PROTO = ROOT / "proto" / "embedding_advisor" / "v1" / "advisor.proto"
TARGET = ROOT / "client" / "embedding_advisor" / "schema" / "advice.schema.json"

_INTEGERS = {
    FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}  # fmt: skip
_UNSIGNED = {FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64}


def comments(proto: Path) -> dict[str, str]:
    """``Message`` and ``Message.field`` -> the ``//`` comment just above it, joined."""
    found: dict[str, str] = {}
    pending: list[str] = []
    scope = None
    for raw in proto.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("//"):
            pending.append(line.removeprefix("//").strip())
            continue
        if m := re.match(r"(message|enum)\s+(\w+)\s*\{", line):
            scope = m.group(2)
            if pending:
                found[scope] = " ".join(pending)
        elif scope and (m := re.match(r"(?:repeated\s+|optional\s+)?[\w.]+\s+(\w+)\s*=\s*\d+", line)):
            if pending:
                found[f"{scope}.{m.group(1)}"] = " ".join(pending)
        elif line == "}":
            scope = None
        pending = []
    return found


def _scalar(field: FieldDescriptor) -> dict:
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return {"type": ["number", "null"]}  # null: not a number (undefined, not measured)
    if field.type in _INTEGERS:
        return {"type": "integer", **({"minimum": 0} if field.type in _UNSIGNED else {})}
    if field.type == FieldDescriptor.TYPE_BOOL:
        return {"type": "boolean"}
    if field.type == FieldDescriptor.TYPE_ENUM:
        words = [output.enum_word(field.enum_type, v.number) for v in field.enum_type.values]
        return {"enum": [w for w in words if w is not None] + [None]}
    return {"type": "string"}  # string, and bytes as hex


def _field(field: FieldDescriptor, notes: dict[str, str], defs: dict) -> dict:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            item = {"type": ["string", "null"], "format": "date-time"}
        else:
            _message(field.message_type, notes, defs)
            ref = {"$ref": f"#/$defs/{field.message_type.name}"}
            item = ref if output.repeated(field) else {
                "anyOf": [ref, {"type": "null"}]
            }  # fmt: skip
    else:
        item = _scalar(field)
        if field.has_presence and "type" in item and not output.repeated(field):
            item = {**item, "type": [item["type"], "null"]} if isinstance(item["type"], str) else item
    spec = {"type": "array", "items": item} if output.repeated(field) else item
    note = notes.get(f"{field.containing_type.name}.{field.name}")
    return {"description": note, **spec} if note else spec


def _message(descriptor: Descriptor, notes: dict[str, str], defs: dict) -> dict:
    if descriptor.name in defs:
        return {"$ref": f"#/$defs/{descriptor.name}"}
    defs[descriptor.name] = {}  # reserve: messages may refer to each other
    body = {
        "type": "object",
        "properties": {f.name: _field(f, notes, defs) for f in descriptor.fields},
        "required": [f.name for f in descriptor.fields],
        "additionalProperties": False,
    }
    if descriptor.name in notes:
        body = {"description": notes[descriptor.name], **body}
    defs[descriptor.name] = body
    return {"$ref": f"#/$defs/{descriptor.name}"}


def build() -> dict:
    notes = comments(PROTO)
    defs: dict = {}
    _message(pb.Recommendation.DESCRIPTOR, notes, defs)
    top = json.loads(json.dumps(defs["Recommendation"]))
    top["properties"] = {
        "schema_version": {"const": output.SCHEMA_VERSION},
        **top["properties"],
        "run": {
            "description": "What produced this advice: the server's run information, the "
            "client's version and the local names of the files the CLI read.",
            "type": "object",
            "properties": {
                **defs["RunInfo"]["properties"],
                "client_version": {"type": "string"},
                "inputs": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
            },
            "required": ["client_version", "inputs"],
            "additionalProperties": False,
        },
    }
    top["required"] = ["schema_version", *top["required"]]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://embedding-advisor.dev/schema/advice/v{output.SCHEMA_VERSION}.json",
        "title": f"advise --json, schema version {output.SCHEMA_VERSION}",
        "description": output.__doc__.split("\n\n")[0].replace("\n", " ")
        + " "
        + output.__doc__.split("\n\n")[1].replace("\n", " "),
        **top,
        "$defs": dict(sorted(defs.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    text = json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
    if parser.parse_args().check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run python scripts/json_schema.py")
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
