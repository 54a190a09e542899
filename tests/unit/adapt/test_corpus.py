"""The domain corpus: plain text or JSON Lines, gzip or not, read as a stream; every fault named
by file, line and field; a seeded uniform sample in one pass; limits that stop a huge line or a
compression bomb without reading it all into memory."""

from __future__ import annotations

import gzip
import json
import tracemalloc

import numpy as np
import pytest

from embedding_advisor.errors import InvalidArgumentError
from embedding_advisor_server.core.adapt.corpus import Corpus, CorpusLimits, check_corpus


def test_plain_text_one_document_per_line_blank_lines_skipped(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("first doc\n\n  \nsecond doc\r\nthird\n", encoding="utf-8")
    assert [d for _, d in Corpus(path)] == ["first doc", "second doc", "third"]
    assert [n for n, _ in Corpus(path)] == [1, 4, 5]  # line numbers count the blank lines
    stats = check_corpus(path)
    assert (stats.documents, stats.format, stats.compressed) == (3, "text", False)


def test_jsonl_and_gzip_are_read_alike(tmp_path):
    rows = [{"text": f"abstract number {i}", "id": i} for i in range(50)]
    plain = tmp_path / "abstracts.jsonl"
    plain.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    packed = tmp_path / "abstracts.bin"  # recognised by its magic bytes, not its name
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert [d for _, d in Corpus(plain)] == [d for _, d in Corpus(packed)]
    stats = check_corpus(packed)
    assert (stats.documents, stats.format, stats.compressed) == (50, "jsonl", True)
    assert stats.text_bytes == plain.stat().st_size


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        (['{"text": "ok"}', '{"body": "no text"}'], "corpus.jsonl, line 2, field 'text': missing"),
        (['{"text": "ok"}', '{"text": 7}'], "line 2, field 'text': a int, not a string"),
        (['{"text": "ok"}', "just words"], "line 2: not a JSON object"),
        (["", "", ""], "no document"),
    ],
)
def test_faults_name_the_file_line_and_field(tmp_path, lines, words):
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match=words.replace("(", r"\(").replace(")", r"\)")):
        check_corpus(path, "corpus.jsonl")


def test_bad_bytes_a_damaged_gzip_and_the_limits(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("fine\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidArgumentError, match="line 2: not UTF-8"):
        check_corpus(path)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gzip.compress(b"some text\n" * 5000)[:60])
    with pytest.raises(InvalidArgumentError, match="gzip stream is damaged"):
        check_corpus(cut)
    long = tmp_path / "long.txt"
    long.write_text("short\n" + "x" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match="line 2: longer than 1,000 bytes"):
        check_corpus(long, limits=CorpusLimits(max_line_bytes=1000))
    # A compression bomb: 50 MB of text in ~50 kB, stopped at the text limit.
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(b"a b c d e f g h\n" * 3_200_000))
    assert bomb.stat().st_size < 200_000
    tracemalloc.start()
    with pytest.raises(InvalidArgumentError, match="more than 1,000,000 bytes of text"):
        check_corpus(bomb, limits=CorpusLimits(max_text_bytes=1_000_000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5_000_000


def test_streaming_keeps_memory_flat(tmp_path):
    path = tmp_path / "big.txt"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(80_000):
            fh.write(f"document {i} about parsing and tagging of scientific text\n")
    assert path.stat().st_size > 4_000_000
    tracemalloc.start()
    stats = check_corpus(path)
    texts, total = Corpus(path).sample(100, seed=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert stats.documents == total == 80_000 and len(texts) == 100
    assert peak < 1_000_000  # a 4.5 MB file, never held whole


def test_the_sample_is_seeded_uniform_and_in_corpus_order(tmp_path):
    path = tmp_path / "numbers.txt"
    path.write_text("".join(f"{i}\n" for i in range(1000)), encoding="utf-8")
    corpus = Corpus(path)
    a, total = corpus.sample(100, seed=1)
    assert total == 1000 and a == corpus.sample(100, seed=1)[0] and a != corpus.sample(100, 2)[0]
    assert [int(t) for t in a] == sorted(int(t) for t in a) and len(set(a)) == 100
    # Every document equally likely: over many seeds each tenth of the file gets ~10%.
    counts = np.zeros(10)
    for seed in range(200):
        picked = np.array([int(t) for t in corpus.sample(50, seed)[0]])
        counts += np.bincount(picked // 100, minlength=10)
    assert np.all(np.abs(counts / counts.sum() - 0.1) < 0.015)
    small, total = corpus.sample(5000, seed=0)  # more asked than there are: all of them
    assert total == 1000 and len(small) == 1000
