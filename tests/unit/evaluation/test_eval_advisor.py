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


def test_a_pool_asked_for_by_flag_or_by_variable_is_the_same_advice(monkeypatch):
    asked = overrides({"max_train_examples": 500})  # advise eval --max-train 500
    monkeypatch.setenv("ADVISOR_MAX_TRAIN_EXAMPLES", "500")
    assert overrides() == asked == {"max_train_examples": 500}  # one cache key either way
    monkeypatch.setenv("ADVISOR_MAX_TRAIN_EXAMPLES", "1000")
    assert overrides({"max_train_examples": 500}) == asked  # the request's option wins
    assert overrides({"max_train_examples": 2000}) == {}  # the default asked for: the default


def test_a_pool_under_ten_examples_is_refused_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main([str(tmp_path), "--max-train", "5", "--out", str(tmp_path / "out")])
    assert stopped.value.code == 2 and "the pool is a number of examples >= 10" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()


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
