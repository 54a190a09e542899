"""Which server paths a client may name: only under the operator's roots, the bundled models and
the defaults, judged on the resolved path, with one message whether or not the path exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedding_advisor.errors import InvalidArgumentError
from embedding_advisor_server.core.backends.bundled import default_encoder_path
from embedding_advisor_server.core.backends.checks import allowed_roots, check_model_paths
from embedding_advisor_server.core.config import ServiceConfig
from embedding_advisor_server.core.schema import AdviceOptions


def refused(options, roots) -> str:
    with pytest.raises(InvalidArgumentError) as err:
        check_model_paths(options, roots)
    return err.value.message


def test_only_paths_under_a_root_pass(tmp_path):
    models = tmp_path / "models"
    (models / "bert").mkdir(parents=True)
    (models / "glove.txt").write_text("a 0.1\n")
    secret = tmp_path / "secret"
    secret.mkdir()
    roots = allowed_roots([models])
    check_model_paths(AdviceOptions(encoder=str(models / "bert")), roots)
    check_model_paths(AdviceOptions(vectors=str(models / "glove.txt")), roots)
    check_model_paths(AdviceOptions(encoder=str(default_encoder_path())), roots)  # bundled
    (models / "escape").symlink_to(secret)
    outside = [str(secret), str(models / ".." / "secret"), str(models / "escape"), "/etc"]
    words = {refused(AdviceOptions(encoder=p), roots).replace(repr(p), "P") for p in outside}
    words.add(refused(AdviceOptions(encoder="/no/such"), roots).replace("'/no/such'", "P"))
    assert len(words) == 1 and "not under a folder this server allows" in words.pop()
    # Inside a root a missing path is named as missing; with no roots given, nothing is limited.
    assert "no such directory" in refused(AdviceOptions(encoder=str(models / "nope")), roots)
    check_model_paths(AdviceOptions(encoder=str(secret)), None)


def test_the_servers_defaults_are_roots_and_the_setting_splits_like_path(tmp_path):
    default = tmp_path / "house-vectors.txt"
    default.write_text("a 0.1\n")
    roots = allowed_roots([], [None, str(default)])
    check_model_paths(AdviceOptions(vectors=str(default)), roots)
    assert ServiceConfig(model_roots="/a:/b").model_roots == [Path("/a"), Path("/b")]
