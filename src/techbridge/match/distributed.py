"""Batch matching over a catalogue split into shards held by Ray actors, ranking exactly as one index.

The driver streams the catalogue's records in their order, in chunks, to the shards in turn; each shard
analyses and indexes its own records (in parallel), numbered by their ordinal in the catalogue, with the
catalogue's label numbering. A batch of queries then goes through the three phases of
``MatchEngine.rank`` (match/phases.py): every shard answers each phase for the whole batch in one call,
and the driver merges the answers into the catalogue's statistics, best hits and top-k. The merged lists
equal those of one ``MatchEngine`` built from the same records in the same order: same records, scores,
signals and reasons (tests/match/test_distributed.py).

A shard that dies is restarted by Ray (it rebuilds itself from the chunks, which the driver keeps in the
object store) and the call is retried: each call is a pure function of its arguments, so a retried call
answers as the first would have. Ray is imported only here, and only when a cluster is used.
"""

from __future__ import annotations

import gc
import math
import os
import pickle
import resource
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count, islice
from typing import Any, NamedTuple

import numpy as np

from ..text import Analyzer
from ..text.thesaurus import Thesaurus
from .config import MatchConfig
from .documents import LABEL_FIELDS, Kind, MatchDoc
from .encoders import Encoder
from .engine import KINDS, MatchEngine, Scanned
from .filters import Filters
from .phases import (
    Corpus,
    Hits,
    Match,
    Merged,
    QueryContext,
    QueryGlobals,
    QueryWords,
    merge_hits,
    merge_scans,
    merge_statistics,
)
from .reasons import Reason

NAMESPACE = "techbridge"
CHUNK = 2_000
"""Records per chunk the driver sends; shards take chunks in turn, so they stay within a chunk in size."""
_KEPT_BATCHES = 4
"""Batches whose queries and globals a shard keeps between phases (two are in flight at a time)."""
CALL_BATCH = 32
"""Queries per call to a shard: amortises Ray's overhead; a shard keeps each query's BM25 array between
two phases, so this bounds that memory (32 × 5 bytes × the shard's records)."""


class Query(NamedTuple):
    """One ranking of a batch: the source record, the kind it is matched against, its filters."""

    doc: MatchDoc
    target_kind: Kind
    filters: Filters


@dataclass(frozen=True)
class Cluster:
    """Where batch matching runs: ``address`` "auto" starts a local Ray cluster for the run, anything
    else (``ray://host:10001``, ``host:6379``) joins a running one; ``shards`` actors hold the index.
    ``resources`` optionally pins shard i to nodes offering the custom resources ``resources[i]``."""

    address: str = "auto"
    shards: int = 2
    cpus_per_shard: float = 1.0
    resources: tuple[Mapping[str, float], ...] = ()


@contextmanager
def connected(cluster: Cluster) -> Iterator[None]:
    """Connect to (or start) the cluster unless this process already is; disconnect if it connected."""
    import ray

    if ray.is_initialized():
        yield
        return
    # Ray's coming default: a CPU-only actor leaves CUDA_VISIBLE_DEVICES alone. Shards use no accelerator,
    # so it changes nothing here, and choosing it now ends Ray's FutureWarning on every run.
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    if cluster.address == "auto":
        cpus = max(os.cpu_count() or 1, math.ceil(cluster.shards * cluster.cpus_per_shard))
        ray.init(  # "local": a new cluster even where ``ray start`` left one running or its address behind
            address="local", num_cpus=cpus, namespace=NAMESPACE, include_dashboard=False, log_to_driver=False
        )
    else:
        ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while the driver ranks: ranking makes no reference cycles
    (a profiled run of 3,000 demands collected none), yet each full collection walked every object of
    the process, the growing results included (profiled: a sixth of the driver's CPU). Reference counting
    frees the garbage as before; the collector runs again, if it ran before, once the ranking is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ShardedMatcher:
    """The driver's side: builds the shards from ``docs`` (unique keys, in catalogue order), ranks batches.

    ``chunk`` records go to one shard at a time (default ``CHUNK``).

    >>> with connected(Cluster(shards=2)):                                   # doctest: +SKIP
    ...     matcher = ShardedMatcher(docs, cluster=Cluster(shards=2))
    ...     lists = matcher.rank_many([Query(demand, Kind.ACHIEVEMENT, Filters())], top_k=10)
    """

    def __init__(
        self,
        docs: Iterable[MatchDoc],
        *,
        cluster: Cluster,
        config: MatchConfig | None = None,
        analyzer: Analyzer | None = None,
        encoder: Encoder | None = None,
        chunk: int | None = None,
        zone_thesauri: Mapping[str, Thesaurus] | None = None,
    ) -> None:
        """``zone_thesauri``: as ``MatchEngine.zone_thesauri`` (the driver expands the queries, each shard
        names the related words in its reasons)."""
        import ray

        chunk_size = chunk or CHUNK
        self.config = config or MatchConfig()
        self.analyzer = analyzer or Analyzer()
        thesauri = dict(zone_thesauri or {})
        self._finisher = MatchEngine(config=self.config, analyzer=self.analyzer)
        self._finisher.zone_thesauri = thesauri
        labels: dict[str, dict[str, None]] = {name: {} for name in LABEL_FIELDS}
        chunks: list[list[ray.ObjectRef]] = [[] for _ in range(cluster.shards)]
        ordinal = 0
        iterator = iter(docs)
        for turn in count():
            chunk = list(islice(iterator, chunk_size))
            if not chunk:
                break
            for doc in chunk:  # the catalogue's label numbering: first seen, first numbered
                for name, values in doc.labels.items():
                    labels[name].update(dict.fromkeys(values))
            ordinals = np.arange(ordinal, ordinal + len(chunk), dtype=np.int64)
            chunks[turn % cluster.shards].append(ray.put((chunk, ordinals)))
            ordinal += len(chunk)
        self._chunks = chunks  # held so a restarted shard can rebuild from them
        run = uuid.uuid4().hex[:8]
        shard_class = ray.remote(Shard)
        self.shards = []
        for i, refs in enumerate(chunks):
            options: dict[str, Any] = {
                "num_cpus": cluster.cpus_per_shard,
                "max_restarts": -1,
                "max_task_retries": -1,
                "name": f"shard-{i}-{run}",
                "namespace": NAMESPACE,
            }
            if cluster.resources:
                options["resources"] = dict(cluster.resources[i])
            self.shards.append(
                shard_class.options(**options).remote(
                    refs,
                    {n: list(v) for n, v in labels.items()},
                    self.config,
                    self.analyzer,
                    encoder,
                    thesauri,
                )
            )
        self.corpus = Corpus.total(ray.get([s.corpus.remote() for s in self.shards]))

    def info(self) -> list[dict[str, Any]]:
        """Per shard: process id, node, records, peak memory and CPU seconds (tests, the benchmark)."""
        import ray

        return ray.get([s.info.remote() for s in self.shards])

    def rank_many(
        self,
        queries: Sequence[Query],
        *,
        top_k: int = 10,
        explain: bool = True,
        include_weak: bool = False,
    ) -> list[list[Match]]:
        """The catalogue's top ``top_k`` for each query, exactly as ``MatchEngine.rank`` would rank it."""
        batches = [queries[start : start + CALL_BATCH] for start in range(0, len(queries), CALL_BATCH)]
        results: list[list[Match]] = []
        # Two batches in flight: the driver merges one while the shards work on the other.
        with ThreadPoolExecutor(max_workers=2) as pool, _collector_paused():
            for lists in pool.map(
                lambda batch: self._rank_batch(
                    batch, top_k=top_k, explain=explain, include_weak=include_weak
                ),
                batches,
            ):
                results.extend(lists)
        return results

    def _rank_batch(
        self, queries: Sequence[Query], *, top_k: int, explain: bool, include_weak: bool
    ) -> list[list[Match]]:
        import ray

        batch = uuid.uuid4().hex
        words = [self._finisher.query_words(q.doc) for q in queries]
        words_ref = ray.put(Packed(words))
        docs_ref = ray.put(list(queries))
        # A shard keeps a batch's queries, globals and contexts from the call that first brings them; later
        # calls pass them boxed in a list, which Ray leaves unresolved, so a shard reads them again only
        # after a restart. Each is put once, read by every shard, instead of serialised per call.
        docs_box = [docs_ref]
        stats = ray.get([s.statistics.remote(batch, docs_ref, words_ref) for s in self.shards])
        globals_ = [
            merge_statistics(w, [part[i] for part in stats], self.corpus, self.config)
            for i, w in enumerate(words)
        ]
        globals_ref = ray.put(Packed(globals_))
        globals_box = [globals_ref]
        scans = ray.get([s.scan.remote(batch, docs_box, globals_ref) for s in self.shards])
        contexts = [
            merge_scans([part[i] for part in scans], g, self.config)
            if any(part[i].candidates for part in scans)
            else None
            for i, g in enumerate(globals_)
        ]
        contexts_ref = ray.put(Packed(contexts))
        contexts_box = [contexts_ref]
        hits = ray.get(
            [
                s.score.remote(batch, docs_box, globals_box, contexts_ref, top_k, include_weak)
                for s in self.shards
            ]
        )
        merged = [
            None if context is None else merge_hits([part[i] for part in hits], top_k)
            for i, context in enumerate(contexts)
        ]
        if explain:  # reasons only for the merged top-k, each from the shard holding the record
            wanted = [
                Packed([self._wanted(m, n, part) for m, part in zip(merged, hits[n], strict=True)])
                for n in range(len(self.shards))
            ]
            explained = ray.get(
                [
                    s.explain.remote(batch, docs_box, globals_box, contexts_box, wanted[n])
                    for n, s in enumerate(self.shards)
                ]
            )
            for i, m in enumerate(merged):
                if m is not None:
                    lists = [iter(part[i]) for part in explained]
                    for match, shard in zip(m.matches, m.shards.tolist(), strict=True):
                        match.reasons.extend(next(lists[shard]))  # each match's own list, empty so far
        results = []
        for i, (query, m) in enumerate(zip(queries, merged, strict=True)):
            if m is None:
                results.append([])
                continue
            results.append(
                self._finisher.finish(
                    m.matches,
                    m.totals,
                    source_kind=query.doc.kind,
                    dense=hits[0][i].dense,
                    words_said=words[i].said,
                    include_weak=include_weak,
                )
            )
        return results

    @staticmethod
    def _wanted(merged: Merged | None, shard: int, hits: Hits | None) -> Wanted | None:
        """What shard ``shard`` needs to explain its records among one query's merged top-k."""
        if merged is None or hits is None:
            return None
        rows = merged.rows[merged.shards == shard]
        return Wanted(merged.ordinals[merged.shards == shard], hits.signals, hits.values[rows])


class Wanted(NamedTuple):
    """A shard's records in a merged top-k, for reasons: their ordinals and their signals (the columns of
    ``Hits.values``), arrays instead of ``Match`` objects (profiled: pickling those cost the driver)."""

    ordinals: np.ndarray
    signals: tuple[str, ...]
    values: np.ndarray


class Packed:
    """A value Ray passes pickled in band, as one bytes object: Ray gives each array out of band a buffer
    of its own, a fixed cost per array on both sides, and a batch's answers hold thousands of small arrays
    (profiled: a quarter of the driver's time was Ray reading them). The receiver gets the value itself."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return pickle.loads, (pickle.dumps(self.value, protocol=pickle.HIGHEST_PROTOCOL),)


class Shard:
    """A Ray actor holding one shard of the catalogue (the class is made remote by ``ShardedMatcher``)."""

    def __init__(
        self,
        chunks: list,
        labels: dict[str, list[str]],
        config: MatchConfig,
        analyzer: Analyzer,
        encoder: Encoder | None,
        zone_thesauri: Mapping[str, Thesaurus] | None = None,
    ) -> None:
        """``chunks``: object refs of the shard's (records, ordinals) chunks, read one at a time so the
        shard never holds more raw records than one chunk beside its index; ``labels``: the catalogue's."""
        self.engine = MatchEngine(config=config, analyzer=analyzer, encoder=encoder)
        self.engine.zone_thesauri = dict(zone_thesauri or {})
        for name, values in labels.items():
            self.engine.fields[name].extend(values)
        ordinals: list[np.ndarray] = []
        self.engine.upsert(self._records(chunks, ordinals))
        self.engine.compact()
        self.ordinals = np.concatenate(ordinals) if ordinals else np.empty(0, np.int64)
        self._scans: dict[tuple[str, int], Scanned] = {}
        self._batches: OrderedDict[str, dict[str, Any]] = OrderedDict()

    @staticmethod
    def _records(chunks: list, ordinals: list[np.ndarray]) -> Iterator[MatchDoc]:
        import ray

        for ref in chunks:
            docs, numbers = ray.get(ref)
            ordinals.append(numbers)
            yield from docs

    def info(self) -> dict[str, Any]:
        import ray

        return {
            "pid": os.getpid(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "records": len(self.engine),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
        }

    def corpus(self) -> Corpus:
        return self.engine.corpus()

    def _kept(self, batch: str, name: str, value: Any = None, box: list | None = None) -> Any:
        """A batch's queries or globals: ``value`` when the call brings them (kept for the later phases),
        else the kept copy, else (after a restart) read from the object store through ``box``."""
        import ray

        kept = self._batches.setdefault(batch, {})
        self._batches.move_to_end(batch)
        while len(self._batches) > _KEPT_BATCHES:
            self._batches.popitem(last=False)
        if value is not None:
            kept[name] = value
        elif name not in kept:
            assert box is not None
            kept[name] = ray.get(box[0])
        return kept[name]

    def statistics(self, batch: str, queries: list[Query], words: list[QueryWords]) -> Packed:
        """Phase 1: a ``WordStats`` per query."""
        queries = self._kept(batch, "queries", queries)
        return Packed([self.engine.statistics(q.doc, w) for q, w in zip(queries, words, strict=True)])

    def scan(self, batch: str, queries_box: list, globals_: list[QueryGlobals]) -> Packed:
        """Phase 2: a ``Scan`` per query (the rest of the scan stays here for phase 3)."""
        queries = self._kept(batch, "queries", box=queries_box)
        globals_ = self._kept(batch, "globals", globals_)
        scans = []
        for i, (query, g) in enumerate(zip(queries, globals_, strict=True)):
            scanned = self._scan(query, g)
            self._scans[(batch, i)] = scanned
            scans.append(scanned.scan)
        return Packed(scans)

    def _scan(self, query: Query, g: QueryGlobals) -> Scanned:
        return self.engine.scan(
            query.doc, g, target_kind=query.target_kind, filters=query.filters, ordinals=self.ordinals
        )

    def score(
        self,
        batch: str,
        queries_box: list,
        globals_box: list,
        contexts: list[QueryContext | None],
        top_k: int,
        include_weak: bool,
    ) -> Packed:
        """Phase 3: ``Hits`` per query, None where no shard has a candidate (``contexts`` None)."""
        queries = self._kept(batch, "queries", box=queries_box)
        globals_ = self._kept(batch, "globals", box=globals_box)
        contexts = self._kept(batch, "contexts", contexts)
        out: list[Hits | None] = []
        for i, (query, g, context) in enumerate(zip(queries, globals_, contexts, strict=True)):
            # After a restart the scan is gone: redo it (a pure function of the query and the shard).
            scanned = self._scans.pop((batch, i), None) or self._scan(query, g)
            if context is None:
                out.append(None)
                continue
            out.append(
                self.engine.score(
                    query.doc,
                    g,
                    context,
                    scanned,
                    top_k=top_k,
                    include_weak=include_weak,
                    ordinals=self.ordinals,
                )
            )
        return Packed(out)

    def explain(
        self,
        batch: str,
        queries_box: list,
        globals_box: list,
        contexts_box: list,
        wanted: list[Wanted | None],
    ) -> Packed:
        """Reasons for this shard's records in each merged top-k (``wanted``), in the order given."""
        queries = self._kept(batch, "queries", box=queries_box)
        globals_ = self._kept(batch, "globals", box=globals_box)
        contexts = self._kept(batch, "contexts", box=contexts_box)
        out: list[list[list[Reason]]] = []
        for query, g, context, want in zip(queries, globals_, contexts, wanted, strict=True):
            if context is None or want is None or not want.ordinals.size:
                out.append([])
                continue
            positions = np.searchsorted(self.ordinals, want.ordinals)  # ordinals ascend with positions
            kinds = self.engine.columns["kind"][positions].tolist()
            # ``_explain`` reads a match's kind and signals only (the record is the one at its position).
            matches = [
                Match(KINDS[kind], "", "", float("nan"), [], dict(zip(want.signals, values, strict=True)))
                for kind, values in zip(kinds, want.values.tolist(), strict=True)
            ]
            out.append([m.reasons for m in self.engine.explain(query.doc, g, context, matches, positions)])
        return Packed(out)
