"""``advise-server``'s process settings (``__main__.py``): what it sets before the server starts."""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError

from embedding_advisor_server import app
from embedding_advisor_server.__main__ import main
from embedding_advisor_server.settings import parse

pytestmark = pytest.mark.unit


@pytest.fixture()
def interval():
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


class _Refused:
    """Stands in for the server: refuses to start, as bad TLS files would, so main returns."""

    def __init__(self, settings) -> None:
        raise OSError("not started in this test")


def test_the_server_process_takes_its_interpreter_lock_turn_from_the_settings(
    tmp_path, monkeypatch, interval, capsys
):
    monkeypatch.setattr(app, "AdvisorServer", _Refused)
    sys.setswitchinterval(0.005)
    assert main(["--gil-switch-ms", "2", "--data-dir", str(tmp_path)]) == 2
    assert "not started in this test" in capsys.readouterr().err
    assert sys.getswitchinterval() == pytest.approx(0.002)


def test_the_default_turn_is_shorter_than_pythons_and_nonsense_is_refused(tmp_path):
    assert parse(["--data-dir", str(tmp_path)]).gil_switch_ms == 1.0 < 5.0
    for bad in ("0", "-1", "1000"):
        with pytest.raises(ValidationError, match="gil_switch_ms"):
            parse(["--data-dir", str(tmp_path), "--gil-switch-ms", bad])
