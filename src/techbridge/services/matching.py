"""Batch matching: keep the persisted index in step with the store, then store each source's top matches.

Incremental by design. A sync reads only the records whose ``updated_at`` passed the last sync's watermark
(and the experts whose deals changed, since deals move their workload); archival bumps ``updated_at``, so
removals are seen the same way. A source is re-ranked only if it changed itself or if the set of records
it is ranked against changed, or, for a demand, if its zone's own related words changed since the last
batch run (``services.zone_thesaurus``). Archived records and retired demands lose their stored matches.

The index lives under ``data_dir/match-index/<hash of the database URL>/`` and records the database's
fingerprint, so two databases sharing a data dir never read each other's index. A long-lived process
(the web server) keeps the loaded index in memory between calls while nobody else has written it.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import shutil
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from ..config import Settings
from ..domain.access import Scope
from ..errors import Busy
from ..match import Filters, Kind, Match, MatchConfig, MatchDoc, MatchEngine, Reason
from ..match import documents as converters
from ..match.distributed import Cluster
from ..match.encoders import Encoder, load_encoder
from ..match.keys import load_key_map, save_key_map
from ..store.db import session_scope
from ..store.deals import as_utc, experts_in_deals_changed, open_deal_counts
from ..store.matches import RETIRED_DEMAND_STATUSES, NewMatch, delete_matches, replace_matches
from ..store.records import StoredRecord, get_record, get_records, iter_records, iter_stamps, oldest_record
from ..store.tables import utcnow
from . import zone_thesaurus

PAIRS: dict[Kind, tuple[Kind, ...]] = {
    Kind.DEMAND: (Kind.ACHIEVEMENT, Kind.EXPERT, Kind.INSTRUMENT, Kind.PILOT_PLATFORM),
    Kind.ACHIEVEMENT: (Kind.DEMAND,),
    Kind.EXPERT: (Kind.DEMAND,),
}
"""Source kind → the kinds it is matched against (the product's pairs)."""

_CONVERTERS: dict[Kind, Callable[..., MatchDoc]] = {
    Kind.ACHIEVEMENT: converters.from_achievement,
    Kind.DEMAND: converters.from_demand,
    Kind.EXPERT: converters.from_expert,
    Kind.INSTRUMENT: converters.from_instrument,
    Kind.PILOT_PLATFORM: converters.from_pilot_platform,
}
Progress = Callable[[int, int], None]
"""Called with (done, total) after each source is matched."""

_OVERLAP = timedelta(minutes=5)
"""How far before the previous sync a sync reads again. A writer stamps ``updated_at`` before it commits,
so a transaction still open during that sync can commit stamps older than the watermark it left; re-read
rows whose stamp the index already holds cost a comparison, not a re-analysis."""
_JOURNAL_MIN, _JOURNAL_SHARE = 1_000, 0.01
"""Keys changed since the snapshot that may pile up in the journal before the snapshot is rewritten."""
_LOADED: dict[Path, _Index] = {}
BATCH_SOURCES = 200
"""Sources batch matching ranks, then stores and commits at once: the write transaction stays short, so
requests that write (SQLite has one writer) get their turn between batches instead of timing out."""
INDEX_WAIT_S = 20.0
"""How long one record's matching (a web request) waits for the index that ``match --all`` holds."""


class MatchIndexBusy(Busy):
    def __init__(self) -> None:
        super().__init__("匹配索引正在更新 (例如正在批量匹配), 请稍后重试 (match index busy, retry later)")


@dataclass(frozen=True)
class MatchRunReport:
    indexed: int
    removed: int
    sources: int
    stored: int
    seconds: float


@dataclass
class SyncDelta:
    """What one sync changed in the index."""

    docs: list[MatchDoc] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)
    retired_demands: set[str] = field(default_factory=set)

    @property
    def changed(self) -> set[str]:
        return {d.key for d in self.docs} | self.removed

    @property
    def retired(self) -> set[str]:
        """Keys whose stored matches must go: archived records and retired demands."""
        return self.removed | self.retired_demands


def engine_config(settings: Settings) -> MatchConfig:
    """The matcher's configuration from the settings (weights and parameters as JSON overrides)."""
    return MatchConfig().replace(weights=settings.match_weights, **settings.match_params)


_ENCODERS: dict[str, Encoder | None] = {}


def engine_encoder(settings: Settings) -> Encoder | None:
    """The configured sentence encoder, loaded once per process (the model takes a second to load)."""
    if settings.encoder not in _ENCODERS:
        _ENCODERS[settings.encoder] = load_encoder(settings.encoder)
    return _ENCODERS[settings.encoder]


def index_dir(settings: Settings, database_url: str) -> Path:
    """The index of one database: a directory keyed by its URL (password left out)."""
    digest = hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:16]
    return settings.data_dir / "match-index" / digest


def match_doc(stored: StoredRecord, *, active_deals: int = 0) -> MatchDoc:
    """The engine's view of a stored record; the database id is the match id.

    ``active_deals`` is an expert's open deal count (ignored for other kinds).
    """
    kind = Kind(stored.kind)
    extra = {"active_deals": active_deals} if kind == Kind.EXPERT else {}
    return _CONVERTERS[kind](stored.record, record_id=str(stored.id), **extra)


def _docs(session: Session, records: Sequence[StoredRecord]) -> list[MatchDoc]:
    """Engine documents for stored records; experts carry their open deal count (workload)."""
    experts = [s.id for s in records if s.kind == Kind.EXPERT]
    active = open_deal_counts(session, expert_ids=experts) if experts else {}
    return [match_doc(s, active_deals=active.get(s.id, 0)) for s in records]


def _is_retired(stored: StoredRecord) -> bool:
    status = getattr(stored.record, "status", None)
    return stored.archived_at is not None or (
        stored.kind == Kind.DEMAND and status in RETIRED_DEMAND_STATUSES
    )


def _stamp(value: datetime) -> str:
    return as_utc(value).isoformat()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(value: datetime) -> int:
    """A timestamp as whole microseconds since 1970 (UTC): exact, and storable in an int64 array."""
    return (as_utc(value) - _EPOCH) // timedelta(microseconds=1)


def _fingerprint(session: Session) -> dict[str, Any]:
    """Which database this is: its URL, and the first record of each kind (a recreated database at the
    same URL starts over with other creation times)."""
    first = {kind.value: oldest_record(session, kind.value) for kind in Kind}
    return {
        "url": session.get_bind().url.render_as_string(hide_password=True),
        "first": {kind: None if row is None else [row[0], _stamp(row[1])] for kind, row in first.items()},
    }


def _same_database(indexed: dict[str, Any], current: dict[str, Any]) -> bool:
    # A kind that had no records when indexed may have gained some since. An index built with another
    # encoder (or none) holds other vectors: it is rebuilt, not mixed.
    if indexed.get("encoder") != current.get("encoder"):
        return False
    return indexed["url"] == current["url"] and all(
        row is None or row == current["first"].get(kind) for kind, row in indexed["first"].items()
    )


class _KeyLog:
    """A set of record keys kept as an append-only file, one key a line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> set[str]:
        return set(self.path.read_text(encoding="utf-8").split()) if self.path.exists() else set()

    def append(self, keys: Iterable[str]) -> None:
        with self.path.open("a", encoding="utf-8") as lines:
            lines.writelines(f"{key}\n" for key in keys)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


class _Index:
    """The engine, the ``updated_at`` it indexed per record key, and the watermarks it has read up to.

    On disk: ``state.json`` (database fingerprint, watermarks, generation, current snapshot), a snapshot
    directory (engine and the stamps of what it holds), ``journal.txt``, the keys indexed since the
    snapshot, and ``unbatched.txt``, the keys indexed since the last batch run (a single record's matching
    syncs the index too, and the batch must still re-rank what those changes affect). One change appends
    a line to each log instead of rewriting the index; a process loading the snapshot re-reads the
    journal's keys from the database. The snapshot is rewritten once the journal outgrows
    ``_JOURNAL_SHARE`` of the index.
    """

    def __init__(
        self, path: Path, *, config: MatchConfig, encoder: Encoder | None, database: dict[str, Any]
    ) -> None:
        self.path = path
        self.database = database
        self.engine = MatchEngine(config=config, encoder=encoder)
        self.seen: MutableMapping[str, int] = {}  # key → updated_at (µs) of the version indexed
        self.watermarks: dict[str, str | None] = {"records": None, "deals": None}
        self.read_from: dict[str, str | None] = {"records": None, "deals": None}
        self.generation = 0
        self.snapshot: str | None = None
        self.journal: set[str] = set()  # keys indexed since the snapshot
        self.reread: set[str] = set()  # journal keys a fresh load must take from the database
        self.unbatched: set[str] = set()
        self.thesauri: dict[str, str] = {}  # zone → version of its own related words the batch last used
        self.unsaved: list[str] = []
        self.saved_state: dict[str, Any] = {}
        self._journal_log = _KeyLog(path / "journal.txt")
        self._unbatched_log = _KeyLog(path / "unbatched.txt")

    @classmethod
    def open(
        cls, path: Path, *, config: MatchConfig, encoder: Encoder | None, database: dict[str, Any]
    ) -> _Index:
        """The index as persisted (or as this process holds it, when nobody wrote it since)."""
        state_file = path / "state.json"
        state = json.loads(state_file.read_text(encoding="utf-8")) if state_file.exists() else None
        if state is None or not _same_database(state["database"], database):
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
            return cls(path, config=config, encoder=encoder, database=database)
        loaded = _LOADED.get(path)
        if loaded is not None and loaded.generation == state["generation"]:
            index = loaded
        else:
            index = cls(path, config=config, encoder=encoder, database=database)
            index.watermarks, index.read_from = state["watermarks"], state["read_from"]
            index.generation, index.saved_state = state["generation"], state
            index.snapshot = state["snapshot"]
            if index.snapshot is not None:
                index._load_snapshot(encoder)
            index.journal = index._journal_log.read()
            index.reread = set(index.journal)
            index.unbatched = index._unbatched_log.read()
        # What the last batch run ranked with, whichever process ran it (a run that re-ranked only for
        # related words leaves the generation as it was, so a copy held in memory may not know it).
        index.thesauri = dict(state.get("thesauri", {}))
        index.engine.use_config(config)
        index.database = database
        return index

    def _load_snapshot(self, encoder: Encoder | None) -> None:
        """Map the snapshot read-only: every process serving it shares its pages (``MatchEngine.load``)."""
        snapshot = self.path / str(self.snapshot)
        self.engine = MatchEngine.load(snapshot, encoder=encoder, mmap=True)
        if (snapshot / "manifest.json").exists():  # written before the manifest was arrays
            stamps = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
            self.seen = {key: _micros(datetime.fromisoformat(stamp)) for key, stamp in stamps.items()}
        else:
            self.seen = load_key_map(snapshot / "manifest", mmap=True)

    def sync(self, session: Session, *, full: bool = False, progress: Progress | None = None) -> SyncDelta:
        """Bring the index up to date with the store; ``full`` compares every record instead of reading
        from the watermark (and drops keys the store no longer holds). ``progress`` follows indexing."""
        started = utcnow()
        since = {
            name: None if full or mark is None else datetime.fromisoformat(mark)
            for name, mark in self.read_from.items()
        }
        wanted: dict[Kind, set[int]] = defaultdict(set)
        for key in self.reread:
            kind, _, record_id = key.partition("/")
            wanted[Kind(kind)].add(int(record_id))
        listed: set[str] = set()
        delta = SyncDelta()
        for kind in Kind:
            for stamp in iter_stamps(session, kind.value, since=since["records"]):
                key = f"{kind}/{stamp.id}"
                self._advance("records", stamp.updated_at)
                listed.add(key)
                if stamp.is_archived:
                    if key in self.seen:
                        delta.removed.add(key)
                elif self.seen.get(key) != _micros(stamp.updated_at):
                    wanted[kind].add(stamp.id)
        for expert_id, updated_at in experts_in_deals_changed(session, since=since["deals"]):
            self._advance("deals", updated_at)
            wanted[Kind.EXPERT].add(expert_id)
        if full:
            delta.removed |= set(self.seen) - listed
        for kind, ids in wanted.items():
            self._read(session, kind, sorted(ids), delta=delta)
        self.engine.remove(delta.removed)
        total = len(delta.docs)
        self.engine.upsert(delta.docs, progress=None if progress is None else lambda n: progress(n, total))
        for key in delta.removed:
            self.seen.pop(key, None)
        self.reread = set()
        self.unsaved += sorted(delta.changed)
        self.unbatched |= delta.changed
        # Next time read from the watermark, or from a little before this sync while writes that were
        # open during it may still commit older stamps.
        self.read_from = {
            name: None if mark is None else min(datetime.fromisoformat(mark), started - _OVERLAP).isoformat()
            for name, mark in self.watermarks.items()
        }
        return delta

    def mark_batched(self, thesauri: dict[str, str]) -> None:
        """Every source the changes so far affect has been re-ranked, the demands of each zone with the
        version ``thesauri`` names of its own related words."""
        self.unbatched = set()
        self.thesauri = dict(thesauri)

    def _advance(self, name: str, value: datetime) -> None:
        mark = self.watermarks[name]
        if mark is None or as_utc(value) > datetime.fromisoformat(mark):
            self.watermarks[name] = _stamp(value)

    def _read(self, session: Session, kind: Kind, ids: list[int], *, delta: SyncDelta) -> None:
        """Take these records from the store into ``delta``: live ones as documents, archived ones as
        removals."""
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            found = get_records(session, kind.value, chunk, scope=Scope.platform())
            live = [s for s in found.values() if s.archived_at is None]
            gone = {f"{kind}/{i}" for i in chunk} - {f"{kind}/{s.id}" for s in live}
            delta.removed |= gone & self.seen.keys()
            for stored, doc in zip(live, _docs(session, live), strict=True):
                delta.docs.append(doc)
                self.seen[doc.key] = _micros(stored.updated_at)
                if _is_retired(stored):
                    delta.retired_demands.add(doc.key)

    def save(self) -> None:
        """Persist what changed: a journal line per changed key, or a new snapshot once the journal is
        long (or there is none yet), and the state when it moved. Nothing is written when nothing changed.
        """
        replaced = None
        if self.unsaved:
            self.generation += 1  # other processes holding the index in memory reload it
            self.journal.update(self.unsaved)
            if self.snapshot is None or len(self.journal) > max(
                _JOURNAL_MIN, _JOURNAL_SHARE * len(self.engine)
            ):
                replaced, self.snapshot = self.snapshot or "", f"snapshot-{self.generation}"
                self._write_snapshot()
                self.journal = set()
            else:
                self._journal_log.append(self.unsaved)
        if not self.unbatched:
            self._unbatched_log.clear()
        elif self.unsaved:
            self._unbatched_log.append(self.unsaved)
        self.unsaved = []
        self._write_state()
        if replaced is not None:  # only now that the state points at the new snapshot
            self._journal_log.clear()
            if replaced:
                # Processes still ranking with the old snapshot keep its mapped pages: on Linux an
                # unlinked file lives on until its last map is gone (tests/services: test_index_sharing).
                shutil.rmtree(self.path / replaced, ignore_errors=True)
            # Serve from the snapshot just written, mapped, like every other process: the compacted
            # arrays this process built are freed instead of staying private to it.
            config = self.engine.config
            self._load_snapshot(self.engine.encoder)
            self.engine.use_config(config)

    def _write_snapshot(self) -> None:
        """Write the snapshot under a temporary name and rename it when complete: a process finds either
        no snapshot directory or a whole one (``state.json`` names it only after that)."""
        final = self.path / str(self.snapshot)
        staged = self.path / f"{self.snapshot}.partial"
        shutil.rmtree(staged, ignore_errors=True)  # left by a writer that died
        self.engine.save(staged)
        save_key_map(staged / "manifest", self.seen)
        shutil.rmtree(final, ignore_errors=True)  # a leftover of the same name that no state names
        staged.rename(final)

    def _write_state(self) -> None:
        state = {
            "database": self.database,
            "watermarks": self.watermarks,
            "read_from": self.read_from,
            "generation": self.generation,
            "snapshot": self.snapshot,
            "thesauri": self.thesauri,
        }
        if state == self.saved_state:
            return
        staged = self.path / "state.json.tmp"
        staged.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        staged.replace(self.path / "state.json")  # atomic: a reader sees the old state or the new one
        self.saved_state = json.loads(json.dumps(state))


class _Turns:
    """First come, first served among this process's threads waiting for one index. Polling the file
    lock alone let later requests overtake earlier ones, and under load some waited until they timed out.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._queue: deque[object] = deque()

    @contextmanager
    def turn(self, deadline: float | None) -> Iterator[None]:
        me = object()
        with self._changed:
            self._queue.append(me)
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._changed.wait_for(lambda: self._queue[0] is me, timeout=timeout):
                self._queue.remove(me)
                self._changed.notify_all()
                raise MatchIndexBusy()
        try:
            yield
        finally:
            with self._changed:
                self._queue.popleft()
                self._changed.notify_all()


_TURNS: dict[Path, _Turns] = {}
_TURNS_LOCK = threading.Lock()


def _lock(lock: IO[str], deadline: float | None) -> None:
    """Take the index's exclusive file lock (other processes), giving up at ``deadline`` (None: never)."""
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:  # type: ignore[operator]
                raise MatchIndexBusy() from None
            time.sleep(0.05)


@contextmanager
def _open_index(session: Session, settings: Settings, *, wait: float | None = None) -> Iterator[_Index]:
    """The persisted index of the session's database, held under an exclusive file lock (web requests
    and the CLI may overlap) and saved back when the work inside succeeds. ``wait``: seconds to wait for
    it at most (None: as long as it takes)."""
    encoder = engine_encoder(settings)
    database = {**_fingerprint(session), "encoder": encoder.name if encoder else None}
    path = index_dir(settings, database["url"])
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = None if wait is None else time.monotonic() + wait
    with _TURNS_LOCK:
        turns = _TURNS.setdefault(path, _Turns())
    with turns.turn(deadline), (path.parent / f"{path.name}.lock").open("w") as lock:
        _lock(lock, deadline)
        index = _Index.open(path, config=engine_config(settings), encoder=encoder, database=database)
        _LOADED.pop(path, None)  # kept again only once the work below has been saved
        yield index
        index.save()
        _LOADED[path] = index


def _drop_matches(session: Session, keys: Iterable[str]) -> None:
    by_kind: dict[str, list[int]] = defaultdict(list)
    for key in keys:
        kind, _, record_id = key.partition("/")
        by_kind[kind].append(int(record_id))
    for kind, ids in by_kind.items():
        delete_matches(session, kind=kind, ids=ids)


def _filters(source: MatchDoc, target_kind: Kind) -> Filters:
    # A zone sees its own records and what other zones share; demands are matched only while open.
    return Filters(zone=source.zone_code, available_only=target_kind == Kind.DEMAND)


def _reason_json(reason: Reason) -> dict[str, Any]:
    """A reason as stored: code and text, and the matched words when there are some."""
    return {
        "code": reason.code,
        "text": reason.text,
        **({"terms": list(reason.terms)} if reason.terms else {}),
    }


def _store(session: Session, source: MatchDoc, target_kind: Kind, matches: list[Match]) -> int:
    replace_matches(
        session,
        source_kind=source.kind.value,
        source_id=int(source.id),
        source_zone=source.zone_code,
        target_kind=target_kind.value,
        matches=[
            NewMatch(
                target_id=int(m.id),
                score=m.score,
                reasons=[_reason_json(r) for r in m.reasons],
                target_zone=m.zone_code,
            )
            for m in matches
        ],
    )
    return len(matches)


def _sources(session: Session, records: Iterable[StoredRecord]) -> Iterator[MatchDoc]:
    """Documents of the records batch matching ranks as sources: not archived, and available."""
    records = iter(records)
    while batch := list(islice(records, 2000)):
        live = [s for s in batch if s.archived_at is None]
        yield from (doc for doc in _docs(session, live) if doc.is_available)


def _live_sources(session: Session, kind: Kind) -> Iterator[MatchDoc]:
    return _sources(session, iter_records(session, kind.value, scope=Scope.platform()))


def _work(
    session: Session, changed: set[str], *, full: bool, zones: set[str] | None = None
) -> list[tuple[MatchDoc, Kind]]:
    """(source, target kind) pairs whose stored list may be stale: every source of a kind whose targets
    changed, the changed sources themselves, and the demands of ``zones`` (their related words changed)."""
    zones = zones or set()
    changed_ids: dict[Kind, list[int]] = defaultdict(list)
    for key in changed:
        kind, _, record_id = key.partition("/")
        changed_ids[Kind(kind)].append(int(record_id))
    changed_kinds = set(changed_ids)
    work = []
    for kind, targets in PAIRS.items():
        stale = [t for t in targets if full or t in changed_kinds]
        reworded = zones if kind == Kind.DEMAND else set()
        if stale or reworded:
            sources = _live_sources(session, kind)
        else:
            found = get_records(session, kind.value, sorted(changed_ids[kind]), scope=Scope.platform())
            sources = _sources(session, found.values())
        for source in sources:
            whole = f"{kind}/{source.id}" in changed or source.zone_code in reworded
            work.extend((source, t) for t in (targets if whole else stale))
    return work


Ranker = Callable[[Sequence[tuple[MatchDoc, Kind]]], list[list[Match]]]


def _ranker(
    session: Session, engine: MatchEngine, cluster: Cluster | None, *, top_k: int, stack: ExitStack
) -> Ranker:
    """Rank (source, target kind) pairs here, or on shards of the index on a Ray cluster (imported only
    then); the cluster stays connected until ``stack`` closes."""
    if cluster is None:
        return lambda pairs: [
            engine.rank(s, target_kind=t, top_k=top_k, filters=_filters(s, t)) for s, t in pairs
        ]
    from ..match.distributed import Query, ShardedMatcher, connected

    stack.enter_context(connected(cluster))
    matcher = ShardedMatcher(
        _catalogue(session, engine),
        cluster=cluster,
        config=engine.config,
        analyzer=engine.analyzer,
        encoder=engine.encoder,
        zone_thesauri=engine.zone_thesauri,
    )
    return lambda pairs: matcher.rank_many([Query(s, t, _filters(s, t)) for s, t in pairs], top_k=top_k)


def _catalogue(session: Session, engine: MatchEngine) -> Iterator[MatchDoc]:
    """The index's live records, read again from the store in the index's order: shards built from them
    break ties as the index does."""
    keys = [key for pos, key in enumerate(engine.keys) if engine.positions.get(key) == pos]
    for start in range(0, len(keys), 900):
        chunk = keys[start : start + 900]
        ids: dict[Kind, list[int]] = defaultdict(list)
        for key in chunk:
            kind, _, record_id = key.partition("/")
            ids[Kind(kind)].append(int(record_id))
        found = {
            f"{kind}/{stored.id}": stored
            for kind, kind_ids in ids.items()
            for stored in get_records(session, kind.value, kind_ids, scope=Scope.platform()).values()
        }
        yield from _docs(session, [found[key] for key in chunk])


def run_batch(
    url: str,
    *,
    settings: Settings,
    top_k: int = 20,
    full: bool = False,
    progress: Progress | None = None,
    cluster: Cluster | None = None,
) -> MatchRunReport:
    """Match every open demand (and every achievement and expert) and store the top ``top_k`` lists.

    ``full`` compares every record with the index and re-ranks every source (the repair path).
    ``cluster`` ranks on shards of the index held by a Ray cluster (docs/scale-out.md): the same lists.
    A job, not a request service: it takes a database URL and commits batch by batch in its own sessions.
    """
    started = time.perf_counter()
    with session_scope(url) as session, _open_index(session, settings) as index:
        delta = index.sync(session, full=full, progress=progress)  # indexing, then ranking, on one bar
        _drop_matches(session, delta.retired)
        session.commit()
        # A zone's own related words change how its demands are ranked: re-rank them when they changed
        # since the last batch (the upload also queues this run).
        versions = zone_thesaurus.versions(session)
        reworded = {
            z for z in versions.keys() | index.thesauri.keys() if versions.get(z) != index.thesauri.get(z)
        }
        index.engine.zone_thesauri = zone_thesaurus.thesauri(session, index.engine.thesaurus)
        work = _work(session, index.unbatched, full=full, zones=reworded)
        stored = 0
        with ExitStack() as stack:  # a Ray cluster, when used, is left at the end of the run
            rank = _ranker(session, index.engine, cluster if work else None, top_k=top_k, stack=stack)
            # Each batch is ranked with no lock held, then stored and committed in one short transaction.
            # Killed midway, some lists are new and some old, each whole; the index is not saved, so the
            # next run redoes all of this work and ends where a clean run would.
            for start in range(0, len(work), BATCH_SOURCES):
                pairs = work[start : start + BATCH_SOURCES]
                batch = [(s, t, m) for (s, t), m in zip(pairs, rank(pairs), strict=True)]
                for source, target, matches in batch:
                    stored += _store(session, source, target, matches)
                session.commit()
                if progress is not None:
                    for done in range(start + 1, start + len(batch) + 1):
                        progress(done, len(work))
        index.mark_batched(versions)
    return MatchRunReport(
        indexed=len(delta.docs),
        removed=len(delta.removed),
        sources=len({s.key for s, _ in work}),
        stored=stored,
        seconds=time.perf_counter() - started,
    )


def _sync(session: Session, index: _Index) -> SyncDelta:
    """Sync the index for a web request, dropping the stored matches of records the sync found retired
    (in the caller's transaction: they go with the sync that found them)."""
    delta = index.sync(session)
    _drop_matches(session, delta.retired)
    return delta


def one_thread_per_request() -> None:
    """Cut the BLAS and torch thread pools of this process to one thread: a server already runs a request
    per core. With their default (a thread per core, spinning while they wait) every matrix product and
    encoding competed with the request threads and ran 5-10x slower under load (measured on 2 busy cores:
    one encoding 50 ms instead of 280-770 ms, ``dense @ vector`` 0.1-0.4 ms instead of 1-20 ms).
    Batch matching keeps the pools: it is one thread working through large blocks."""
    if (torch := sys.modules.get("torch")) is not None:
        torch.set_num_threads(1)  # threadpool_limits reaches only the calling thread's OpenMP setting
    threadpool_limits(1)


def _libc() -> ctypes.CDLL | None:
    """glibc, whose allocator the two functions below tune; None elsewhere (musl, macOS): untuned."""
    libc = ctypes.CDLL(None) if sys.platform.startswith("linux") else None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_M_ARENA_MAX = -8  # mallopt parameter (malloc.h)


def one_malloc_arena() -> None:
    """One glibc malloc arena for this process and the web workers forked from it.

    A ranking at a million records allocates temporaries of 1-8 MB per signal. glibc gives every thread
    that allocates an arena of its own (up to 8 per core) and keeps what was freed there for reuse, so a
    web worker, whose requests run on a pool of threads, held the peak of a ranking once per thread that
    had ranked. Rankings in one process take turns (``_open_index``) and the GIL serialises the
    allocations, so one arena costs no waiting. Call before the process starts threads. Measured with
    ``return_freed_memory``: 1M achievements, 4 forked workers, 30 requests: private memory the workers
    allocated after the fork 16-84 MB each → 2-9 MB (docs/scale-out.md, "One index for all web workers").
    """
    if (libc := _libc()) is not None:
        libc.mallopt(_M_ARENA_MAX, 1)


def return_freed_memory() -> None:
    """Give the pages freed in malloc's arenas back to the system (``malloc_trim``). Called after a
    web request's rankings: glibc would keep their temporaries' pages in the worker, private to it, until
    the next ranking; the next ranking maps them again (no latency change measured)."""
    if (libc := _libc()) is not None:
        libc.malloc_trim(0)


def warm_up(url: str, settings: Settings, *, wait: float = INDEX_WAIT_S) -> bool:
    """Load, before a server takes requests, what its first "run matching" would otherwise load while
    holding the index, with every other matching request queued behind it: the sentence encoder's model,
    the segmenter's dictionary and the index itself, synced with the store (at 100 clients that first
    request took 20-30 s and the queue behind it timed out as 503s; docs/reliability.md, Load test).
    Returns False (and leaves the rest to the first request) when ``match --all`` holds the index.
    A start-up job, not a request service: it takes a database URL and opens its own session."""
    encoder = engine_encoder(settings)
    if encoder is not None:
        encoder.encode(["预热"])  # the model loads on first use
    try:
        with session_scope(url) as session, _open_index(session, settings, wait=wait) as index:
            index.engine.analyzer.tokenize("预热")
            _sync(session, index)
    except MatchIndexBusy:
        return False
    return True


def match_record(
    session: Session,
    kind: str,
    record_id: int,
    *,
    scope: Scope,
    settings: Settings,
    top_k: int = 20,
    wait: float | None = INDEX_WAIT_S,
) -> dict[Kind, list[Match]]:
    """Re-rank one record's matches now and store them in the caller's transaction (the api/web seam).

    The index is brought up to date first (reading only what changed since the last sync), so a record
    saved a moment ago is matched as it is now. An archived record or retired demand gets no matches.
    ``settings`` are the caller's (the app's): where the index lives and the match weights. ``wait``:
    seconds to wait for the index at most, then ``MatchIndexBusy`` with nothing written (None: as long
    as it takes, for a worker's job).
    """
    stored = get_record(session, kind, record_id, scope=scope)
    results: dict[Kind, list[Match]] = {}
    source = None
    with _open_index(session, settings, wait=wait) as index:
        _sync(session, index)
        source = None if _is_retired(stored) or kind not in PAIRS else _docs(session, [stored])[0]
        if source is not None:
            index.engine.zone_thesauri = zone_thesaurus.thesauri(
                session, index.engine.thesaurus, [source.zone_code]
            )
        for target in PAIRS[source.kind] if source is not None else ():
            results[target] = index.engine.rank(
                source, target_kind=target, top_k=top_k, filters=_filters(source, target)
            )
    if _is_retired(stored):
        _drop_matches(session, [f"{kind}/{record_id}"])
    return_freed_memory()  # the rankings' temporaries, before this worker idles or stores
    # Stored once the index is released: the next request ranks while this one waits for the write lock
    # (SQLite has one), and SQLite's lock is taken only once the ranking is done.
    for target, matches in results.items():
        _store(session, source, target, matches)  # type: ignore[arg-type]
    return results


def match_demand(
    url: str, demand_id: int, *, scope: Scope, settings: Settings, top_k: int = 10
) -> dict[Kind, list[Match]]:
    """``match_record`` for one demand in its own unit of work (the CLI's ``match demand ID``)."""
    with session_scope(url) as session:
        return match_record(
            session, Kind.DEMAND.value, demand_id, scope=scope, settings=settings, top_k=top_k
        )


def titles(url: str, matches: Iterable[Match]) -> dict[str, str]:
    """Display names of matched records, keyed like ``MatchDoc.key``."""
    names: dict[str, str] = {}
    with session_scope(url) as session:
        for m in matches:
            record = get_record(session, m.kind.value, int(m.id), scope=Scope.platform()).record
            names[f"{m.kind}/{m.id}"] = str(getattr(record, "title", None) or getattr(record, "name", ""))
    return names
