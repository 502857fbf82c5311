"""A technical-term dictionary the platform learns from its own catalogue, saved in jieba's user-dict format.

Terms come from two places: keywords people typed (achievement/demand keywords, IPC or chain names), and
collocations found in titles, i.e. adjacent words that occur together far more often than by chance
(pointwise mutual information), such as "锂电池" + "隔膜" or "数字" + "孪生".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .normalize import normalize
from .segment import Analyzer, load_stopwords

_MAX_TERM_CHARS = 12


@dataclass
class TermDictionary:
    """Learned terms with their catalogue frequency."""

    terms: dict[str, int] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        lines = (f"{term} {count}" for term, count in sorted(self.terms.items()))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> TermDictionary:
        terms: dict[str, int] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            term, _, count = line.rpartition(" ")
            if term:
                terms[term] = int(count)
        return cls(terms)

    def analyzer(self, *, search_mode: bool = True) -> Analyzer:
        return Analyzer(self.terms, search_mode=search_mode)


def _is_cjk_word(word: str) -> bool:
    return len(word) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in word)


def learn_terms(
    titles: Iterable[str],
    *,
    keywords: Iterable[str] = (),
    min_count: int = 5,
    min_pmi: float = 3.0,
) -> TermDictionary:
    """Learn a term dictionary from catalogue titles and typed keywords.

    Parameters
    ----------
    min_count: a collocation must occur at least this often to be a term (guards against chance pairs).
    min_pmi: log-ratio of observed to expected co-occurrence; 3.0 means 20× more often than chance.
    """
    analyzer = Analyzer(stopwords=())
    stop = load_stopwords()
    words: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for title in titles:
        seq = analyzer.segment(title)
        words.update(seq)
        pairs.update(
            (a, b)
            for a, b in zip(seq, seq[1:], strict=False)
            if _is_cjk_word(a) and _is_cjk_word(b) and a not in stop and b not in stop
        )
    total = max(sum(words.values()), 1)
    terms: dict[str, int] = {}
    for (a, b), count in pairs.items():
        if count < min_count or len(a) + len(b) > _MAX_TERM_CHARS:
            continue
        pmi = math.log(count * total / (words[a] * words[b]))
        if pmi >= min_pmi:
            terms[a + b] = count
    for keyword in keywords:
        term = normalize(keyword).replace(" ", "")
        if 2 <= len(term) <= _MAX_TERM_CHARS:
            terms[term] = terms.get(term, 0) + 1
    return TermDictionary(terms)
