"""Errors for a bad model option, and the checks made before any work starts."""

from __future__ import annotations

from pathlib import Path

from embedding_advisor.errors import FieldViolation, InvalidArgumentError


def bad_option(field: str, message: str) -> InvalidArgumentError:
    """An ``InvalidArgumentError`` naming ``options.<field>``."""
    return InvalidArgumentError(message, [FieldViolation(f"options.{field}", message)])


def check_model_paths(options) -> None:
    """Reject an encoder or vectors path that does not exist, before any work starts."""
    if options.encoder and not Path(options.encoder).expanduser().is_dir():
        raise bad_option("encoder", f"no such directory on the server: {options.encoder}")
    if options.vectors and not Path(options.vectors).expanduser().exists():
        raise bad_option("vectors", f"no such file on the server: {options.vectors}")
