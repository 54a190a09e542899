"""What the CLI prints is what the advice says: emoji codes and markup in user data stay text."""

from __future__ import annotations

from embedding_advisor.cli import session


def test_labels_that_look_like_emoji_codes_or_markup_print_as_written(capsys):
    session.error("train.jsonl:3:label: ':fire:' and '[bold]x[/bold]' are bad")
    err = capsys.readouterr().err
    assert ":fire:" in err and "[bold]x[/bold]" in err and "\U0001f525" not in err
