"""Word segmentation with jieba, quiet and initialised once, plus the platform's own term dictionary."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import jieba

from .normalize import normalize

# A token must carry a letter or a CJK character; bare numbers ("2021", "3.5") match nothing useful.
_CONTENT = re.compile(r"[a-z\u4e00-\u9fff]")
_LEARNED_FREQ = 20_000  # high enough that jieba keeps a learned compound whole in precise mode


@cache
def load_stopwords() -> frozenset[str]:
    """The stop words shipped with the package (``stopwords.txt``, one a line)."""
    text = resources.files(__package__).joinpath("stopwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@cache
def _default_tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    jieba.dt.initialize()
    return jieba.dt


def _tokenizer_with(terms: tuple[str, ...]) -> jieba.Tokenizer:
    if not terms:
        return _default_tokenizer()
    _default_tokenizer()  # sets the log level before a second prefix dict is loaded
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for term in terms:
        tokenizer.add_word(term, freq=_LEARNED_FREQ)
    return tokenizer


class Analyzer:
    """Normalise, segment and filter text into index terms.

    ``search_mode`` uses jieba's search segmentation, which also emits the dictionary words inside a
    long word ("锂离子电池" → "离子", "电池", "锂离子电池"), so a short query word finds a long compound.
    The analyzer pickles as its settings (for worker processes) and rebuilds jieba lazily.

    >>> Analyzer().tokenize("一种锂离子电池隔膜的制备方法")
    ['一种', '离子', '锂离子', '电池', '隔膜', '制备', '方法']
    """

    def __init__(
        self, terms: Iterable[str] = (), *, stopwords: Iterable[str] | None = None, search_mode: bool = True
    ) -> None:
        self.terms = tuple(sorted(set(terms)))
        self.stopwords = load_stopwords() if stopwords is None else frozenset(stopwords)
        self.search_mode = search_mode
        self._jieba: jieba.Tokenizer | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"terms": self.terms, "stopwords": self.stopwords, "search_mode": self.search_mode}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["terms"], stopwords=state["stopwords"], search_mode=state["search_mode"])  # type: ignore[misc]

    @property
    def jieba(self) -> jieba.Tokenizer:
        if self._jieba is None:
            self._jieba = _tokenizer_with(self.terms)
        return self._jieba

    def segment(self, text: str) -> list[str]:
        """Words of normalised ``text`` in precise mode, stop words kept (for learning collocations)."""
        return [w for w in self.jieba.lcut(normalize(text)) if w.strip()]

    def tokenize(self, text: str) -> list[str]:
        """Index terms of ``text``, in order, repeats kept (term frequency matters to BM25)."""
        text = normalize(text)
        words = self.jieba.lcut_for_search(text) if self.search_mode else self.jieba.lcut(text)
        stop = self.stopwords
        return [w for w in words if w not in stop and _CONTENT.search(w) and not w.isspace()]
