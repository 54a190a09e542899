"""Every schema model round-trips through its proto message: the two define the same fields, and
``to_proto`` / ``from_proto`` give back an equal model (enums, nested messages, lists, times)."""

from __future__ import annotations

import enum
import math
import types
import typing
from datetime import datetime, timezone

import pytest
from pydantic import BaseModel

from embedding_advisor.errors import InvalidArgumentError
from embedding_advisor.v1 import advisor_pb2 as pb
from embedding_advisor_server.convert import from_proto, to_proto
from embedding_advisor_server.core import schema

MODELS = sorted(
    (
        cls
        for cls in vars(schema).values()
        if isinstance(cls, type) and issubclass(cls, schema._Model) and cls is not schema._Model
    ),
    key=lambda cls: cls.__name__,
)


def sample(annotation, depth: int = 0):
    """A value of ``annotation`` that is neither a default nor an edge case."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return sample(next(a for a in typing.get_args(annotation) if a is not type(None)), depth)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return [sample(item, depth), sample(item, depth)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return list(annotation)[-1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return build(annotation, depth + 1)
    return {
        str: "x",
        int: 42,
        float: 0.25,
        bool: True,
        datetime: datetime(2026, 12, 1, 12, 30, tzinfo=timezone.utc),
    }[annotation]


def build(cls: type[BaseModel], depth: int = 0) -> BaseModel:
    return cls(**{name: sample(f.annotation, depth) for name, f in cls.model_fields.items()})


def test_every_schema_model_has_its_message():
    assert len(MODELS) > 15
    for cls in MODELS:
        message = getattr(pb, cls.__name__)
        assert set(cls.model_fields) == set(message.DESCRIPTOR.fields_by_name), cls.__name__


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_round_trip(cls):
    model = build(cls)
    message = to_proto(model, getattr(pb, cls.__name__))
    assert from_proto(message, cls) == model


def test_not_a_number_survives_where_a_value_is_undefined():
    metrics = schema.ExampleMetrics(
        split="test",
        lines=[3, 4],
        complexity=[1.5, math.nan],
        ambiguity=[0, 1],
        unseen_prevalence=[1, 1],
    )
    back = from_proto(to_proto(metrics, pb.ExampleMetrics), schema.ExampleMetrics)
    assert back.complexity[0] == 1.5 and math.isnan(back.complexity[1])


def test_an_invalid_value_names_its_field():
    with pytest.raises(InvalidArgumentError) as info:
        from_proto(pb.AdviceOptions(max_train_examples=3), schema.AdviceOptions, "options.")
    assert [v.field for v in info.value.violations] == ["options.max_train_examples"]


@pytest.mark.parametrize(
    "field", ["tolerance_points", "budget_seconds", "min_examples_per_second", "max_latency_ms"]
)
@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_number_that_is_not_finite_is_refused_as_such(field, value):
    with pytest.raises(InvalidArgumentError) as info:
        from_proto(pb.AdviceOptions(**{field: value}), schema.AdviceOptions, "options.")
    [violation] = info.value.violations
    assert violation.field == f"options.{field}" and "finite" in violation.description
