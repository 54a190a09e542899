"""Hugging Face libraries, offline: no model hub is ever reached, everything is local.

``transformers()`` sets the offline switches before the first import of ``transformers`` (the hub
client reads them when it is imported) and quiets its progress bars and warnings; every backend
imports ``transformers`` through it.
"""

from __future__ import annotations

import os


def transformers():
    """The ``transformers`` module, offline and quiet."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import transformers as hf

    hf.utils.logging.disable_progress_bar()
    hf.utils.logging.set_verbosity_error()
    return hf
