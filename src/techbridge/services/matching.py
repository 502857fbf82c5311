"""Batch matching: keep the persisted index in step with the store, then store each source's top matches.

Incremental by design: records whose ``updated_at`` is unchanged since the last run are not re-analysed,
archived records leave the index, and a source is re-ranked only if it changed itself or if the set of
records it is ranked against changed (then its stored list could be stale).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.access import Scope
from ..match import Filters, Kind, Match, MatchConfig, MatchDoc, MatchEngine
from ..match import documents as converters
from ..store.db import session_scope
from ..store.matches import NewMatch, replace_matches
from ..store.records import StoredRecord, get_record, iter_records

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


@dataclass(frozen=True)
class MatchRunReport:
    indexed: int
    removed: int
    sources: int
    stored: int
    seconds: float


def index_dir(settings: Settings) -> Path:
    return settings.data_dir / "match-index"


def match_doc(stored: StoredRecord) -> MatchDoc:
    """The engine's view of a stored record; the database id is the match id."""
    return _CONVERTERS[Kind(stored.kind)](stored.record, record_id=str(stored.id))


class _Index:
    """The engine plus a manifest of the ``updated_at`` it last saw per record key."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        config = MatchConfig.with_weights(settings.match_weights)
        if (path / "engine.json").exists():
            self.engine = MatchEngine.load(path)
            self.engine.config = replace(self.engine.config, weights=config.weights)
            self.seen: dict[str, str] = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        else:
            self.engine = MatchEngine(config=config)
            self.seen = {}

    def sync(self, session: Session) -> tuple[dict[str, MatchDoc], set[str], set[str]]:
        """Bring the index up to date; returns the live source documents by key, changed and removed keys."""
        sources: dict[str, MatchDoc] = {}
        changed: list[MatchDoc] = []
        stamps: dict[str, str] = {}
        for kind in Kind:
            for stored in iter_records(session, kind.value, scope=Scope.platform()):
                doc = match_doc(stored)
                stamps[doc.key] = stored.updated_at.isoformat()
                if self.seen.get(doc.key) != stamps[doc.key]:
                    changed.append(doc)
                if kind in PAIRS and doc.is_available:
                    sources[doc.key] = doc
        removed = set(self.seen) - set(stamps)
        self.engine.remove(removed)
        self.engine.upsert(changed)
        self.seen = stamps
        return sources, {d.key for d in changed}, removed

    def save(self) -> None:
        self.engine.save(self.path)
        (self.path / "manifest.json").write_text(json.dumps(self.seen, ensure_ascii=False), encoding="utf-8")


def _filters(source: MatchDoc, target_kind: Kind) -> Filters:
    # A zone sees its own records and what other zones share; demands are matched only while open.
    return Filters(zone=source.zone_code, available_only=target_kind == Kind.DEMAND)


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
                reasons=[r._asdict() for r in m.reasons],
                target_zone=m.zone_code,
            )
            for m in matches
        ],
    )
    return len(matches)


def _work(sources: dict[str, MatchDoc], changed: set[str], *, full: bool) -> list[tuple[MatchDoc, Kind]]:
    changed_kinds = {key.partition("/")[0] for key in changed}
    return [
        (source, target)
        for key, source in sources.items()
        for target in PAIRS[source.kind]
        if full or key in changed or target.value in changed_kinds
    ]


def run_batch(
    url: str, *, settings: Settings, top_k: int = 20, full: bool = False, progress: Progress | None = None
) -> MatchRunReport:
    """Match every open demand (and every achievement and expert) and store the top ``top_k`` lists."""
    started = time.perf_counter()
    index = _Index(index_dir(settings), settings)
    with session_scope(url) as session:
        sources, changed, removed = index.sync(session)
        work = _work(sources, changed | removed, full=full)
        stored = 0
        for done, (source, target) in enumerate(work, start=1):
            matches = index.engine.rank(
                source, target_kind=target, top_k=top_k, filters=_filters(source, target)
            )
            stored += _store(session, source, target, matches)
            if progress is not None:
                progress(done, len(work))
    index.save()
    return MatchRunReport(
        indexed=len(changed),
        removed=len(removed),
        sources=len({s.key for s, _ in work}),
        stored=stored,
        seconds=time.perf_counter() - started,
    )


def match_demand(
    url: str, demand_id: int, *, settings: Settings, top_k: int = 10, scope: Scope
) -> dict[Kind, list[Match]]:
    """Rank resources of every kind for one demand (the index is brought up to date first) and store them."""
    index = _Index(index_dir(settings), settings)
    with session_scope(url) as session:
        stored = get_record(session, Kind.DEMAND.value, demand_id, scope=scope)
        index.sync(session)
        source = match_doc(stored)
        results: dict[Kind, list[Match]] = {}
        for target in PAIRS[Kind.DEMAND]:
            results[target] = index.engine.rank(
                source, target_kind=target, top_k=top_k, filters=_filters(source, target)
            )
            _store(session, source, target, results[target])
    index.save()
    return results


def titles(url: str, matches: Iterable[Match]) -> dict[str, str]:
    """Display names of matched records, keyed like ``MatchDoc.key``."""
    names: dict[str, str] = {}
    with session_scope(url) as session:
        for m in matches:
            record = get_record(session, m.kind.value, int(m.id), scope=Scope.platform()).record
            names[f"{m.kind}/{m.id}"] = str(getattr(record, "title", None) or getattr(record, "name", ""))
    return names
