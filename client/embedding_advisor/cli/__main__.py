"""``python -m embedding_advisor.cli``: the same as ``advise``."""

from __future__ import annotations

from .command import main

main()
