"""``advise``: the command line over the client library (``command`` declares it, ``session`` runs
one advice, ``render`` prints it)."""

from __future__ import annotations

from .command import app, main

__all__ = ["app", "main"]
