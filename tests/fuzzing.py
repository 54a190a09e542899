"""Generated dataset files, from well-formed to hostile, for the fuzz tests (``tests/unit/data/
test_fuzz.py``, a small share in ``make test``) and the soak run (``benchmarks/fuzz_soak.py``,
10,000 and more through a real server).

Each file is a list of lines: records of the three shapes with their fields mutated (wrong
types, huge or nested values, odd Unicode: unpaired surrogates, zero-width and control
characters, line separators), mixed with lines that are not JSON, and raw bytes."""

from __future__ import annotations

import json

from hypothesis import strategies as st

ODD_TEXT = st.sampled_from(
    ["", " ", "\u200b", "\x00", "\ud800", "\u2028", "a\nb", "é", "🙂", "B-PER\n", "O", "I-",
     ":fire:", "[red]x[/red]", "x" * 300]
)  # fmt: skip
TEXT = st.one_of(st.text(max_size=40), ODD_TEXT)
LABEL = st.one_of(
    st.sampled_from(["pos", "neg", "1", "0"]),
    st.integers(min_value=-3, max_value=3),
    st.integers(min_value=10**30, max_value=10**31),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    TEXT,
)
JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)
TAG = st.one_of(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), TEXT)


@st.composite
def record(draw) -> object:
    shape = draw(st.sampled_from(["text", "pair", "tagging", "other"]))
    if shape == "text":
        out = {"text": draw(st.one_of(TEXT, JSON_VALUE)), "label": draw(LABEL)}
    elif shape == "pair":
        out = {"text_a": draw(TEXT), "text_b": draw(st.one_of(TEXT, JSON_VALUE)), "label": draw(LABEL)}
    elif shape == "tagging":
        tokens = draw(st.lists(TEXT, max_size=6))
        tags = draw(st.one_of(st.lists(TAG, min_size=len(tokens), max_size=len(tokens)),
                              st.lists(TAG, max_size=6), JSON_VALUE))  # fmt: skip
        out = {"tokens": tokens, "tags": tags}
    else:
        return draw(JSON_VALUE)
    for key in draw(st.lists(st.sampled_from(sorted(out)), max_size=2, unique=True)):
        if draw(st.booleans()):
            del out[key]
        else:
            out[key] = draw(JSON_VALUE)
    return out


def _line(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode()


LINE = st.one_of(
    record().map(_line),
    record().map(_line),
    record().map(_line),
    st.binary(max_size=40),
    st.sampled_from([b"", b"{", b"[]", b"null", b'{"text": "a", "label": ' + b"9" * 5000 + b"}",
                     b'{"text": "a", "label": ' + b"[" * 2000 + b"]" * 2000 + b"}",
                     b'\xef\xbb\xbf{"text": "bom", "label": "a"}', b'{"text": "\\ud800", "label": "a"}']),
)  # fmt: skip


@st.composite
def dataset_file(draw) -> bytes:
    """A whole file: mostly good rows of one shape (so that deep checks are reached) with some
    generated lines among them."""
    good = draw(st.sampled_from(["text", "pair", "tagging"]))
    rows = []
    for i in range(draw(st.integers(min_value=0, max_value=14))):
        if good == "text":
            rows.append(_line({"text": f"text {i}", "label": "ab"[i % 2]}))
        elif good == "pair":
            rows.append(_line({"text_a": f"a {i}", "text_b": f"b {i}", "label": i % 2}))
        else:
            rows.append(_line({"tokens": ["Ann", "ran"], "tags": ["B-PER", "O"]}))
    bad = draw(st.lists(LINE, max_size=6))
    for line in bad:
        rows.insert(draw(st.integers(min_value=0, max_value=len(rows))), line)
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    return newline.join(rows) + draw(st.sampled_from([b"", newline]))
