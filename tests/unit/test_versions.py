"""One version for the two distributions built from this repository: the server pins the client it
was built with, both say the same number, and the changelog has an entry for it."""

from __future__ import annotations

import tomllib

from conftest import ROOT


def test_both_distributions_carry_one_version_and_the_changelog_names_it():
    client = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    server = tomllib.loads((ROOT / "server" / "pyproject.toml").read_text())["project"]
    assert client["version"] == server["version"]
    assert f"embedding-advisor=={client['version']}" in server["dependencies"]
    assert f"## {client['version']}" in (ROOT / "CHANGELOG.md").read_text()
    assert (ROOT / "LICENSE").read_text() == (ROOT / "server" / "LICENSE").read_text()


def test_the_installed_packages_report_that_version():
    import embedding_advisor
    import embedding_advisor_server

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert embedding_advisor.__version__ == embedding_advisor_server.__version__ == version
