"""The phases of one ranking, and how the answers of several shards merge into what one index would say.

A ranking depends on the whole catalogue, not only on the records it returns: BM25 takes idf and the
average length from every live record, the label model counts every record's words, the lexical signal
divides by the best hit among all candidates, and the label vote (pseudo-relevance feedback) reads the
top hits of all candidates. ``MatchEngine.rank`` therefore runs in three phases, each answered by every
shard of the catalogue (one shard when the engine is alone) and merged here:

1. ``statistics``: per query word, its document and collection frequency and its counts per label
   → ``merge_statistics``: the catalogue's idf and naive Bayes label distributions (``QueryGlobals``);
2. ``scan``: BM25 with those globals → the shard's best hit and its best ``prf_docs`` hits with labels
   → ``merge_scans``: the catalogue's best hit and label distributions (``QueryContext``);
3. ``score``: fused totals and top-k → ``merge_hits``: the catalogue's top-k (then calibrated);
4. reasons for the merged top-k only, each by the shard that holds the record (``MatchEngine.explain``).

Equal results need equal arithmetic, not only equal formulas: sums run over words in a fixed order (the
words sorted, ``LexicalIndex.query_terms``), labels keep the catalogue's numbering in every shard
(``LabelField.extend``), counts are integers (exact in floating point), and ties break on the record's
ordinal in the catalogue, which is its position in a single index.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from .config import MatchConfig
from .documents import Kind
from .labels import LabelRows, feedback, naive_bayes
from .lexical import QueryTerms, TermStats, idf
from .reasons import Reason


class QueryWords(NamedTuple):
    """A query's distinct words, sorted, with their counts (float32, as BM25 multiplies them) and where
    each first occurs in the query (reasons list words in the query's order); and the words of its title
    (reasons name the title words a record lacks), segmented once for every shard."""

    words: tuple[str, ...]
    counts: np.ndarray
    first: np.ndarray
    title: tuple[str, ...] = ()
    related: tuple[str, ...] = ()  # per word: the query term a thesaurus word stands for, "" for own words
    said: int = 0  # how many words the query says (its tokens, repeats included): 匹配度 reads it

    @classmethod
    def of(
        cls,
        tokens: Sequence[str],
        title: Sequence[str] = (),
        *,
        related: Mapping[str, str] | None = None,
        related_count: float = 0.0,
        extra: Mapping[str, float] | None = None,
    ) -> QueryWords:
        """``related``: thesaurus words (not among ``tokens``) → the query term each stands for; each
        counts ``related_count`` and comes after the query's own words. ``extra``: counts added to some of
        the query's own words (the words of a demand's need clause)."""
        own = set(tokens)
        related = {w: t for w, t in (related or {}).items() if w not in own}
        sequence = [*tokens, *related]
        # Python's str order is numpy's (code points): what np.unique returned, without building a
        # string array (np.unique was a tenth of the driver's time in batch matching, profiled).
        first: dict[str, int] = {}
        for i, word in enumerate(sequence):
            first.setdefault(word, i)
        tally = Counter(sequence)
        words = tuple(sorted(first))
        counts = np.array([tally[w] for w in words], np.float32)
        source = tuple(related.get(w, "") for w in words)  # related words are none of the query's own
        counts[[i for i, s in enumerate(source) if s]] = related_count
        if extra:
            position = {word: i for i, word in enumerate(words)}
            for word, count in extra.items():
                if word in own:
                    counts[position[word]] += count
        return cls(
            words, counts, np.array([first[w] for w in words], np.intp), tuple(title), source, len(tokens)
        )

    def own(self) -> np.ndarray:
        """Which words are the query's own (not thesaurus words)."""
        if not self.related:
            return np.ones(len(self.words), bool)
        return np.array([not s for s in self.related], bool)


class Corpus(NamedTuple):
    """Query-independent totals of a shard; the catalogue's are their sums (``Corpus.total``)."""

    n_alive: int
    total_len: float
    label_docs: dict[str, np.ndarray]
    label_len: dict[str, np.ndarray]

    @staticmethod
    def total(parts: Sequence[Corpus]) -> Corpus:
        first = parts[0]
        return Corpus(
            n_alive=sum(p.n_alive for p in parts),
            total_len=sum(p.total_len for p in parts),
            label_docs={n: sum(p.label_docs[n] for p in parts) for n in first.label_docs},
            label_len={n: sum(p.label_len[n] for p in parts) for n in first.label_len},
        )


class LabelCounts(NamedTuple):
    """The nonzero counts of a labels × query-words matrix (a shard sends them; a dense matrix is large and
    a scipy one costs more to build than the counts themselves), each cell as one index: label × the
    query's words + word (two contiguous arrays cross the wire; index pairs cost a third and a copy)."""

    cells: np.ndarray  # int32
    counts: np.ndarray  # float32

    @staticmethod
    def total(parts: Sequence[LabelCounts], shape: tuple[int, int]) -> np.ndarray:
        """The dense matrix of the sums of ``parts``: one bincount over every shard's cells (np.add.at was
        a tenth of the driver's time, profiled); the counts are integers, exact in any order."""
        cells = np.concatenate([p.cells for p in parts])
        counts = np.concatenate([p.counts for p in parts])
        size = shape[0] * shape[1]
        return np.bincount(cells, counts, minlength=size).reshape(shape).astype(np.float32)


class WordStats(NamedTuple):
    """Phase 1 of one shard: statistics of every query word (0 where the shard does not know it)."""

    df: np.ndarray
    cf: np.ndarray
    label_counts: dict[str, LabelCounts]
    vector: np.ndarray | None  # the query's stored dense vector, from the shard that indexed it


class QueryGlobals(NamedTuple):
    """The catalogue's view of a query: its known words, their statistics, predicted labels."""

    words: tuple[str, ...]
    counts: np.ndarray
    first: np.ndarray
    stats: TermStats
    avg_len: float
    own: float  # the query's own BM25 weight: count × idf over its words, unseen ones at a new word's idf
    n_alive: int  # live records of the catalogue
    bayes: dict[str, np.ndarray]
    vector: np.ndarray | None
    title: tuple[str, ...] = ()  # the query's title words (``QueryWords.title``)
    related: tuple[str, ...] = ()  # per known word, as ``QueryWords.related``

    def local(self, ids: np.ndarray) -> QueryTerms:
        """The query terms of one shard (``ids`` from ``LexicalIndex.word_ids``; -1 is skipped)."""
        return QueryTerms(ids, self.counts)


def merge_statistics(
    query: QueryWords, parts: Sequence[WordStats], corpus: Corpus, config: MatchConfig
) -> QueryGlobals:
    df = np.sum([p.df for p in parts], axis=0, dtype=np.float32)
    cf = np.sum([p.cf for p in parts], axis=0, dtype=np.float32)
    # Words no live record holds add nothing to any sum (a vocabulary keeps the words of deleted records).
    known_anywhere = np.flatnonzero(df > 0)
    words = tuple(query.words[i] for i in known_anywhere)
    counts, df, cf = query.counts[known_anywhere], df[known_anywhere], cf[known_anywhere]
    stats = TermStats(df, cf, idf(df, corpus.n_alive))
    bayes = {}
    for name, docs in corpus.label_docs.items():
        counts_lt = LabelCounts.total([p.label_counts[name] for p in parts], (docs.size, len(query.words)))
        bayes[name] = naive_bayes(
            counts_lt[:, known_anywhere],
            counts,
            cf=cf,
            label_docs=docs,
            label_len=corpus.label_len[name],
            total_len=corpus.total_len,
            mu=config.mu,
        )
    vector = next((p.vector for p in parts if p.vector is not None), None)
    # A query word no live record holds still weighs in the query's own weight (``unseen_weight`` of the
    # idf of a word in no record): when the catalogue lacks the demand's key word, no record carries it.
    # Thesaurus words add to a record's evidence, not to what the query asks for (its own weight).
    own_words = query.own()
    unseen = float(query.counts[own_words].sum() - counts[own_words[known_anywhere]].sum())
    no_record_idf = float(idf(np.zeros(1, np.float32), corpus.n_alive)[0])
    return QueryGlobals(
        words=words,
        counts=counts,
        first=query.first[known_anywhere],
        stats=stats,
        avg_len=corpus.total_len / corpus.n_alive if corpus.n_alive else 1.0,
        own=float((counts * stats.idf)[own_words[known_anywhere]].sum())
        + config.unseen_weight * unseen * no_record_idf,
        n_alive=corpus.n_alive,
        bayes=bayes,
        vector=vector,
        title=query.title,
        related=tuple(query.related[i] for i in known_anywhere) if query.related else (),
    )


class Scan(NamedTuple):
    """Phase 2 of one shard: what the merge needs (the rest stays in the shard)."""

    candidates: int  # candidate records in the shard
    best: float  # best BM25 among them (-inf if none)
    hits: int  # candidates with a BM25 above 0
    ordinals: np.ndarray  # the shard's feedback hits: all of them, or its best ``prf_docs``
    lexical: np.ndarray
    rows: dict[str, LabelRows]  # their label ids per label field
    held: frozenset[str] = frozenset()  # the query's specific title words some candidate here holds


class QueryContext(NamedTuple):
    """The catalogue's answer to phase 2: best BM25, the predicted label distributions, and which of the
    query's specific title words some candidate holds (the others no record it is matched with mentions)."""

    best: float
    dists: dict[str, np.ndarray]
    held: frozenset[str] = frozenset()


def merge_scans(parts: Sequence[Scan], query: QueryGlobals, config: MatchConfig) -> QueryContext:
    """The best hit of all candidates, and per label field nb_share × naive Bayes + the rest × the
    labels of the ``prf_docs`` best hits (by BM25, then ordinal; all hits in ordinal order if fewer)."""
    best = max(p.best for p in parts)
    ordinals = np.concatenate([p.ordinals for p in parts])
    lexical = np.concatenate([p.lexical for p in parts])
    if sum(p.hits for p in parts) > config.prf_docs:
        order = np.lexsort((ordinals, -lexical))[: config.prf_docs]
    else:
        order = np.argsort(ordinals, kind="stable")
    dists = {}
    for name, bayes in query.bayes.items():
        rows = LabelRows.concat([p.rows[name] for p in parts]).take(order)
        votes = feedback(rows, lexical[order], bayes.size)
        shares = [(config.nb_share, bayes), (1 - config.nb_share, votes)]
        shares = [(share, dist) for share, dist in shares if dist.any()]
        if shares:
            dists[name] = sum(share * dist for share, dist in shares) / sum(share for share, _ in shares)
    return QueryContext(best, dists, frozenset().union(*(p.held for p in parts)))


class Match(NamedTuple):
    """One ranked record: its score, the weighted signal contributions that make it up, and reasons."""

    kind: Kind
    id: str
    zone_code: str
    score: float
    reasons: list[Reason]
    signals: dict[str, float]


class Hits(NamedTuple):
    """Phase 3 of one shard: its top-k as arrays; ``merge_hits`` makes ``Match`` objects of the winners."""

    candidates: int  # candidates left after the evidence rule
    ordinals: np.ndarray
    totals: np.ndarray
    keys: list[str]  # "kind/id" of each
    zones: list[str]
    signals: tuple[str, ...]  # the names of the columns of ``values``
    values: np.ndarray  # top-k × signals: each signal's weighted contribution
    dense: bool

    def match(self, row: int) -> Match:
        kind, _, record_id = self.keys[row].partition("/")
        signals = dict(zip(self.signals, self.values[row].tolist(), strict=True))
        return Match(Kind(kind), record_id, self.zones[row], float("nan"), [], signals)


class Merged(NamedTuple):
    """The catalogue's top-k: matches, fused totals, ordinals, the shard each came from and its row in
    that shard's ``Hits``."""

    matches: list[Match]
    totals: np.ndarray
    ordinals: np.ndarray
    shards: np.ndarray
    rows: np.ndarray


def merge_hits(parts: Sequence[Hits], top_k: int) -> Merged:
    """The catalogue's top ``top_k``, by total, then ordinal."""
    k = min(top_k, sum(p.candidates for p in parts))
    ordinals = np.concatenate([p.ordinals for p in parts])
    totals = np.concatenate([p.totals for p in parts])
    shards = np.repeat(np.arange(len(parts)), [len(p.keys) for p in parts])
    rows = np.concatenate([np.arange(len(p.keys)) for p in parts]) if parts else np.empty(0, np.int64)
    order = np.lexsort((ordinals, -totals))[:k]
    winners = zip(shards[order].tolist(), rows[order].tolist(), strict=True)
    matches = [parts[shard].match(row) for shard, row in winners]
    return Merged(matches, totals[order], ordinals[order], shards[order], rows[order])
