"""Who the current call is for: the principal the shell's authentication found (``auth.py``),
read by the service's ownership checks without threading it through every signature.

``None`` means authentication is off: one user, who sees everything. A principal sees only the
jobs it started and the datasets and corpora it uploaded; anything else is "not found", with the
same message as something that does not exist.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_CURRENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("principal", default=None)


def current() -> str | None:
    return _CURRENT.get()


@contextlib.contextmanager
def acting_as(principal: str | None) -> Iterator[None]:
    token = _CURRENT.set(principal)
    try:
        yield
    finally:
        _CURRENT.reset(token)
