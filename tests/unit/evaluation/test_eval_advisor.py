"""The evaluation's advisor settings: the ``ADVISOR_*`` variables that move a pipeline default are
named, and they change the cached advice's key (advice under a pool of 500 is another advice)."""

from __future__ import annotations

from embedding_advisor_server.evaluation.advisor import overrides


def test_the_defaults_move_nothing(monkeypatch):
    monkeypatch.setenv("ADVISOR_BUDGET", "quick")  # set, but to the default
    monkeypatch.setenv("ADVISOR_WORKERS", "3")  # the server's, not the pipeline's
    assert overrides() == {}


def test_a_moved_pool_and_budget_are_named_in_declaration_order(monkeypatch):
    monkeypatch.setenv("ADVISOR_BUDGET", "thorough")
    monkeypatch.setenv("ADVISOR_MAX_TRAIN_EXAMPLES", "500")
    assert overrides() == {"max_train_examples": 500, "budget": "thorough"}
