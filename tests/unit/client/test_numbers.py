"""How the CLI and the report say how many examples the pilots scored."""

from __future__ import annotations

from embedding_advisor.numbers import scored_words
from embedding_advisor.v1 import advisor_pb2 as pb


def _rec(held_out: int, *scored: int) -> pb.Recommendation:
    rec = pb.Recommendation()
    rec.profile.held_out_profiled = held_out
    for n in scored:
        rec.pilots.add(num_eval=n)
    return rec


def test_scored_examples_in_words():
    assert scored_words(_rec(400, 400, 400)) == "400"
    # cross-fitted: the contested arms scored slices of the pool too, the others the held-out
    assert scored_words(_rec(100, 500, 100, 300, 500)) == "100-500 (cross-fitted)"
    assert scored_words(_rec(1000, 5000)) == "5,000 (cross-fitted)"
    assert scored_words(_rec(0)) == "0"
