"""The matching engine: one index over every kind of record, ranked by fused signals with reasons.

Batch matching is a thin loop over ``rank_many``; the store feeds ``build``/``upsert``/``remove``.
"""

from __future__ import annotations

import json
import math
import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from itertools import islice
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..text import WORK_WORDS, Analyzer, extract_keywords, need_clauses, readable_terms
from ..text.keywords import Readable
from ..text.thesaurus import Thesaurus, packaged_thesaurus
from . import reasons as why
from .config import MatchConfig, compress_top
from .documents import LABEL_FIELDS, Kind, MatchDoc
from .encoders import Encoder, unit_rows
from .filters import Filters
from .keys import KeyList, load_keys, positions_of, save_keys
from .labels import LabelField
from .lexical import LexicalIndex, QueryTerms, load_array
from .phases import (
    Corpus,
    Hits,
    LabelCounts,
    Match,
    QueryContext,
    QueryGlobals,
    QueryWords,
    Scan,
    WordStats,
    merge_hits,
    merge_scans,
    merge_statistics,
)
from .signals import SIGNALS

KINDS = list(Kind)
_CHUNK = 20_000  # documents analysed per batch while building: bounds memory at a million records
_SHOWN_TERMS = 5
_SHOWN_MISSING = 3
_SPECIFIC_DF_SHARE = 0.05
"""A demand-title word held by more than this share of records is too common to name as missing (方法)."""
_SHOWN_LABEL_SHARE = 0.05  # a predicted label is named only above this probability


class Scanned(NamedTuple):
    """A shard's phase 2 for one query: what it sends (``scan``) and what phase 3 reuses."""

    scan: Scan
    candidates: np.ndarray
    lexical: np.ndarray
    terms: QueryTerms


class _Rows(Mapping[str, np.ndarray]):
    """The engine's columns read at some positions only, each when a signal first asks for it."""

    def __init__(self, columns: Mapping[str, np.ndarray], positions: np.ndarray) -> None:
        self._columns, self._positions = columns, positions

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name][self._positions]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


_worker_analyzer: Analyzer | None = None


def _related_or_own(words: Sequence[str], related: Sequence[str], hits: Iterable[bool]) -> list[str]:
    """The words a record (or any candidate) holds, as a title word is looked for: a thesaurus word as
    the term it stands for, single characters left out (they are part of too many words)."""
    return [
        term or word for word, term, hit in zip(words, related, hits, strict=True) if hit and len(word) >= 2
    ]


def _covered(title_words: Iterable[str], held: Sequence[str]) -> list[str]:
    """The title words a held word covers: one that contains it or is part of it (永磁 beside 永磁体), also
    through a related word (SiC covers 功率半导体, and with it 功率 and 半导体)."""
    return [w for w in title_words if any(h in w or w in h for h in held)]


def _init_worker(analyzer: Analyzer) -> None:
    global _worker_analyzer
    _worker_analyzer = analyzer


def _analyse_with(analyzer: Analyzer, title_body: tuple[str, str]) -> tuple[list[str], list[str]]:
    """Tokens of the whole document and of its title (the title is segmented once, not twice)."""
    title = analyzer.tokenize(title_body[0])
    return title + analyzer.tokenize(title_body[1]), title


def _analyse(title_body: tuple[str, str]) -> tuple[list[str], list[str]]:
    assert _worker_analyzer is not None, "worker started without an analyzer"
    return _analyse_with(_worker_analyzer, title_body)


def _chunks(items: Iterable[MatchDoc], size: int) -> Iterator[list[MatchDoc]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _columns(docs: Sequence[MatchDoc], zones: dict[str, int]) -> dict[str, np.ndarray]:
    """Per-position scalar fields as compact arrays (a million records stay a few tens of MB)."""
    nan = float("nan")
    return {
        "kind": np.array([KINDS.index(d.kind) for d in docs], np.int8),
        "zone": np.array([zones.setdefault(d.zone_code, len(zones)) for d in docs], np.int32),
        "shared": np.array([d.is_shared for d in docs], bool),
        "trl": np.array([d.trl or 0 for d in docs], np.int8),
        "price": np.array([nan if d.price is None else d.price for d in docs], np.float32),
        "date": np.array([d.date.toordinal() if d.date else 0 for d in docs], np.int32),
        "available": np.array([d.is_available for d in docs], bool),
        "capacity": np.array([nan if d.capacity is None else d.capacity for d in docs], np.float32),
    }


class MatchEngine:
    """Index of matchable records with exact incremental updates, fused ranking and reasons.

    >>> engine = MatchEngine.build(docs)                                    # doctest: +SKIP
    >>> engine.rank(demand_doc, target_kind=Kind.ACHIEVEMENT, top_k=10)     # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        config: MatchConfig | None = None,
        analyzer: Analyzer | None = None,
        encoder: Encoder | None = None,
        thesaurus: Thesaurus | None = None,
    ) -> None:
        self.config = config or MatchConfig()
        self.analyzer = analyzer or Analyzer()
        self.encoder = encoder
        self.lexical = LexicalIndex(k1=self.config.k1, b=self.config.b)
        self.fields = {name: LabelField(name) for name in LABEL_FIELDS}
        self.zones: dict[str, int] = {}
        self.keys: list[str] | KeyList = []
        self.positions: MutableMapping[str, int] = {}
        self.columns = _columns([], self.zones)
        self.dense = np.zeros((0, 0), np.float32)
        self.thesaurus = thesaurus if thesaurus is not None else packaged_thesaurus()
        # Zone code → the thesaurus that zone's demands expand with (``thesaurus`` extended by the zone's
        # own rows), set by the caller before ranking; other queries use ``thesaurus``. Query-side only.
        self.zone_thesauri: Mapping[str, Thesaurus] = {}
        self._one_word: dict[str, bool] = {}

    # -- building and updating ----------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        docs: Iterable[MatchDoc],
        *,
        config: MatchConfig | None = None,
        analyzer: Analyzer | None = None,
        encoder: Encoder | None = None,
        thesaurus: Thesaurus | None = None,
        workers: int = 1,
    ) -> MatchEngine:
        """Index ``docs`` (any iterable, consumed in chunks); ``workers`` > 1 segments text in processes."""
        engine = cls(config=config, analyzer=analyzer, encoder=encoder, thesaurus=thesaurus)
        engine.upsert(docs, workers=workers)
        engine.compact()
        return engine

    def __len__(self) -> int:
        return len(self.positions)

    def use_config(self, config: MatchConfig) -> None:
        """Rank with another configuration from now on; every parameter is read at query time."""
        self.config = config
        self.lexical.k1, self.lexical.b = config.k1, config.b

    def upsert(
        self, docs: Iterable[MatchDoc], *, workers: int = 1, progress: Callable[[int], None] | None = None
    ) -> None:
        """Add new records and replace changed ones (same kind and id) without rebuilding.

        ``progress`` is called with the number of documents indexed so far after each chunk.
        """
        pool = multiprocessing.Pool(workers, _init_worker, (self.analyzer,)) if workers > 1 else None
        indexed = 0
        try:
            for chunk, analysed in self._analysed_chunks(docs, pool):
                self.remove(d.key for d in chunk if d.key in self.positions)
                self._append(chunk, analysed)
                indexed += len(chunk)
                if progress is not None:
                    progress(indexed)
        finally:
            if pool is not None:
                pool.close()
                pool.join()
        if self.lexical.needs_merge():
            self.lexical.merge_tail()  # deleted positions are dropped by compact(), e.g. when saving

    def _analysed_chunks(
        self, docs: Iterable[MatchDoc], pool: Pool | None
    ) -> Iterator[tuple[list[MatchDoc], list]]:
        """Chunks of unique documents with their tokens; with a pool, the next chunk is segmented in the
        workers while this process indexes the current one, so neither side waits for the other."""
        pending: tuple[list[MatchDoc], AsyncResult] | None = None
        for chunk in _chunks(docs, _CHUNK):
            chunk = list({d.key: d for d in chunk}.values())
            pairs = [(d.title, d.body()) for d in chunk]
            if pool is None:
                yield chunk, [_analyse_with(self.analyzer, p) for p in pairs]
                continue
            job = pool.map_async(_analyse, pairs, chunksize=256)
            if pending is not None:
                yield pending[0], pending[1].get()
            pending = (chunk, job)
        if pending is not None:
            yield pending[0], pending[1].get()

    def _append(self, docs: list[MatchDoc], analysed: list[tuple[list[str], list[str]]]) -> None:
        tf = self.lexical.add([a[0] for a in analysed], [a[1] for a in analysed])
        for name, field in self.fields.items():
            field.add([d.labels.get(name, []) for d in docs], tf)
        new = _columns(docs, self.zones)
        self.columns = {name: np.concatenate([self.columns[name], new[name]]) for name in new}
        start = len(self.keys)
        for offset, doc in enumerate(docs):
            self.keys.append(doc.key)
            self.positions[doc.key] = start + offset
        if self.encoder is not None:
            vectors = unit_rows(self.encoder.encode([d.analysed_text() for d in docs]))
            self.dense = vectors if self.dense.size == 0 else np.vstack([self.dense, vectors])

    def remove(self, keys: Iterable[str]) -> None:
        """Delete records by ``MatchDoc.key`` (``kind/id``); unknown keys are ignored."""
        positions = np.array([self.positions.pop(k) for k in keys if k in self.positions], np.int64)
        if positions.size == 0:
            return
        tf = self.lexical.remove(positions)
        for field in self.fields.values():
            field.remove(positions, tf)

    def compact(self) -> None:
        """Merge index segments and drop deleted positions (renumbers positions)."""
        keep = self.lexical.compact()
        for field in self.fields.values():
            field.compact(keep)
        self.columns = {name: values[keep] for name, values in self.columns.items()}
        self.keys = [self.keys[i] for i in keep]
        self.positions = positions_of(self.keys)
        if self.dense.size:
            self.dense = self.dense[keep]

    # -- ranking ------------------------------------------------------------------------------------
    def rank(
        self,
        query: MatchDoc,
        *,
        target_kind: Kind,
        top_k: int = 10,
        filters: Filters | None = None,
        explain: bool = True,
        include_weak: bool = False,
    ) -> list[Match]:
        """The ``top_k`` records of ``target_kind`` for ``query``, best first, with reasons if ``explain``.

        ``Match.score`` is the calibrated probability that a reader judges the record relevant (匹配度 is
        100 × score). Records with no specific evidence (no shared term and no semantic similarity), and
        a demand's matches below ``config.min_match``, are left out unless ``include_weak``: an honest list
        may be short or empty.
        """
        filters = filters or Filters()
        words = self.query_words(query)
        corpus = self.corpus()
        globals_ = merge_statistics(words, [self.statistics(query, words)], corpus, self.config)
        scanned = self.scan(query, globals_, target_kind=target_kind, filters=filters)
        if not scanned.scan.candidates:
            return []
        context = merge_scans([scanned.scan], globals_, self.config)
        hits = self.score(query, globals_, context, scanned, top_k=top_k, include_weak=include_weak)
        merged = merge_hits([hits], top_k)
        matches = merged.matches
        if explain:
            matches = self.explain(query, globals_, context, matches, merged.ordinals)
        return self.finish(
            matches,
            merged.totals,
            source_kind=query.kind,
            dense=hits.dense,
            words_said=words.said,
            include_weak=include_weak,
        )

    def query_words(self, query: MatchDoc) -> QueryWords:
        """The query's words (and a demand's title words, which reasons need), segmented once, with the
        thesaurus words related to its terms when ``expansion_weight`` is set."""
        text = query.analysed_text()
        title: list[str] = []
        if query.kind == Kind.DEMAND:
            # The title and the body are segmented apart, as records are (``_analyse_with``): a space
            # separates them in ``text``, and the segmenter never joins words across one, so the tokens
            # are the same and the title is not segmented twice (a sixth of a query's words, profiled).
            title = self.analyzer.tokenize(query.title)
            tokens = title + self.analyzer.tokenize(query.body())
        else:
            tokens = self.analyzer.tokenize(text)
        related: dict[str, str] = {}
        if self.config.expansion_weight > 0:
            for term, words in self.thesaurus_for(query).related(text).items():
                related.update((w, term) for w in words if w not in related and self._is_one_word(w))
        need: Counter[str] = Counter()
        if query.kind == Kind.DEMAND and self.config.need_weight > 0:
            for clause in need_clauses(query.title, query.text):
                need.update(self.analyzer.tokenize(clause))
        return QueryWords.of(
            tokens,
            title,
            related=related,
            related_count=self.config.expansion_weight,
            extra={word: self.config.need_weight * count for word, count in need.items()},
        )

    def thesaurus_for(self, query: MatchDoc) -> Thesaurus:
        """The thesaurus ``query`` expands with: a demand's zone's own, if it has one (a zone's words are
        for what its enterprises ask; other records expand with the shared thesaurus)."""
        if query.kind != Kind.DEMAND:
            return self.thesaurus
        return self.zone_thesauri.get(query.zone_code, self.thesaurus)

    def _is_one_word(self, word: str) -> bool:
        """Whether the index holds ``word`` as one term: a related word it splits ("功率器件" → 功率, 器件)
        would add generic fragments instead of the word."""
        known = self._one_word.get(word)
        if known is None:
            known = self._one_word[word] = word in self.analyzer.tokenize(word)
        return known

    # The phases of ``rank`` (match/phases.py): a shard of a catalogue answers each with the catalogue's
    # statistics, and ``ordinals`` (its records' places in the catalogue) break ties as one index would.
    def corpus(self) -> Corpus:
        """Totals the catalogue sums over its shards: live records, tokens, label models' sizes."""
        fields = self._weighted_fields()
        return Corpus(
            n_alive=self.lexical.n_alive,
            total_len=self.lexical.total_len,
            label_docs={name: field.label_docs for name, field in fields},
            label_len={name: field.label_len for name, field in fields},
        )

    def _weighted_fields(self) -> list[tuple[str, LabelField]]:
        weights = self.config.weights
        return [(name, f) for name, f in self.fields.items() if weights.get(name) and f.n_labels]

    def statistics(self, query: MatchDoc, words: QueryWords) -> WordStats:
        """Phase 1: the live statistics of the query's words here, and the query's stored vector."""
        ids = self.lexical.word_ids(words.words)
        df, cf = self.lexical.term_counts(ids)
        known = np.flatnonzero(ids >= 0)
        label_counts = {}
        for name, field in self._weighted_fields():
            # The nonzero counts of the known words, placed at their columns among all the query's words.
            counts = field.term_columns(ids[known])
            cells = np.flatnonzero(counts)
            rows, cols = np.divmod(cells, max(known.size, 1))
            label_counts[name] = LabelCounts(
                (rows * ids.size + known[cols]).astype(np.int32), counts.ravel()[cells]
            )
        own = self.positions.get(query.key)
        vector = self.dense[own] if own is not None and self.dense.size else None
        return WordStats(df, cf, label_counts, vector)

    def scan(
        self,
        query: MatchDoc,
        globals_: QueryGlobals,
        *,
        target_kind: Kind,
        filters: Filters,
        ordinals: np.ndarray | None = None,
    ) -> Scanned:
        """Phase 2: BM25 with the catalogue's statistics over the candidates, and the feedback hits."""
        candidates = self._candidates(query, target_kind=target_kind, filters=filters)
        terms = globals_.local(self.lexical.word_ids(globals_.words))
        lexical = self.lexical.bm25(terms, globals_.stats.idf, avg_len=globals_.avg_len)
        count = int(candidates.sum())
        feedback_pos = np.flatnonzero(candidates & (lexical > 0))
        hits = int(feedback_pos.size)
        if hits > self.config.prf_docs:
            feedback_pos = feedback_pos[self._best(lexical[feedback_pos], self.config.prf_docs)]
        scan = Scan(
            candidates=count,
            best=float(lexical[candidates].max()) if count else -np.inf,
            hits=hits,
            ordinals=feedback_pos if ordinals is None else ordinals[feedback_pos],
            lexical=lexical[feedback_pos],
            rows={name: field.rows(feedback_pos) for name, field in self._weighted_fields()},
            held=self._held_title_words(globals_, terms.ids, candidates),
        )
        return Scanned(scan, candidates, lexical, terms)

    @staticmethod
    def _specific_title_words(globals_: QueryGlobals) -> list[str]:
        """The demand's title words a reader would miss in a record, rarest first: readable words held by
        at most 5 % of records, not a word for the kind of work (升级, 工艺)."""
        df = dict(zip(globals_.words, globals_.stats.df.tolist(), strict=True))
        specific = max(1.0, _SPECIFIC_DF_SHARE * globals_.n_alive)
        words = [
            w for w in readable_terms(globals_.title) if df.get(w, 0) <= specific and w not in WORK_WORDS
        ]
        return sorted(words, key=lambda w: df.get(w, 0))

    def _held_title_words(
        self, globals_: QueryGlobals, ids: np.ndarray, candidates: np.ndarray
    ) -> frozenset[str]:
        """The specific title words that some candidate holds, itself or through a related word (失磁 for
        退磁). Their postings are short (at most 5 % of records), so this costs little per query."""
        title = self._specific_title_words(globals_)
        if not title:
            return frozenset()
        related = globals_.related or ("",) * len(globals_.words)
        # Only the words that could cover a title word are looked up (not 方法 and its long postings).
        useful = [
            (i, term or word)
            for i, (word, term) in enumerate(zip(globals_.words, related, strict=True))
            if len(word) >= 2 and _covered(title, [term or word])
        ]
        hits = self.lexical.held(ids[[i for i, _ in useful]], candidates)
        return frozenset(_covered(title, [name for (_, name), hit in zip(useful, hits, strict=True) if hit]))

    def score(
        self,
        query: MatchDoc,
        globals_: QueryGlobals,
        context: QueryContext,
        scanned: Scanned,
        *,
        top_k: int,
        include_weak: bool,
        ordinals: np.ndarray | None = None,
    ) -> Hits:
        """Phase 3: fused totals with the catalogue's best hit and label distributions; the top ``top_k``
        here (``Match.score`` is set by ``finish`` once the shards are merged, reasons by ``explain``)."""
        candidates, lexical = scanned.candidates, scanned.lexical
        weights = self.config.weights
        dense = None
        if self.encoder is not None and self.dense.size and weights.get("dense"):
            dense = self._dense_signal(query, globals_.vector)
        # Everything below runs over the records that can be shown (``pool``), not the whole catalogue:
        # at a million records, whole-catalogue arrays were most of a query's time (profiled).
        if not include_weak:  # the evidence rule: a shared word or semantic similarity
            evidence = lexical > 0
            candidates = candidates & (evidence if dense is None else evidence | (dense > 0))
        pool = np.flatnonzero(candidates)
        parts: dict[str, np.ndarray] = {
            "lexical": self._lexical_signal(lexical[pool], context.best, globals_.own)
        }
        if dense is not None:
            parts["dense"] = dense[pool]
        dists = self._label_distributions(query, context)
        for name, dist in dists.items():
            parts[name] = self.fields[name].signal(dist)[pool]
        zone_id = self.zones.get(query.zone_code, -1) if query.zone_code else -1
        columns = _Rows(self.columns, pool)
        for name, signal in SIGNALS.items():
            if weights.get(name):
                parts[name] = signal(columns, query, zone_id)
        total = sum(weights.get(name, 0.0) * values for name, values in parts.items())
        best = self._best(total, min(top_k, pool.size))
        top = pool[best]
        # Arrays, not ``Match`` objects: a shard's top-k crosses the wire and most of it loses the merge, so
        # ``merge_hits`` builds objects for the catalogue's top-k only (pickling objects was a fixed cost
        # per query and shard, on both sides, profiled).
        zone_names = self.zone_names()
        names = tuple(parts)
        values = np.zeros((top.size, len(names)), np.float32)
        for column, name in enumerate(names):
            values[:, column] = weights.get(name, 0.0) * parts[name][best]
        return Hits(
            candidates=int(pool.size),
            ordinals=top if ordinals is None else ordinals[top],
            totals=np.asarray(total[best]),
            keys=[self.keys[pos] for pos in top.tolist()],
            zones=[zone_names[zone] for zone in self.columns["zone"][top].tolist()],
            signals=names,
            values=values,
            dense="dense" in parts,
        )

    def explain(
        self,
        query: MatchDoc,
        globals_: QueryGlobals,
        context: QueryContext,
        matches: list[Match],
        positions: np.ndarray,
    ) -> list[Match]:
        """Phase 4: reasons for some of this index's matches (on a shard, those in the merged top-k)."""
        terms = globals_.local(self.lexical.word_ids(globals_.words))
        dists = self._label_distributions(query, context)
        return self._explain(
            query, matches, top=positions, terms=terms, globals_=globals_, dists=dists, somewhere=context.held
        )

    def finish(
        self,
        matches: list[Match],
        totals: np.ndarray,
        *,
        source_kind: Kind,
        dense: bool,
        words_said: int,
        include_weak: bool,
    ) -> list[Match]:
        """Scores of the merged top-k: calibrated, and the weak ones dropped unless ``include_weak``."""
        probability = self.calibrated(totals, dense=dense, words_said=words_said)
        # The calibration was fitted on demand → achievement pairs. A demand's other kinds of match are
        # scored by the same signals on the same scale, and experts at 匹配度 1 are filler, so the threshold
        # holds for every match of a demand. The reverse direction (a patent's or an expert's demands) has
        # no graded pairs and keeps only the evidence rule.
        if not include_weak and source_kind == Kind.DEMAND:
            keep = probability >= self.config.min_match
            matches = [m for m, kept in zip(matches, keep, strict=True) if kept]
            probability = probability[keep]
        return [m._replace(score=round(float(p), 4)) for m, p in zip(matches, probability, strict=True)]

    def calibrated(self, fused: np.ndarray, *, dense: bool, words_said: float) -> np.ndarray:
        """P(relevant) from the fused score: a logistic fitted on graded demands. With and without an
        encoder the scores spread differently, hence two fits.

        Its slope and intercept depend on how many words the query says (``QueryWords.said``): the best
        record of a demand of a few words carries most of them, and a fused score of 1.0 was judged
        relevant far less often for a demand's title alone than for the whole demand (docs/matching.md).
        A list's query says the same for each of its records, so the probability keeps the list's order.
        Above ``config.TOP_BAND`` it is compressed onto what the few graded results there support
        (``calibration_top``), still keeping the order.
        """
        a0, a1, b0, b1 = self.config.calibration_dense if dense else self.config.calibration_lexical
        low, high = self.config.calibration_span
        size = math.log(min(max(words_said, low), high))
        fitted = 1.0 / (1.0 + np.exp(-((a0 + a1 * size) * np.asarray(fused, np.float64) + b0 + b1 * size)))
        return compress_top(fitted, self.config.calibration_top[0 if dense else 1])

    @staticmethod
    def _lexical_signal(lexical: np.ndarray, best: float, own: float) -> np.ndarray:
        """BM25 scaled by sqrt(best hit x the query's own weight), so the best record scores the square
        root of the share of the query's evidence it carries.

        Scaling by the best hit alone gives every list a perfect top even when it shares one common word;
        scaling by the query's weight alone (sum of idf) makes long demands look weak next to the field
        prior. The geometric mean keeps the order of BM25 and was best on the graded demands
        (docs/matching.md). ``best`` is over all candidates; ``own`` counts the words some live record
        holds, and those no live record holds at the idf of a word in no record (``merge_statistics``).
        """
        if best <= 0 or own <= 0:
            return np.zeros_like(lexical)
        return np.minimum(lexical / np.sqrt(best * own), 1.0)

    def _dense_signal(self, query: MatchDoc, vector: np.ndarray | None) -> np.ndarray:
        """(cosine - floor) / (1 - floor), clipped at 0. An indexed query (batch matching) reuses its stored
        vector (``vector``, from whichever shard holds it): encoding is the slow part, and the stored vector
        is the same text's."""
        assert self.encoder is not None
        if vector is None:
            vector = unit_rows(self.encoder.encode([query.analysed_text()]))[0]
        floor = self.config.dense_floor
        return np.clip((self.dense @ vector - floor) / (1.0 - floor), 0.0, None)

    def rank_many(
        self,
        queries: Iterable[MatchDoc],
        *,
        target_kind: Kind,
        top_k: int = 10,
        filters: Filters | None = None,
        explain: bool = True,
        include_weak: bool = False,
    ) -> Iterator[list[Match]]:
        """``rank`` for each query in turn (lazily, so callers can stream results and show progress)."""
        for query in queries:
            yield self.rank(
                query,
                target_kind=target_kind,
                top_k=top_k,
                filters=filters,
                explain=explain,
                include_weak=include_weak,
            )

    @staticmethod
    def _best(values: np.ndarray, k: int) -> np.ndarray:
        """Indices of the ``k`` largest ``values``, best first; equal values in index order, also at the
        k-th place (a partition alone picks any of the values tied there, and shards must pick the same).
        ``values`` run over positions in ascending order, so index order is position order."""
        if k <= 0:
            return np.empty(0, np.int64)
        if k < values.size:
            if values.size > 64 * k:
                # The k-th best of a strided sample is at most the k-th best of all: one comparison pass
                # leaves a few hundred values to partition (8x faster than partitioning 150,000).
                sample = values[:: values.size // (32 * k)]
                part = np.flatnonzero(values >= -np.partition(-sample, k - 1)[k - 1])
            else:
                part = np.arange(values.size)
            kth = -np.partition(-values[part], k - 1)[k - 1]
            part = part[values[part] >= kth]
        else:
            part = np.arange(values.size)
        return part[np.lexsort((part, -values[part]))][:k]

    def _candidates(self, query: MatchDoc, *, target_kind: Kind, filters: Filters) -> np.ndarray:
        chain_hits = None
        if filters.chains:
            chain = self.fields["chain"]
            ids = [chain.index[c] for c in filters.chains if c in chain.index]
            chain_hits = np.asarray(chain.doc_labels[:, ids].sum(axis=1)).ravel() > 0
        mask = self.lexical.alive & (self.columns["kind"] == KINDS.index(target_kind))
        mask &= filters.mask(
            self.columns, zone_id=self.zones.get(filters.zone or "", -1), chain_ids=chain_hits
        )
        own = self.positions.get(query.key)
        if own is not None:
            mask[own] = False
        return mask

    def _label_distributions(self, query: MatchDoc, context: QueryContext) -> dict[str, np.ndarray]:
        """Per label field: the query's own labels if it has any, else the catalogue's prediction."""
        dists = {}
        for name, field in self._weighted_fields():
            if query.labels.get(name):
                dists[name] = field.explicit(query.labels[name])
            elif name in context.dists:
                dists[name] = context.dists[name]
        return dists

    # -- reasons ------------------------------------------------------------------------------------
    def _explain(
        self,
        query: MatchDoc,
        matches: list[Match],
        *,
        top: np.ndarray,
        terms: QueryTerms,
        globals_: QueryGlobals,
        dists: dict[str, np.ndarray],
        somewhere: frozenset[str],
    ) -> list[Match]:
        """Reasons a reader can check: the words both texts contain, the semantic similarity, and a field
        or product reason only where it carried a real share of the score. ``somewhere``: the specific
        title words some candidate holds (``QueryContext.held``)."""
        # Words in the order the query says them: equally weighted words are shown as the reader wrote them.
        said = np.argsort(globals_.first, kind="stable")
        vocab_terms = [globals_.words[i] for i in said]
        # Thesaurus words (after the query's own words, as they were added) are named with their term.
        source = [globals_.related[i] if globals_.related else "" for i in said]
        own = np.array([not s for s in source], bool)
        readable = Readable(vocab_terms)
        idf = dict(zip(globals_.words, globals_.stats.idf.tolist(), strict=True)).__getitem__
        in_text = self.lexical.contains(top, terms.ids[said])
        # A title's words are in the text too: look in titles only for words some of these records hold.
        in_title = np.zeros_like(in_text)
        held = np.flatnonzero(in_text.any(axis=0))
        in_title[:, held] = self.lexical.contains(top, terms.ids[said][held], title=True)
        zone_names = self.zone_names()
        title_words = self._specific_title_words(globals_)
        absent = [w for w in title_words if w not in somewhere]  # no candidate mentions them
        thesaurus = self.thesaurus_for(query)
        explained = []
        for row, (pos, match) in enumerate(zip(top, matches, strict=True)):
            total = sum(v for v in match.signals.values() if v > 0) or 1.0
            share = {name: value / total for name, value in match.signals.items()}
            found: list[why.Reason] = []
            title_terms = readable.of((in_title[row] & own).tolist())
            body_terms = [
                t
                for t in readable.of((in_text[row] & own).tolist())
                if t not in title_terms and not any(t in longer for longer in title_terms)
            ]
            for shown, in_title_field in ((title_terms, True), (body_terms, False)):
                if shown:
                    chosen = extract_keywords(shown, idf=idf, top_k=_SHOWN_TERMS)
                    found.append(why.matched_terms(chosen, in_title=in_title_field))
            related = [
                (thesaurus.shown(t), term)
                for t, hit, term in zip(vocab_terms, in_text[row], source, strict=True)
                if hit and term
            ]
            if related:
                found.append(why.related_terms(related[:_SHOWN_TERMS]))
            dense = match.signals.get("dense", 0.0)
            if dense > 0 and (share["dense"] >= self.config.min_reason_share or not found):
                found.append(why.dense(self._cosine(dense)))
            covered = _covered(title_words, _related_or_own(vocab_terms, source, in_text[row].tolist()))
            missing = [w for w in title_words if w not in covered]
            if found and missing:
                found.append(why.missing_terms(missing[:_SHOWN_MISSING]))
                if absent:
                    found.append(why.absent_terms(absent[:_SHOWN_MISSING]))
            if found:  # a field or product reason never stands alone
                found.extend(self._label_reasons(query, pos=int(pos), dists=dists, share=share))
                found.extend(
                    self._record_reasons(query, pos=int(pos), kind=match.kind, zone_names=zone_names)
                )
            explained.append(match._replace(reasons=found))
        return explained

    def _cosine(self, dense_contribution: float) -> float:
        """The cosine behind a weighted dense contribution (for the reason text)."""
        floor = self.config.dense_floor
        return floor + dense_contribution / self.config.weights["dense"] * (1.0 - floor)

    def zone_names(self) -> list[str]:
        return sorted(self.zones, key=self.zones.__getitem__)

    def _label_reasons(
        self, query: MatchDoc, *, pos: int, dists: dict[str, np.ndarray], share: dict[str, float]
    ) -> list[why.Reason]:
        found = []
        for name, dist in dists.items():
            if share.get(name, 0.0) < self.config.min_reason_share:
                continue  # the field did not move this record: saying so would mislead
            field = self.fields[name]
            shown = [i for i in field.labels_of(pos) if dist[i] >= _SHOWN_LABEL_SHARE]
            own = [(field.labels[i], float(dist[i])) for i in shown]
            if not own:
                continue
            own.sort(key=lambda item: -item[1])
            if query.labels.get(name):
                found.append(why.shared_labels(name, [label for label, _ in own]))
            else:
                found.append(why.predicted_labels(name, own))
        return found

    def _record_reasons(
        self, query: MatchDoc, *, pos: int, kind: Kind, zone_names: list[str]
    ) -> list[why.Reason]:
        cols, weights = self.columns, self.config.weights
        found = []
        if query.zone_code:
            same = zone_names[cols["zone"][pos]] == query.zone_code
            found.append(why.zone(same=same, zone_code=zone_names[cols["zone"][pos]]))
        if cols["trl"][pos] and weights.get("maturity"):
            found.append(why.maturity(int(cols["trl"][pos])))
        price = cols["price"][pos]
        if query.kind == Kind.DEMAND and query.price is not None and price <= query.price:
            found.append(why.within_budget(float(price), query.price))
        if kind in (Kind.INSTRUMENT, Kind.EXPERT) and cols["available"][pos] and weights.get("availability"):
            found.append(why.availability(kind))
        if kind == Kind.EXPERT and not np.isnan(cols["capacity"][pos]) and weights.get("capacity"):
            found.append(why.capacity(float(cols["capacity"][pos])))
        return found

    # -- persistence --------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the index as .npy arrays and JSON (no pickle); compacts first."""
        self.compact()
        path.mkdir(parents=True, exist_ok=True)
        self.lexical.save(path / "lexical")
        for name, field in self.fields.items():
            field.save(path / "labels" / name)
        (path / "columns").mkdir(exist_ok=True)
        for name, values in self.columns.items():
            np.save(path / "columns" / f"{name}.npy", values, allow_pickle=False)
        if self.dense.size:
            np.save(path / "dense.npy", self.dense, allow_pickle=False)
        save_keys(path, list(self.keys))
        meta = {
            "zones": self.zone_names(),
            "config": self.config.to_json(),
            "analyzer": {
                "terms": list(self.analyzer.terms),
                "stopwords": sorted(self.analyzer.stopwords),
                "search_mode": self.analyzer.search_mode,
                "hmm": self.analyzer.hmm,
            },
        }
        (path / "engine.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, *, encoder: Encoder | None = None, mmap: bool = False) -> MatchEngine:
        """The saved index; ``mmap`` maps its arrays read-only instead of reading them into memory, so
        the processes serving one snapshot (web workers) share them in the page cache.

        Updates after loading go to new memory and leave the mapped arrays as they are: new lexical
        segments, new label counts, new columns (``upsert``, ``remove`` and ``compact`` never write in
        place into a loaded array).
        """
        meta = json.loads((path / "engine.json").read_text(encoding="utf-8"))
        engine = cls(
            config=MatchConfig.from_json(meta["config"]),
            analyzer=Analyzer(**meta["analyzer"]),
            encoder=encoder,
        )
        engine.lexical = LexicalIndex.load(path / "lexical", mmap=mmap)
        engine.fields = {
            name: LabelField.load(path / "labels" / name, name, mmap=mmap) for name in LABEL_FIELDS
        }
        engine.columns = {
            name: load_array(path / "columns" / f"{name}.npy", mmap=mmap) for name in engine.columns
        }
        engine.zones = {zone: i for i, zone in enumerate(meta["zones"])}
        if "keys" in meta:  # written before the keys were arrays
            engine.keys, engine.positions = list(meta["keys"]), positions_of(meta["keys"])
        else:
            engine.keys, engine.positions = load_keys(path, mmap=mmap)
        if (path / "dense.npy").exists():
            engine.dense = load_array(path / "dense.npy", mmap=mmap)
        return engine
