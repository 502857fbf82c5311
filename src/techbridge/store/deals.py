"""Deal tables and their repository: a deal, the resources it links, and its stage history.

A deal belongs to its demand's zone. It is visible to that zone and to every zone that supplied one of
its resources (a cross-zone deal built on another zone's shared pool), and to the platform admin.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from ..domain.access import Scope
from ..domain.accounts import OWNER_FIELDS
from ..domain.deals import (
    CLOSED_STAGES,
    RESOURCE_KINDS,
    Attachment,
    Deal,
    DealEvent,
    DealResource,
    DealStage,
)
from ..errors import NotFound
from .records import table_for
from .tables import Base, utcnow


class DealRow(Base):
    __tablename__ = "deals"
    id: Mapped[int] = mapped_column(primary_key=True)
    zone_code: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(300))
    stage: Mapped[str] = mapped_column(String(16), index=True)
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id"), index=True)
    enterprise: Mapped[str] = mapped_column(String(200), default="")
    industry_chain: Mapped[str | None] = mapped_column(String(50), index=True)
    drop_reason: Mapped[str] = mapped_column(Text, default="")
    contract_value: Mapped[float | None] = mapped_column(Float)
    funding_amount: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DealResourceRow(Base):
    __tablename__ = "deal_resources"
    __table_args__ = (
        UniqueConstraint("deal_id", "resource_kind", "resource_id", name="uq_deal_resources_resource"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    resource_kind: Mapped[str] = mapped_column(String(20))
    resource_id: Mapped[int] = mapped_column(Integer)
    resource_zone: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    owner: Mapped[str | None] = mapped_column(String(200), index=True)


class DealEventRow(Base):
    __tablename__ = "deal_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    contract_value: Mapped[float | None] = mapped_column(Float)
    funding_amount: Mapped[float | None] = mapped_column(Float)


@dataclass(frozen=True)
class NewDeal:
    zone_code: str
    title: str
    demand_id: int | None
    enterprise: str
    industry_chain: str | None
    resources: Sequence[DealResource]
    created_by: str


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC, so say so."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def visible_deals(scope: Scope) -> ColumnElement[bool]:
    """Deals the scope may read: its own, and those that use one of its resources."""
    if scope.zone_code is None:
        return DealRow.id.is_not(None)
    supplies = exists().where(
        DealResourceRow.deal_id == DealRow.id, DealResourceRow.resource_zone == scope.zone_code
    )
    return or_(DealRow.zone_code == scope.zone_code, supplies)


def _event(row: DealEventRow) -> DealEvent:
    return DealEvent(
        from_stage=DealStage(row.from_stage) if row.from_stage else None,
        to_stage=DealStage(row.to_stage),
        actor=row.actor,
        at=as_utc(row.at),
        note=row.note,
        attachments=[Attachment.model_validate(a) for a in row.attachments],
        contract_value=row.contract_value,
        funding_amount=row.funding_amount,
    )


def _deal(row: DealRow, resources: list[DealResourceRow], events: list[DealEventRow]) -> Deal:
    return Deal(
        id=row.id,
        zone_code=row.zone_code,
        title=row.title,
        stage=DealStage(row.stage),
        demand_id=row.demand_id,
        enterprise=row.enterprise,
        industry_chain=row.industry_chain,
        drop_reason=row.drop_reason,
        contract_value=row.contract_value,
        funding_amount=row.funding_amount,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        resources=[
            DealResource(
                kind=r.resource_kind,
                record_id=r.resource_id,
                zone_code=r.resource_zone,
                title=r.title,
                owner=r.owner or "",
            )
            for r in resources
        ],
        events=[_event(e) for e in events],
    )


def _hydrate(session: Session, rows: Sequence[DealRow]) -> list[Deal]:
    ids = [r.id for r in rows]
    resources: dict[int, list[DealResourceRow]] = {i: [] for i in ids}
    events: dict[int, list[DealEventRow]] = {i: [] for i in ids}
    for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 900]
        for r in session.scalars(
            select(DealResourceRow).where(DealResourceRow.deal_id.in_(chunk)).order_by(DealResourceRow.id)
        ):
            resources[r.deal_id].append(r)
        for e in session.scalars(
            select(DealEventRow)
            .where(DealEventRow.deal_id.in_(chunk))
            .order_by(DealEventRow.at, DealEventRow.id)
        ):
            events[e.deal_id].append(e)
    return [_deal(r, resources[r.id], events[r.id]) for r in rows]


def insert_deal(session: Session, new: NewDeal, first_event: DealEvent) -> Deal:
    row = DealRow(
        zone_code=new.zone_code,
        title=new.title,
        stage=first_event.to_stage.value,
        demand_id=new.demand_id,
        enterprise=new.enterprise,
        industry_chain=new.industry_chain,
        created_by=new.created_by,
        created_at=first_event.at,
        updated_at=first_event.at,
    )
    session.add(row)
    session.flush()
    session.add_all(
        DealResourceRow(
            deal_id=row.id,
            resource_kind=r.kind,
            resource_id=r.record_id,
            resource_zone=r.zone_code,
            title=r.title[:300],
            owner=r.owner[:200] or None,
        )
        for r in new.resources
    )
    session.add(_event_row(row.id, first_event))
    session.flush()
    return _hydrate(session, [row])[0]


def _event_row(deal_id: int, event: DealEvent) -> DealEventRow:
    return DealEventRow(
        deal_id=deal_id,
        from_stage=event.from_stage.value if event.from_stage else None,
        to_stage=event.to_stage.value,
        actor=event.actor,
        at=event.at,
        note=event.note,
        attachments=[a.model_dump() for a in event.attachments],
        contract_value=event.contract_value,
        funding_amount=event.funding_amount,
    )


def get_deal(session: Session, deal_id: int, *, scope: Scope) -> Deal:
    row = session.scalar(select(DealRow).where(DealRow.id == deal_id, visible_deals(scope)))
    if row is None:
        # Another zone's deal is reported as absent, so ids leak nothing.
        raise NotFound("撮合项目", deal_id)
    return _hydrate(session, [row])[0]


@dataclass(frozen=True)
class Party:
    """An organisation's account (not a zone officer), which sees only the deals it is party to.

    ``expert_name`` is set for an expert's account: it owns no record but its own expert profile.
    """

    organization: str
    zone_code: str
    expert_name: str | None = None


def party_deals(party: Party) -> ColumnElement[bool]:
    """``domain.accounts.is_deal_party`` as SQL, so a party's deal list can be paged in the database.

    Party: the deal is for its enterprise in its zone, or one of the deal's resources was its own when the
    deal was made (``owner``), or is its own now (the record's owner field, in its zone).
    """
    org, zone = party.organization, party.zone_code
    resource = DealResourceRow
    owned_then = exists().where(
        resource.deal_id == DealRow.id, resource.owner == org, resource.resource_zone == zone
    )
    owned_now = []
    for kind in ("expert",) if party.expert_name is not None else RESOURCE_KINDS:
        table = table_for(kind)
        mine = [table.zone_code == zone, getattr(table, OWNER_FIELDS[kind]) == org]
        if party.expert_name is not None:
            mine.append(table.name == party.expert_name)  # type: ignore[attr-defined]
        owned_now.append(
            exists().where(
                resource.deal_id == DealRow.id,
                resource.resource_kind == kind,
                table.id == resource.resource_id,
                *mine,
            )
        )
    return or_(and_(DealRow.enterprise == org, DealRow.zone_code == zone), owned_then, *owned_now)


def _selected(
    scope: Scope, *, stage: DealStage | None, demand_id: int | None, party: Party | None
) -> list[ColumnElement[bool]]:
    conditions = [visible_deals(scope)]
    if stage is not None:
        conditions.append(DealRow.stage == stage.value)
    if demand_id is not None:
        conditions.append(DealRow.demand_id == demand_id)
    if party is not None:
        conditions.append(party_deals(party))
    return conditions


def list_deals(
    session: Session,
    *,
    scope: Scope,
    stage: DealStage | None = None,
    demand_id: int | None = None,
    party: Party | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Deal]:
    """Visible deals (only ``party``'s, when given), newest first, with resources and history; a page
    of them with ``limit`` and ``offset``."""
    stmt = (
        select(DealRow)
        .where(*_selected(scope, stage=stage, demand_id=demand_id, party=party))
        .order_by(DealRow.created_at.desc(), DealRow.id.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return _hydrate(session, list(session.scalars(stmt)))


def count_deals(
    session: Session, *, scope: Scope, stage: DealStage | None = None, party: Party | None = None
) -> int:
    """How many deals ``list_deals`` would give without a page."""
    stmt = select(func.count()).select_from(DealRow)
    return session.scalar(stmt.where(*_selected(scope, stage=stage, demand_id=None, party=party))) or 0


def record_event(session: Session, deal_id: int, event: DealEvent, *, drop_reason: str = "") -> Deal:
    """Append a stage change and move the deal to it; the caller has checked the rules."""
    row = session.get(DealRow, deal_id)
    if row is None:
        raise NotFound("撮合项目", deal_id)
    row.stage = event.to_stage.value
    row.updated_at = event.at
    if drop_reason:
        row.drop_reason = drop_reason
    if event.contract_value is not None:
        row.contract_value = event.contract_value
    if event.funding_amount is not None:
        row.funding_amount = (row.funding_amount or 0.0) + event.funding_amount
    session.add(_event_row(deal_id, event))
    session.flush()
    return _hydrate(session, [row])[0]


def open_deal_counts(session: Session, *, expert_ids: Collection[int]) -> dict[int, int]:
    """Number of open deals (neither deployed nor dropped) each expert works on: their workload."""
    counts: dict[int, int] = {}
    ids = sorted(expert_ids)
    closed = [stage.value for stage in CLOSED_STAGES]
    for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        stmt = (
            select(DealResourceRow.resource_id, func.count())
            .join(DealRow, DealRow.id == DealResourceRow.deal_id)
            .where(
                DealResourceRow.resource_kind == "expert",
                DealResourceRow.resource_id.in_(ids[start : start + 900]),
                DealRow.stage.not_in(closed),
            )
            .group_by(DealResourceRow.resource_id)
        )
        for expert_id, count in session.execute(stmt):
            counts[expert_id] = count
    return counts


def experts_in_deals_changed(session: Session, *, since: datetime | None) -> Iterator[tuple[int, datetime]]:
    """(expert id, deal ``updated_at``) for deals changed after ``since`` (all when None): whose workload
    may have moved. Deals number in the thousands, so this reads them without an index."""
    stmt = select(DealResourceRow.resource_id, DealRow.updated_at).join(
        DealRow, DealRow.id == DealResourceRow.deal_id
    )
    stmt = stmt.where(DealResourceRow.resource_kind == "expert")
    if since is not None:
        stmt = stmt.where(DealRow.updated_at > since)
    for expert_id, updated_at in session.execute(stmt):
        yield expert_id, as_utc(updated_at)
