"""The loaded backends, kept per process: the only module that knows every backend.

Keeps the last few loaded encoders and vector sets (each loaded once at a time, however many jobs
ask), the tokenizer alone where a full encoder is not needed, the parser and the masked-LM probe.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from embedding_advisor.errors import InvalidArgumentError

from . import mlm
from .bundled import default_encoder_path, default_vectors_path, resolve
from .checks import bad_option
from .files import default_cache_dir
from .hub import transformers
from .mlm import MLMProbe
from .onnx_encoder import OnnxEncoder, model_file
from .parser import PARSER_PACKAGE, Parser
from .torch_encoder import Encoder
from .vectors import StaticVectors

log = logging.getLogger(__name__)


class ResourceCache:
    """Keeps the last few loaded encoders and vector sets; loading each path once at a time."""

    def __init__(self, max_items: int = 2, cache_dir: Path | None = None) -> None:
        self.max_items = max_items
        self.cache_dir = cache_dir or default_cache_dir()
        self._items: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()
        # One load at a time, whatever the model: transformers builds a model with its
        # parameters on the "meta" device by patching torch process-wide, and a model built on
        # another thread meanwhile was seen to get meta tensors ("Tensor on device meta", with
        # jobs and profiles on the server's threads). Reentrant: a load may load its parts.
        self._loading = threading.RLock()

    def _get(self, key: tuple[str, str], load: Callable[[], object]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        with self._loading:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            value = load()
            with self._lock:
                self._items[key] = value
                kinds = [k for k in self._items if k[0] == key[0]]
                for old in kinds[: max(0, len(kinds) - self.max_items)]:
                    del self._items[old]
            return value

    def encoder(self, path: str | None) -> Encoder:
        p = resolve(path, default_encoder_path)
        return self._get(("encoder", str(p)), lambda: Encoder(p))

    def frozen_encoder(self, path: str | None, backend: str) -> Encoder:
        """The encoder with its forward pass on ``backend`` (``onnx_fp32``, ``onnx_int8``,
        ``torch``). An architecture ONNX export fails on falls back to torch, with a warning."""
        if backend == "torch":
            return self.encoder(path)
        p = resolve(path, default_encoder_path)

        def load() -> Encoder:
            try:
                return OnnxEncoder(p, self.cache_dir, quantize=backend == "onnx_int8")
            except InvalidArgumentError:
                raise
            except Exception as exc:
                log.warning("ONNX export of %s failed (%s); using torch eager", p, exc)
                return Encoder(p)

        return self._get(("encoder", f"{p}|{backend}"), load)

    def loaded(self, kind: str, key: str) -> bool:
        with self._lock:
            return (kind, key) in self._items

    def ready(self, path: str | None, backend: str) -> bool:
        """Whether ``frozen_encoder(path, backend)`` costs no ONNX export (loaded, cached, torch)."""
        if backend == "torch":
            return True
        p = resolve(path, default_encoder_path)
        if self.loaded("encoder", f"{p}|{backend}"):
            return True
        return model_file(p, self.cache_dir, quantize=backend == "onnx_int8").exists()

    def mlm_ready(self, path: str | None) -> bool:
        """Whether ``mlm(path)`` costs no warm-up."""
        p = resolve(path, default_encoder_path)
        return self.loaded("mlm", str(p)) or mlm.cheap(p, self.cache_dir)

    def tokenizer(self, path: str | None):
        """The encoder's tokenizer alone (cheap), or a loaded encoder's."""
        p = resolve(path, default_encoder_path)
        with self._lock:
            loaded = next(
                (
                    v
                    for k, v in self._items.items()
                    if k[0] == "encoder" and k[1].split("|")[0] == str(p)
                ),
                None,
            )
        if loaded is not None:
            return loaded.tokenizer

        def load():
            try:
                return transformers().AutoTokenizer.from_pretrained(p)
            except Exception as exc:
                raise bad_option("encoder", f"cannot load a tokenizer from {p}: {exc}") from exc

        return self._get(("tokenizer", str(p)), load)

    def vectors(self, path: str | None) -> StaticVectors:
        p = resolve(path, default_vectors_path)
        return self._get(("vectors", str(p)), lambda: StaticVectors.load(p))

    def parser(self) -> Parser:
        """The spaCy dependency parser of the profiler."""

        def load():
            try:
                return Parser()
            except OSError as exc:  # the pipeline package is missing or broken
                raise RuntimeError(
                    f"cannot load the spaCy pipeline {PARSER_PACKAGE!r} (a dependency of "
                    f"embedding-advisor-server): {exc}"
                ) from exc

        return self._get(("parser", PARSER_PACKAGE), load)

    def mlm(self, path: str | None, report: Callable[[str], None] | None = None) -> MLMProbe:
        """The encoder's masked-LM probe (warms a head up once when the encoder has none)."""
        p = resolve(path, default_encoder_path)
        return self._get(("mlm", str(p)), lambda: MLMProbe(p, self.cache_dir, report))
