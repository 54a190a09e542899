"""Access control on real servers (loopback, free ports): bearer tokens, TLS and mutual TLS, and
ownership: a principal sees only its own jobs and uploads, everything else is "not found" in the
same words as what does not exist. No model is loaded: these calls stop before any work."""

from __future__ import annotations

import shutil
import subprocess

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import write_jsonl
from embedding_advisor import (
    AdvisorClient,
    NotFoundError,
    ServerUnavailableError,
    UnauthenticatedError,
)

ALICE, BOB = "alice-token-0123456789", "bob-token-9876543210ab"


def _openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A test CA, a server certificate for 127.0.0.1 and a client certificate, all from it."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not found: cannot make test certificates")
    d = tmp_path_factory.mktemp("certs")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
             "ca.pem", "-days", "2", "-subj", "/CN=advisor-test-ca", cwd=d)  # fmt: skip
    (d / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                 f"{name}.csr", "-subj", f"/CN={name}", cwd=d)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", "san.cnf",
                 cwd=d)  # fmt: skip
    return d


def _server(tmp_path_factory, **settings):
    from embedding_advisor_server.app import AdvisorServer
    from embedding_advisor_server.settings import ServerSettings

    server = AdvisorServer(
        ServerSettings(
            host="127.0.0.1", port=0, data_dir=tmp_path_factory.mktemp("auth-data"), **settings
        )
    )
    server.start()
    return server


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, certs):
    """A server over TLS with two principals' tokens."""
    tokens = tmp_path_factory.mktemp("tokens") / "tokens.txt"
    tokens.write_text(f"# principal token\nalice {ALICE}\nbob {BOB}\n")
    server = _server(
        tmp_path_factory,
        auth_tokens_file=tokens,
        tls_cert_file=certs / "server.pem",
        tls_key_file=certs / "server.key",
    )
    yield server
    server.stop(grace=1)


def _client(server, certs, token=None, **kw) -> AdvisorClient:
    return AdvisorClient(server.target, timeout=60, token=token, tls_ca=certs / "ca.pem", **kw)


def _data(tmp_path, name="d.jsonl"):
    rows = [{"text": f"text number {i}", "label": "ab"[i % 2]} for i in range(20)]
    return write_jsonl(tmp_path / name, rows)


def test_calls_need_a_valid_token_but_health_does_not(guarded, certs, tmp_path):
    for token in (None, "not-a-listed-token-at-all"):
        with _client(guarded, certs, token) as anonymous:
            with pytest.raises(UnauthenticatedError, match="needs a bearer token"):
                anonymous.list_jobs()
            with pytest.raises(UnauthenticatedError):
                anonymous.upload(_data(tmp_path))
    credentials = grpc.ssl_channel_credentials((certs / "ca.pem").read_bytes())
    with grpc.secure_channel(guarded.target, credentials) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    # Plaintext to a TLS server does not get through at all.
    with AdvisorClient(guarded.target, timeout=10) as plain, pytest.raises(ServerUnavailableError):
        plain.list_jobs()


def test_each_principal_sees_only_its_own(guarded, certs, tmp_path):
    with _client(guarded, certs, ALICE) as alice, _client(guarded, certs, BOB) as bob:
        data = _data(tmp_path)
        mine = alice.upload(data)
        assert not mine.already_stored
        # Bob cannot name Alice's dataset: the words are those of an id nobody uploaded.
        with pytest.raises(NotFoundError) as theirs:
            bob.start_advice(mine.dataset_id)
        with pytest.raises(NotFoundError) as nobodys:
            bob.start_advice("f" * 64)
        assert str(theirs.value).replace(mine.dataset_id, "ID") == str(nobodys.value).replace(
            "f" * 64, "ID"
        )
        # Uploading the same bytes tells Bob nothing of Alice's copy, then it is his too.
        assert not bob.upload(data).already_stored and bob.upload(data).already_stored
        job = alice.start_advice(mine.dataset_id)
        alice.cancel_job(job.job_id)
        for call in (bob.get_job, bob.cancel_job, bob.delete_job):
            with pytest.raises(NotFoundError, match="no job"):
                call(job.job_id)
        with pytest.raises(NotFoundError):
            list(bob.watch(job.job_id))
        with pytest.raises(NotFoundError):
            bob.download_adapted(job.job_id, tmp_path / "weights")
        assert job.job_id in {j.job_id for j in alice.list_jobs()}
        assert job.job_id not in {j.job_id for j in bob.list_jobs()}
        alice.delete_job(job.job_id)
        with pytest.raises(NotFoundError):
            alice.get_job(job.job_id)


def test_mutual_tls_refuses_a_client_without_a_certificate(tmp_path_factory, certs):
    server = _server(
        tmp_path_factory,
        tls_cert_file=certs / "server.pem",
        tls_key_file=certs / "server.key",
        tls_client_ca_file=certs / "ca.pem",
    )
    try:
        with _client(server, certs) as stranger, pytest.raises(ServerUnavailableError):
            stranger.list_jobs()
        with _client(
            server, certs, tls_cert=certs / "client.pem", tls_key=certs / "client.key"
        ) as known:
            assert known.list_jobs() == []
    finally:
        server.stop(grace=1)


def test_a_token_is_not_sent_in_plaintext_to_another_machine():
    from embedding_advisor import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="only over TLS"):
        AdvisorClient("advisor.example.com:50051", token=ALICE)
    AdvisorClient("127.0.0.1:1", token=ALICE).close()  # this machine: allowed


def test_bad_token_files_are_refused_at_start(tmp_path_factory):
    short = tmp_path_factory.mktemp("bad") / "tokens.txt"
    short.write_text("alice short\n")
    with pytest.raises(ValueError, match="at least 16 characters"):
        _server(tmp_path_factory, auth_tokens_file=short)


def test_the_cli_passes_its_token_and_ca(guarded, certs, tmp_path):
    import sys

    bad = write_jsonl(tmp_path / "bad.jsonl", [{"text": "ok", "label": "a"}, {"text": "x"}])
    command = [sys.executable, "-m", "embedding_advisor.cli", str(bad), "--server"]
    command += [guarded.target, "--tls-ca", str(certs / "ca.pem")]

    def advise(*extra: str, env_token: str | None = None) -> subprocess.CompletedProcess:
        env = {**__import__("os").environ, "ADVISOR_TOKEN": env_token or ""}
        return subprocess.run(
            [*command, *extra], capture_output=True, text=True, timeout=120, env=env
        )

    refused = advise("--token", "wrong-token-0123456789")
    assert refused.returncode == 1 and "needs a bearer token" in refused.stderr
    through = advise(env_token=ALICE)  # from ADVISOR_TOKEN: the upload got in, and was checked
    assert through.returncode == 2 and "bad.jsonl:2:label: is missing" in through.stderr
