"""Errors for a bad model option, and the checks made before any work starts.

A client may name an encoder directory or a word-vector file on the server (``options.encoder``,
``options.vectors``). It may only name what lies under a folder the operator allowed
(``ServiceConfig.model_roots``), the bundled models' folders, or the server's own defaults; the
check is made on the resolved path (symlinks and ``..`` followed) before anything is opened, and
its message is the same whether or not the path exists, so it reveals nothing of the server's
files. Within the roots, a missing path is then named as missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from embedding_advisor.errors import FieldViolation, InvalidArgumentError


def bad_option(field: str, message: str) -> InvalidArgumentError:
    """An ``InvalidArgumentError`` naming ``options.<field>``."""
    return InvalidArgumentError(message, [FieldViolation(f"options.{field}", message)])


def allowed_roots(configured: Iterable[Path | str], defaults: Iterable[str | None] = ()):
    """The folders a client may name models under: the operator's roots, the bundled models'
    folders and the server's own default paths (resolved)."""
    from .bundled import default_encoder_path, default_vectors_path

    roots = [Path(p).expanduser() for p in configured]
    roots += [default_encoder_path(), default_vectors_path()]
    roots += [Path(p).expanduser() for p in defaults if p]
    return [r.resolve() for r in roots]


def _inside(path: Path, roots: list[Path]) -> bool:
    real = path.expanduser().resolve()
    return any(real == root or real.is_relative_to(root) for root in roots)


def check_model_paths(options, roots: list[Path] | None = None) -> None:
    """Reject an encoder or vectors path outside ``roots`` (None: no restriction), then one that
    does not exist, before any work starts."""
    for field, value, kind in (
        ("encoder", options.encoder, "directory"),
        ("vectors", options.vectors, "file"),
    ):
        if not value:
            continue
        if roots is not None and not _inside(Path(value), roots):
            raise bad_option(
                field,
                f"{field} {value!r} is not under a folder this server allows models from (its "
                "operator sets them: ADVISOR_MODEL_ROOTS)",
            )
        path = Path(value).expanduser()
        if not (path.is_dir() if kind == "directory" else path.exists()):
            raise bad_option(field, f"no such {kind} on the server: {value}")
