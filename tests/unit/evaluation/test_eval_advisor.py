"""The evaluation's advisor settings: the ``ADVISOR_*`` variables that move a pipeline default are
named, and they change the cached advice's key (advice under a pool of 500 is another advice); a
bad one stops the evaluation before any work, named, its value never echoed."""

from __future__ import annotations

import pytest

from embedding_advisor_server.evaluation.__main__ import main
from embedding_advisor_server.evaluation.advisor import overrides
from embedding_advisor_server.settings import SettingsError, embedded


def test_the_defaults_move_nothing(monkeypatch):
    monkeypatch.setenv("ADVISOR_BUDGET", "quick")  # set, but to the default
    monkeypatch.setenv("ADVISOR_WORKERS", "3")  # the server's, not the pipeline's
    assert overrides() == {}


def test_a_moved_pool_and_budget_are_named_in_declaration_order(monkeypatch):
    monkeypatch.setenv("ADVISOR_BUDGET", "thorough")
    monkeypatch.setenv("ADVISOR_MAX_TRAIN_EXAMPLES", "500")
    assert overrides() == {"max_train_examples": 500, "budget": "thorough"}


def test_a_bad_variable_stops_the_evaluation_before_any_work_naming_it(
    tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "data" / "reviews"
    folder.mkdir(parents=True)
    for split in ("train", "test"):
        (folder / f"{split}.jsonl").write_text('{"text": "fine", "label": "pos"}\n' * 30)
    monkeypatch.setenv("ADVISOR_MAX_TRAIN_EXAMPLES", "two-thousand")
    out = tmp_path / "out"
    assert main([str(tmp_path / "data"), "--sizes", "20", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "advise eval: bad setting max_train_examples (ADVISOR_MAX_TRAIN_EXAMPLES)"
    )
    assert "two-thousand" not in err and "Traceback" not in err
    assert not out.exists()  # nothing advised, trained or written


def test_an_embedded_servers_bad_settings_name_their_variables_never_their_values(monkeypatch):
    monkeypatch.setenv("ADVISOR_WORKERS", "many")
    monkeypatch.setenv("ADVISOR_BUDGET", "secret-looking-value")
    with pytest.raises(SettingsError) as caught:
        embedded(host="127.0.0.1", port=0)
    named = sorted(line.split(":")[0] for line in caught.value.lines)
    assert named == ["bad setting budget (ADVISOR_BUDGET)", "bad setting workers (ADVISOR_WORKERS)"]
    assert "many" not in str(caught.value) and "secret-looking" not in str(caught.value)
