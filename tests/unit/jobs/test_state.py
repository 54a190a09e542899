"""What a server keeps: paginated job lists, deleting an upload, an identical re-upload recognised
by its digest without parsing, and retention of old jobs and uploads."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest

from conftest import write_jsonl
from embedding_advisor.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from embedding_advisor_server.core import principal
from embedding_advisor_server.core import service as service_module
from embedding_advisor_server.core.config import ServiceConfig
from embedding_advisor_server.core.jobs.retention import expire
from embedding_advisor_server.core.schema import AdviceOptions, JobState
from embedding_advisor_server.core.service import AdvisorService


def _rows(n: int) -> list[dict]:
    return [{"text": f"review number {i}", "label": "pos" if i % 2 else "neg"} for i in range(n)]


@pytest.fixture()
def service(tmp_path):
    made = AdvisorService(tmp_path / "datasets", tmp_path / "jobs.sqlite3", ServiceConfig())
    release = threading.Event()

    def slow(job, control):  # stands in for the pipeline: these tests are about state
        while not release.wait(0.02):
            control.check()
        raise RuntimeError("stand-in work ends here")

    made.jobs._work = slow
    yield made
    release.set()
    made.close()


def _upload(service, path):
    with open(path, "rb") as fh:
        return service.upload(iter([fh.read()]), path.name)


def test_job_lists_page_through_every_job_once_newest_first(service, tmp_path):
    data = _upload(service, write_jsonl(tmp_path / "d.jsonl", _rows(20))).dataset_id
    made = [service.jobs.submit(data, None, AdviceOptions(seed=i)).job_id for i in range(7)]
    for job_id in made:
        service.cancel_job(job_id)
    seen, token, pages = [], "", 0
    while True:
        jobs, token = service.list_jobs(3, token)
        seen += [j.job_id for j in jobs]
        pages += 1
        if not token:
            break
    assert seen == made[::-1] and pages == 3
    with pytest.raises(InvalidArgumentError) as bad:
        service.list_jobs(3, "not-a-token")
    assert bad.value.violations[0].field == "page_token"
    with pytest.raises(InvalidArgumentError):
        service.list_jobs(5000)


def test_a_reupload_is_recognised_by_its_digest_and_not_parsed(service, tmp_path, monkeypatch):
    path = write_jsonl(tmp_path / "d.jsonl", _rows(20))
    first = _upload(service, path)

    def never(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(service_module, "check_file", never)
    again = _upload(service, path)
    assert again.dataset_id == first.dataset_id and again.already_stored
    assert (again.task, again.num_examples) == (first.task, first.num_examples) == (first.task, 20)


def test_deleting_an_upload_refuses_while_a_job_reads_it_and_keeps_what_others_uploaded(
    service, tmp_path
):
    path = write_jsonl(tmp_path / "d.jsonl", _rows(20))
    with principal.acting_as("ann"):
        data = _upload(service, path).dataset_id
    with principal.acting_as("bob"):
        assert _upload(service, path).already_stored is False  # bob's own copy, as far as he knows
        job = service.start_advice(data, None, AdviceOptions())
        with pytest.raises(FailedPreconditionError, match=job.job_id):
            service.delete_dataset(data)
        service.cancel_job(job.job_id)
        assert service.delete_dataset(data) is False  # ann uploaded it too: the file stays
        with pytest.raises(NotFoundError):
            service.delete_dataset(data)  # gone for bob
    with principal.acting_as("ann"):
        assert service.delete_dataset(data) is True  # the last holder: the file goes
    assert not (tmp_path / "datasets" / data).exists()
    with pytest.raises(NotFoundError):
        service.delete_dataset(data)


def test_retention_deletes_old_finished_jobs_then_uploads_no_kept_job_names(service, tmp_path):
    old = _upload(service, write_jsonl(tmp_path / "old.jsonl", _rows(20))).dataset_id
    kept = _upload(service, write_jsonl(tmp_path / "kept.jsonl", _rows(30))).dataset_id
    unused = _upload(service, write_jsonl(tmp_path / "unused.jsonl", _rows(40))).dataset_id
    done = service.jobs.submit(old, None, AdviceOptions())
    service.cancel_job(done.job_id)
    recent = service.jobs.submit(kept, None, AdviceOptions())
    service.cancel_job(recent.job_id)
    week_ago = time.time() - 7 * 86400
    for id_ in (old, kept, unused):
        os.utime(tmp_path / "datasets" / id_, (week_ago, week_ago))
    ended = service.jobs.get(done.job_id).end_time
    service.jobs.store.update(done.job_id, end_time=ended - timedelta(days=7))

    result = expire(service.jobs, service.artifacts, [service.blobs], ended - timedelta(days=3))
    assert (result.jobs, result.uploads) == (1, 2)  # the old job, then its dataset and the unused
    assert [j.job_id for j in service.jobs.list(10)] == [recent.job_id]
    assert sorted(service.blobs.ids()) == [kept]  # a kept job still names it
    assert service.jobs.get(recent.job_id).state is JobState.CANCELLED
