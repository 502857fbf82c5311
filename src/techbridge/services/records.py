"""Record use cases as a signed-in user performs them: zone scope, ownership rules, private fields.

The API and the web pages both call these, so a rule enforced here holds behind every door.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.accounts import User, can_write, fill_ownership, owner_of, redact
from ..domain.records import RECORD_TYPES
from ..errors import PermissionDenied, TechBridgeError
from ..store import matches as match_store
from ..store import records as store
from ..store.jobs import Job
from ..store.records import KIND_LABELS_ZH, Page, RecordQuery, StoredRecord
from . import jobs, matching

RUN_NOW_WAIT_S = 5.0
"""How long a person's "run matching" (API or web form) waits for its turn before it is queued for the
worker instead. Under load the turn can take longer than anyone should hold a request open (at 100 clients
some waited the former 20 s bound and got 503s, docs/reliability.md); queued, it still gets done."""


@dataclass(frozen=True)
class MatchView:
    """A stored match with what a reader needs to judge it: the target's title and owner, both zones."""

    target_kind: str
    target_id: int
    target_title: str
    target_owner: str | None
    rank: int
    score: float
    reasons: list[Any]
    source_zone: str
    target_zone: str

    @property
    def is_cross_zone(self) -> bool:
        return self.source_zone != self.target_zone


def _shown(user: User, stored: StoredRecord) -> StoredRecord:
    return replace(stored, record=redact(user, stored.record))


def _refuse(user: User, kind: str, action: str) -> PermissionDenied:
    whose = (
        f"{user.organization}的"
        if user.organization and not user.is_admin
        else f"{user.zone_code or ''}园区的"
    )
    return PermissionDenied(f"{user.role_label}只能{action}{whose}{KIND_LABELS_ZH[kind]} (permission denied)")


def list_visible(session: Session, kind: str, *, user: User, query: RecordQuery) -> Page:
    try:
        page = store.list_records(session, kind, scope=user.scope, query=query)
    except ValueError as exc:  # an unknown filter or sort column
        raise TechBridgeError(str(exc)) from None
    return replace(page, items=[_shown(user, item) for item in page.items])


def get_visible(session: Session, kind: str, record_id: int, *, user: User) -> StoredRecord:
    """A record the user may see; another zone's private record is 404, never 403."""
    return _shown(user, store.get_record(session, kind, record_id, scope=user.scope))


def create(session: Session, kind: str, values: dict[str, Any], *, user: User) -> StoredRecord:
    """Validate and store a new record, defaulting zone and owner to the user's own."""
    record = RECORD_TYPES[kind].model_validate(fill_ownership(user, kind, values))
    if not can_write(user, kind, record):
        raise _refuse(user, kind, "创建")
    return _changed(session, store.create_record(session, record, scope=user.scope))


def update(
    session: Session, kind: str, record_id: int, changes: dict[str, Any], *, user: User
) -> StoredRecord:
    """Apply a partial change; the user must own the record both before and after it."""
    current = store.get_record(session, kind, record_id, scope=user.scope).record
    merged = RECORD_TYPES[kind].model_validate({**current.model_dump(), **changes})
    if not (can_write(user, kind, current) and can_write(user, kind, merged)):
        raise _refuse(user, kind, "修改")
    return _changed(session, store.update_record(session, kind, record_id, changes, scope=user.scope))


def archive(session: Session, kind: str, record_id: int, *, user: User) -> StoredRecord:
    current = store.get_record(session, kind, record_id, scope=user.scope).record
    if not can_write(user, kind, current):
        raise _refuse(user, kind, "归档")
    return _changed(session, store.archive_record(session, kind, record_id, scope=user.scope))


def restore(session: Session, kind: str, record_id: int, *, user: User) -> StoredRecord:
    """Bring an archived record back (and match it again)."""
    current = store.get_record(session, kind, record_id, scope=user.scope).record
    if not can_write(user, kind, current):
        raise _refuse(user, kind, "恢复")
    return _changed(session, store.restore_record(session, kind, record_id, scope=user.scope))


def _changed(session: Session, stored: StoredRecord) -> StoredRecord:
    """Every saved change is matched again shortly by a background job (debounced per record)."""
    jobs.schedule_matching(session, kind=stored.kind, record_id=stored.id, zone_code=stored.record.zone_code)
    return stored


def _title(stored: StoredRecord) -> str:
    # An expert's ``title`` is their rank (教授); records with a ``name`` are called by it.
    return str(getattr(stored.record, "name", None) or getattr(stored.record, "title", ""))


def matches_for(
    session: Session, kind: str, record_id: int, *, user: User, target_kind: str | None, limit: int
) -> list[MatchView]:
    """Stored matches of a record the user may see, keeping only targets the user may see."""
    store.get_record(session, kind, record_id, scope=user.scope)
    found = match_store.list_matches(
        session, source_kind=kind, source_id=record_id, target_kind=target_kind, scope=user.scope, limit=limit
    )
    targets: dict[tuple[str, int], StoredRecord] = {}
    for target in {m.target_kind for m in found}:
        ids = [m.target_id for m in found if m.target_kind == target]
        targets.update(
            ((target, i), s) for i, s in store.get_records(session, target, ids, scope=user.scope).items()
        )
    return [
        MatchView(
            target_kind=m.target_kind,
            target_id=m.target_id,
            target_title=_title(target),
            target_owner=owner_of(m.target_kind, target.record),
            rank=m.rank,
            score=m.score,
            reasons=m.reasons,
            source_zone=m.source_zone,
            target_zone=m.target_zone,
        )
        for m in found
        if (target := targets.get((m.target_kind, m.target_id))) is not None
    ]


def run_matching(
    session: Session,
    kind: str,
    record_id: int,
    *,
    user: User,
    settings: Settings,
    wait: float,
) -> Job | None:
    """Recompute and store the matches of one record the user owns, in the caller's transaction.

    When the match index stays busy for ``wait`` seconds (other requests ranking, ``match --all``), the
    work is queued for the worker instead and its job returned (None: done now). Matching is long work
    that will succeed later; failing the request would only make the person or client retry it.
    A plain call into ``services.matching`` (services build on each other; matching never needs this
    module back); ``settings`` are the app's (index directory, match weights), never the process default.
    """
    _may_run_matching(session, kind, record_id, user=user)
    try:
        matching.match_record(session, kind, record_id, scope=user.scope, settings=settings, wait=wait)
    except matching.MatchIndexBusy:  # raised before anything was written in this transaction
        return queue_matching(session, kind, record_id, user=user)
    return None


def queue_matching(session: Session, kind: str, record_id: int, *, user: User) -> Job:
    """The record's matching as a worker job, due now (a job already waiting for it is brought forward
    and stands for this request too: one run however many times people ask)."""
    current = _may_run_matching(session, kind, record_id, user=user)
    return jobs.submit(
        session,
        kind="match_record",
        params={"kind": kind, "id": record_id},
        user=user,
        zone_code=current.zone_code,
        title=f"运行匹配 {KIND_LABELS_ZH.get(kind, kind)} {record_id}",
        dedupe_key=jobs.matching_key(kind, record_id),
    )


def _may_run_matching(session: Session, kind: str, record_id: int, *, user: User) -> Any:
    """The record, if the user may run its matching (they may edit it)."""
    current = store.get_record(session, kind, record_id, scope=user.scope).record
    if not can_write(user, kind, current):
        raise _refuse(user, kind, "运行匹配")
    return current
