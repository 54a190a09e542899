"""Property-based fuzzing of what a client can send: any generated file is either a dataset or an
``InvalidDatasetError`` naming the file (and its line and field), never another exception, never
a message that quotes long content, and an upload never leaves a half-written file. A small,
derandomised share runs here; ``benchmarks/fuzz_soak.py`` runs 10,000 and more through a real
server."""

from __future__ import annotations

import pytest
from fuzzing import dataset_file
from hypothesis import HealthCheck, given, settings

from embedding_advisor.errors import AdvisorError, InvalidDatasetError
from embedding_advisor_server.core.config import ServiceConfig
from embedding_advisor_server.core.data.parse import check_file, check_usable, parse_jsonl
from embedding_advisor_server.core.service import AdvisorService

SHARE = settings(max_examples=200, deadline=None, derandomize=True)


def _well_formed_refusal(err: InvalidDatasetError, source: str) -> None:
    assert str(err).startswith(f"{source}: ")
    assert err.violations and all(v.field.startswith(source) for v in err.violations)
    assert len(err.violations) <= 20 and all(len(v.description) < 400 for v in err.violations)
    assert "x" * 60 not in str(err)  # a long value is never echoed whole
    str(err).encode("utf-8")  # valid Unicode, as gRPC must send it (no unpaired surrogate)


def test_a_key_that_is_not_unicode_is_named_in_a_message_that_is():
    with pytest.raises(InvalidDatasetError) as err:
        parse_jsonl(b'{"\\ud800": 1}\n', "f.jsonl")
    _well_formed_refusal(err.value, "f.jsonl")
    assert "'\\ud800'" in str(err.value)


@SHARE
@given(dataset_file())
def test_any_file_parses_or_is_refused_naming_file_line_and_field(data):
    try:
        dataset = parse_jsonl(data, "f.jsonl")
    except InvalidDatasetError as err:
        _well_formed_refusal(err, "f.jsonl")
        return
    assert len(dataset.inputs) == len(dataset.targets) == len(dataset.lines) > 0
    assert all(1 <= line <= data.count(b"\n") + 1 for line in dataset.lines)
    for texts in dataset.inputs:  # whatever was accepted is text UTF-8 can hold
        for text in texts if isinstance(texts, tuple) else (texts,):
            for part in text if isinstance(text, list) else [text]:
                part.encode("utf-8")
    try:
        check_usable(dataset)
    except InvalidDatasetError as err:
        _well_formed_refusal(err, "f.jsonl")


@SHARE
@given(dataset_file())
def test_the_streamed_check_finds_what_the_whole_file_parse_finds(tmp_path_factory, data):
    path = tmp_path_factory.getbasetemp() / "streamed.jsonl"
    path.write_bytes(data)
    try:
        parsed = parse_jsonl(data, "f.jsonl")
    except InvalidDatasetError as err:
        with pytest.raises(InvalidDatasetError) as streamed:
            check_file(path, "f.jsonl")
        assert streamed.value.violations == err.violations and str(streamed.value) == str(err)
        return
    summary = check_file(path, "f.jsonl")
    assert (summary.task, len(summary)) == (parsed.task, len(parsed))
    assert summary.label_counts() == parsed.label_counts()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    made = AdvisorService(root / "datasets", root / "jobs.sqlite3", ServiceConfig())
    yield made
    made.close()


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(data=dataset_file())
def test_an_upload_is_stored_whole_or_refused_as_invalid_and_leaves_nothing(service, data):
    try:
        info = service.upload(iter([data[: len(data) // 2], data[len(data) // 2 :]]), "up.jsonl")
    except AdvisorError as err:
        assert isinstance(err, InvalidDatasetError), err
        _well_formed_refusal(err, "up.jsonl")
    else:
        assert (service.blobs.root / info.dataset_id).read_bytes() == data
        assert info.num_examples >= 10
    assert not list(service.blobs.root.glob(".upload-*"))
