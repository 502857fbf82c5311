"""A domain thesaurus: the words records use for what a demand names.

An enterprise writes 功率半导体; the patent that answers it says IGBT or 碳化硅. No shared word, and a small
sentence encoder does not know that an IGBT is a power semiconductor. A thesaurus row says so:
``功率半导体,IGBT|MOSFET|碳化硅|…,下位`` (下位: kinds of the term; 同义: other names for it). A query that
contains a term also looks for its related words, at a fraction of a word's weight
(``MatchConfig.expansion_weight``; docs/matching.md).

The packaged list (``data/thesaurus.csv``) covers the industry chains the platform tags.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from .normalize import normalize

RELATIONS = ("同义", "下位")
COLUMNS = ("term", "related", "relation")


class ThesaurusError(ValueError):
    """A thesaurus file that cannot be read; the message names the file, row and column."""


@dataclass(frozen=True)
class Thesaurus:
    """Terms (normalised) → the related words records use, each with its spelling in the file."""

    entries: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    spelling: Mapping[str, str] = field(default_factory=dict)

    def related(self, text: str) -> dict[str, tuple[str, ...]]:
        """The thesaurus terms ``text`` contains, each with its related words (normalised)."""
        text = normalize(text)
        return {term: related for term, related in self.entries.items() if term in text}

    def shown(self, word: str) -> str:
        """How a related word is written in the thesaurus (``igbt`` → ``IGBT``)."""
        return self.spelling.get(word, word)

    def extended(self, other: Thesaurus) -> Thesaurus:
        """This thesaurus with ``other``'s rows added (a zone's own words): a term both hold keeps its
        related words here first, then ``other``'s."""
        if not other.entries:
            return self
        entries = dict(self.entries)
        for term, words in other.entries.items():
            entries[term] = tuple(dict.fromkeys(entries.get(term, ()) + words))
        return Thesaurus(entries, {**self.spelling, **other.spelling})

    @classmethod
    def read(cls, path: Path) -> Thesaurus:
        return cls.parse(path.read_text(encoding="utf-8-sig").splitlines(), source=str(path))

    @classmethod
    def parse(
        cls,
        lines: Iterable[str],
        *,
        source: str,
        check: Callable[[int, Mapping[str, str | None]], None] | None = None,
    ) -> Thesaurus:
        """``check(number, row)`` is called on each row that passed the checks here, in order, and may
        refuse it with a ``ThesaurusError`` of its own (a zone's upload bounds its rows)."""
        rows = csv.DictReader(lines)
        if tuple(rows.fieldnames or ()) != COLUMNS:
            raise ThesaurusError(f"{source}: 表头应为 {','.join(COLUMNS)}")
        entries: dict[str, tuple[str, ...]] = {}
        spelling: dict[str, str] = {}
        for number, row in enumerate(rows, start=2):
            term = normalize((row["term"] or "").strip())
            related = [r.strip() for r in (row["related"] or "").split("|") if r.strip()]
            if len(term) < 2:
                raise ThesaurusError(f"{source} 第 {number} 行 term: 词条至少两个字")
            if not related:
                raise ThesaurusError(f"{source} 第 {number} 行 related: 没有相关词")
            if row["relation"] not in RELATIONS:
                raise ThesaurusError(f"{source} 第 {number} 行 relation: 应为 {' 或 '.join(RELATIONS)}")
            if check is not None:
                check(number, row)
            words = [normalize(r) for r in related]
            spelling.update(zip(words, related, strict=True))
            entries[term] = tuple(dict.fromkeys(entries.get(term, ()) + tuple(w for w in words if w != term)))
        return cls(entries, spelling)


@cache
def packaged_thesaurus() -> Thesaurus:
    """The thesaurus shipped with the package (``techbridge/data/thesaurus.csv``)."""
    source = resources.files("techbridge") / "data" / "thesaurus.csv"
    return Thesaurus.parse(source.read_text(encoding="utf-8").splitlines(), source="thesaurus.csv")
