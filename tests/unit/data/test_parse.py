from __future__ import annotations

import json
from collections import Counter

import pytest

from embedding_advisor.errors import InvalidDatasetError
from embedding_advisor_server.core.data.dataset import words
from embedding_advisor_server.core.data.parse import MAX_VIOLATIONS, check_pairing, parse_jsonl
from embedding_advisor_server.core.data.sampling import sample, split
from embedding_advisor_server.core.schema import TaskType


def jsonl(*rows) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()


def violations(data: bytes, source: str = "d.jsonl") -> dict[str, str]:
    with pytest.raises(InvalidDatasetError) as info:
        parse_jsonl(data, source)
    return {v.field: v.description for v in info.value.violations}


def test_detects_the_three_formats():
    cls = parse_jsonl(jsonl({"text": "good", "label": "pos"}, {"text": "bad", "label": 0}))
    assert cls.task is TaskType.TEXT_CLASSIFICATION
    assert cls.inputs == [("good",), ("bad",)] and cls.targets == ["pos", "0"]
    pair = parse_jsonl(jsonl({"text_a": "a", "text_b": "b", "label": "x", "id": 7}))
    assert pair.task is TaskType.TEXT_PAIR_CLASSIFICATION and pair.inputs == [("a", "b")]
    tag = parse_jsonl(jsonl({"tokens": ["Ann", "left"], "tags": ["B-PER", "O"]}))
    assert tag.task is TaskType.TOKEN_TAGGING
    assert tag.inputs == [("Ann", "left")] and tag.targets == [("B-PER", "O")]


def test_blank_lines_bom_and_line_numbers():
    data = b"\xef\xbb\xbf" + jsonl(
        {"text": "a", "label": "x"}, "", "  ", {"text": "b", "label": "y"}
    )
    ds = parse_jsonl(data)
    assert ds.lines == [1, 4]


@pytest.mark.parametrize(
    ("line2", "field", "fragment"),
    [
        ('{"text": "b", "label": }', "d.jsonl:2", "not valid JSON"),
        ('["text", "label"]', "d.jsonl:2", "must be a JSON object"),
        ('{"text": "b"}', "d.jsonl:2:label", "is missing"),
        ('{"label": "x"}', "d.jsonl:2:text", "is missing"),
        ('{"text": 5, "label": "x"}', "d.jsonl:2:text", "must be a string"),
        ('{"text": "   ", "label": "x"}', "d.jsonl:2:text", "must not be empty"),
        ('{"text": "\\u200b\\u0000\\u200d", "label": "x"}', "d.jsonl:2:text", "visible character"),
        ('{"text": "\\ud800", "label": "x"}', "d.jsonl:2:text", "unpaired surrogate"),
        ('{"text": "b", "label": "\\udfff"}', "d.jsonl:2:label", "unpaired surrogate"),
        ('{"text": "b", "label": "\\u200b"}', "d.jsonl:2:label", "must not be empty"),
        ('{"text": "b", "label": ' + "9" * 5000 + "}", "d.jsonl:2", "number too long"),
        ('{"text": "b", "label": ' + "[" * 1000 + "]" * 1000 + "}", "d.jsonl:2", "too deep"),
        ('{"text": "b", "label": 12345678901234567890}', "d.jsonl:2:label", "too large"),
        ('{"text": "b", "label": "' + "y" * 300 + '"}', "d.jsonl:2:label", "at most 200"),
        ('{"text": "b", "label": null}', "d.jsonl:2:label", "string or an integer"),
        ('{"text": "b", "label": [1]}', "d.jsonl:2:label", "string or an integer"),
    ],
)
def test_bad_classification_lines_name_line_and_field(line2, field, fragment):
    found = violations(jsonl({"text": "a", "label": "x"}, line2))
    assert field in found, found
    assert fragment in found[field]


def test_bad_tagging_lines():
    found = violations(
        jsonl(
            {"tokens": ["a", "b"], "tags": ["O", "O"]},
            {"tokens": ["a", "b"], "tags": ["O"]},
            {"tokens": ["a"], "tags": ["PER"]},
            {"tokens": ["a", ""], "tags": ["O", "O"]},
            {"tokens": "a b", "tags": ["O"]},
        )
    )
    assert "1 tags for 2 tokens" in found["d.jsonl:2:tags"]
    assert "BIO tag" in found["d.jsonl:3:tags[0]"]
    assert "a string with a visible character" in found["d.jsonl:4:tokens[1]"]
    assert "non-empty list" in found["d.jsonl:5:tokens"]


def test_a_tag_is_matched_whole_and_a_long_value_is_not_echoed():
    found = violations(
        jsonl(
            {"tokens": ["a"], "tags": ["O"]},
            {"tokens": ["a"], "tags": ["B-PER\n"]},
            {"tokens": ["a"], "tags": ["B-" + "X" * 10**6]},
        )
    )
    assert "BIO tag" in found["d.jsonl:2:tags[0]"]
    assert "BIO tag" in found["d.jsonl:3:tags[0]"] and len(found["d.jsonl:3:tags[0]"]) < 200
    ints = parse_jsonl(jsonl({"text": "a", "label": 1}, {"text": "b", "label": 2}))
    assert ints.targets == ["1", "2"]
    mixed = violations(jsonl({"text": "a", "label": 1}, {"text": "b", "label": "1"}))
    assert "is a string '1' where line 1's is an integer 1" in mixed["d.jsonl:2:label"]


def test_invalid_utf8_and_unknown_shape_and_empty():
    assert (
        "not valid UTF-8"
        in violations(jsonl({"text": "a", "label": "x"}).replace(b"a", b"\xff"))["d.jsonl:1"]
    )
    assert "known shapes" in violations(jsonl({"sentence": "a", "y": 1}))["d.jsonl:1"]
    assert "no records" in violations(b"\n\n")["d.jsonl"]


def test_violations_are_capped_and_counted():
    rows = [{"text": "a", "label": "x"}] + [{"text": "a"}] * (MAX_VIOLATIONS + 5)
    with pytest.raises(InvalidDatasetError) as info:
        parse_jsonl(jsonl(*rows), "d.jsonl")
    assert len(info.value.violations) == MAX_VIOLATIONS
    assert "25 problems" in info.value.message and "5 more" in info.value.message


def test_check_pairing():
    one_label = parse_jsonl(jsonl(*[{"text": f"t{i}", "label": "x"} for i in range(20)]), "train")
    with pytest.raises(InvalidDatasetError, match="single label"):
        check_pairing(one_label, None)
    tiny = parse_jsonl(jsonl({"text": "a", "label": "x"}, {"text": "b", "label": "y"}), "train")
    with pytest.raises(InvalidDatasetError, match="at least 10"):
        check_pairing(tiny, None)
    good = parse_jsonl(
        jsonl(*[{"text": f"t{i}", "label": "xy"[i % 2]} for i in range(20)]), "train"
    )
    other = parse_jsonl(jsonl({"tokens": ["a"], "tags": ["B-X"]}), "test")
    with pytest.raises(InvalidDatasetError, match="test file test is token_tagging"):
        check_pairing(good, other)
    check_pairing(good, good)


def test_split_is_seeded_and_stratified():
    rows = [{"text": f"t{i}", "label": "a" if i % 4 else "b"} for i in range(200)]
    ds = parse_jsonl(jsonl(*rows))
    train, test = split(ds, 0.2, seed=3)
    assert len(test) == 40 and len(train) == 160
    assert Counter(test.targets) == {"a": 30, "b": 10}
    again, _ = split(ds, 0.2, seed=3)
    other, _ = split(ds, 0.2, seed=4)
    assert again.inputs == train.inputs and other.inputs != train.inputs
    assert set(train.lines).isdisjoint(test.lines)
    small = sample(ds, 100, seed=0)
    assert len(small) == 100 and Counter(small.targets) == {"a": 75, "b": 25}


def test_words_split_clitics_and_punctuation():
    assert words([("Don't panic, it's fine.",)], TaskType.TEXT_CLASSIFICATION) == [
        ["Do", "n't", "panic", ",", "it", "'s", "fine", "."]
    ]
    assert words([("a b", "c")], TaskType.TEXT_PAIR_CLASSIFICATION) == [["a", "b", "c"]]


def test_limits_on_lines_rows_labels_and_label_length_name_the_line(tmp_path):
    from embedding_advisor_server.core.data.parse import DatasetLimits, check_file

    rows = [{"text": f"t {i}", "label": f"L{i % 5}"} for i in range(30)]
    path = tmp_path / "d.jsonl"
    path.write_bytes(jsonl(*rows, {"text": "x" * 5000, "label": "L1"}, *rows))
    cases = {
        DatasetLimits(max_line_bytes=1000): ("d.jsonl:31", "is longer than 1,000 bytes"),
        DatasetLimits(max_rows=12): ("d.jsonl:13", "past the limit of 12 examples"),
        DatasetLimits(max_labels=3): ("d.jsonl:4:label", "more than 3 distinct labels"),
        DatasetLimits(max_label_chars=1): ("d.jsonl:1:label", "a label has at most 1"),
    }
    for limits, (field, said) in cases.items():
        for parse in (lambda lim: parse_jsonl(path.read_bytes(), "d.jsonl", lim),
                      lambda lim: check_file(path, "d.jsonl", lim)):  # fmt: skip
            with pytest.raises(InvalidDatasetError) as info:
                parse(limits)
            first = info.value.violations[0]
            assert first.field == field and said in first.description, (limits, first)
    summary = check_file(path, "d.jsonl", DatasetLimits())
    assert len(summary) == 61 and summary.label_counts()["L1"] == 13


def test_a_streamed_check_stops_when_told_to(tmp_path):
    from embedding_advisor.errors import DeadlineExceededError
    from embedding_advisor_server.core.data.parse import CHECK_EVERY, check_file

    path = tmp_path / "big.jsonl"
    rows = [{"text": f"t {i}", "label": "ab"[i % 2]} for i in range(CHECK_EVERY * 3)]
    path.write_bytes(jsonl(*rows))
    calls = []

    def gone() -> None:
        calls.append(1)
        if len(calls) > 1:
            raise DeadlineExceededError("the caller stopped waiting")

    with pytest.raises(DeadlineExceededError):
        check_file(path, "big.jsonl", check=gone)
    assert len(calls) == 2  # stopped at the second check: after CHECK_EVERY lines, not the end
    assert len(check_file(path, "big.jsonl")) == CHECK_EVERY * 3
