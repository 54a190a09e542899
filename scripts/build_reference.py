"""Build the general-domain reference sample the profiler compares datasets with.

Source: the English Wikipedia excerpt that gensim ships as test data
(``gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2``,
106 articles). Wikipedia is the general domain of BERT-family pretraining, so the sample stands for
"text the encoder already knows". The script keeps prose paragraphs of 20 words or more, strips the
remaining wiki markup, and writes one paragraph per line, gzip-compressed with a fixed timestamp so
the same gensim file always gives the same bytes::

    .venv/bin/python scripts/build_reference.py

Text: Wikipedia contributors, CC BY-SA 4.0 (see server/embedding_advisor_server/data/REFERENCE.md).
"""

from __future__ import annotations

import bz2
import gzip
import re
from pathlib import Path

from gensim.corpora.wikicorpus import extract_pages, filter_wiki
from gensim.test.utils import datapath

SOURCE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
OUT = (
    Path(__file__).resolve().parents[1]
    / "server/embedding_advisor_server/data/reference_wikipedia.txt.gz"
)
MIN_WORDS = 20
SKIP_PREFIXES = ("=", "*", "#", "|", "{", "}", ":", "!", ";")


def clean(line: str) -> str:
    line = line.replace("'''", "").replace("''", "")
    line = re.sub(r"\(\s*[,;:]?\s*\)", "", line)  # parentheses emptied by removed templates
    line = re.sub(r"\s+([,.;:])", r"\1", line)
    return re.sub(r"\s+", " ", line).strip()


def paragraphs() -> tuple[list[str], list[str]]:
    titles, kept = [], []
    with bz2.BZ2File(datapath(SOURCE)) as fh:
        for title, text, _ in extract_pages(fh):
            if text.lstrip().lower().startswith("#redirect"):
                continue
            titles.append(title)
            for raw in filter_wiki(text).split("\n"):
                raw = raw.strip()
                if raw.startswith(SKIP_PREFIXES):
                    continue
                line = clean(raw)
                if len(line.split()) >= MIN_WORDS:
                    kept.append(line)
    return titles, kept


def main() -> None:
    titles, kept = paragraphs()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(("\n".join(kept) + "\n").encode("utf-8"))
    words = sum(len(p.split()) for p in kept)
    print(f"{OUT}: {len(kept)} paragraphs, {words} words from {len(titles)} articles")
    print("articles:", "; ".join(titles))


if __name__ == "__main__":
    main()
