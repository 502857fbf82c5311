"""Deal use cases: start a deal from a demand (or an enterprise), move it through the stages, drop it.

Each function works in the caller's session, the caller's unit of work (nothing here commits), checks zone
rights and the transition rules, and returns the deal as a domain model with its full history. Every read
goes through ``readable_deals``, which applies ``domain.accounts.deal_view``: lists, detail pages, the
board and analytics see the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, Unpack

from sqlalchemy.orm import Session

from ..domain.access import Scope
from ..domain.accounts import LinkedRecords, Role, User, deal_enterprise, deal_view, owner_of
from ..domain.deal_rules import is_officer
from ..domain.deals import (
    RESOURCE_KINDS,
    STAGE_LABELS_ZH,
    Attachment,
    Deal,
    DealEvent,
    DealResource,
    DealStage,
    stage_durations,
    transition_problem,
)
from ..domain.records import Record
from ..errors import (
    Conflict,
    InvalidStageTransition,
    NotFound,
    PermissionDenied,
    TechBridgeError,
    ZoneAccessDenied,
)
from ..store import deals as deal_store
from ..store.records import get_record, get_records
from ..store.tables import utcnow
from . import notifications

ResourceRef = tuple[str, int]


def _when(at: datetime | None) -> datetime:
    if at is None:
        return utcnow()
    if at.tzinfo is None:
        raise ValueError("时间必须带时区 (UTC)")
    return deal_store.as_utc(at)


def _title_of(record: object) -> str:
    for name in ("name", "title"):  # an expert's title is a rank (教授), not what to call them
        value = getattr(record, name, None)
        if value:
            return str(value)
    return ""


def start_deal(
    session: Session,
    *,
    resources: Sequence[ResourceRef],
    actor: str,
    scope: Scope,
    demand_id: int | None = None,
    enterprise: str = "",
    zone_code: str | None = None,
    note: str = "",
    title: str = "",
    on_behalf_of: str | None = None,
    at: datetime | None = None,
) -> Deal:
    """Open a deal at 已撮合 linking a demand (or a named enterprise) with one or more resources.

    The deal belongs to the demand's zone; for an enterprise without a demand it belongs to ``zone_code``
    (defaulting to the caller's zone). Resources must be visible to that zone: its own or shared ones.
    ``on_behalf_of`` is set when an organisation (not a zone officer) asks: it may only start deals on
    its own demands, or offer its own resources to a demand of its zone.
    """
    if (demand_id is None) == (not enterprise.strip()):
        raise TechBridgeError("请指定需求编号或企业名称 (二选一)")
    if not resources:
        raise TechBridgeError("撮合项目至少需要一项资源 (成果、专家、仪器或中试平台)")
    when = _when(at)
    industry_chain: str | None = None
    if demand_id is not None:
        demand = get_record(session, "demand", demand_id, scope=scope).record
        owner_zone = demand.zone_code
        enterprise = demand.organization  # type: ignore[attr-defined]
        industry_chain = demand.industry_chain  # type: ignore[attr-defined]
        title = title or demand.title  # type: ignore[attr-defined]
    elif on_behalf_of is not None:
        raise PermissionDenied("企业用户只能为本单位的需求发起撮合")
    else:
        owner_zone = zone_code or scope.zone_code or ""
        if not owner_zone:
            raise TechBridgeError("平台管理员为企业创建撮合项目时必须指定园区")
    if not scope.can_edit(zone_code=owner_zone):
        raise ZoneAccessDenied(owner_zone, "撮合项目")
    owner_scope = Scope(owner_zone)
    linked: list[DealResource] = []
    for kind in dict.fromkeys(kind for kind, _ in resources):
        if kind not in RESOURCE_KINDS:
            raise TechBridgeError(f"资源类型 {kind!r} 无效, 可选: {', '.join(RESOURCE_KINDS)}")
        ids = list(dict.fromkeys(i for k, i in resources if k == kind))
        found = get_records(session, kind, ids, scope=owner_scope)
        for record_id in ids:
            if record_id not in found:
                raise NotFound(kind, record_id)
            record = found[record_id].record
            linked.append(
                DealResource(
                    kind=kind,
                    record_id=record_id,
                    zone_code=record.zone_code,
                    title=_title_of(record),
                    owner=owner_of(kind, record) or "",
                )
            )
    if on_behalf_of is not None and demand_id is not None:
        if enterprise != on_behalf_of and all(r.owner != on_behalf_of for r in linked):
            raise PermissionDenied("只能为本单位的需求发起撮合, 或以本单位的成果、专家、仪器参与撮合")
    if demand_id is not None:
        wanted = {(r.kind, r.record_id) for r in linked}
        for other in deal_store.list_deals(session, scope=Scope.platform(), demand_id=demand_id):
            if not other.is_closed and {(r.kind, r.record_id) for r in other.resources} == wanted:
                raise Conflict(f"该需求与这些资源已有进行中的撮合项目 (编号 {other.id})")
    new = deal_store.NewDeal(
        zone_code=owner_zone,
        title=(title or f"{enterprise} 撮合项目")[:300],
        demand_id=demand_id,
        enterprise=enterprise,
        industry_chain=industry_chain,
        resources=linked,
        created_by=actor,
    )
    first = DealEvent(from_stage=None, to_stage=DealStage.MATCHED, actor=actor, at=when, note=note)
    deal = deal_store.insert_deal(session, new, first)
    notifications.deal_changed(session, deal, actor=actor, linked=_linked(session, [deal]))
    return deal


def start_deal_as(
    session: Session,
    *,
    user: User,
    resources: Sequence[ResourceRef],
    demand_id: int | None = None,
    enterprise: str = "",
    zone_code: str | None = None,
    note: str = "",
) -> Deal:
    """``start_deal`` as a signed-in user does it: an organisation only for its own demand or with its own
    resources (``domain.accounts.deal_enterprise``), an officer for the zone."""
    return start_deal(
        session,
        resources=resources,
        actor=user.username,
        scope=user.scope,
        demand_id=demand_id,
        enterprise=enterprise,
        zone_code=zone_code,
        note=note,
        on_behalf_of=deal_enterprise(user),
    )


def advance(
    session: Session,
    deal_id: int,
    *,
    to_stage: DealStage,
    actor: str,
    scope: Scope,
    note: str = "",
    attachments: Sequence[Attachment] = (),
    contract_value: float | None = None,
    funding_amount: float | None = None,
    at: datetime | None = None,
) -> Deal:
    """Move a deal to ``to_stage``; ``note`` is the stated reason a skip, a step back or a drop needs."""
    when = _when(at)
    deal = deal_store.get_deal(session, deal_id, scope=scope)
    if not scope.can_edit(zone_code=deal.zone_code):
        raise ZoneAccessDenied(deal.zone_code, "撮合项目")
    problem = transition_problem(
        deal.stage, to_stage, reason=note, contract_value=contract_value, funding_amount=funding_amount
    )
    if problem is None and deal.events and when < deal.events[-1].at:
        problem = "变更时间不能早于上一次变更"
    if problem is not None:
        raise InvalidStageTransition(deal_id, STAGE_LABELS_ZH[deal.stage], STAGE_LABELS_ZH[to_stage], problem)
    event = DealEvent(
        from_stage=deal.stage,
        to_stage=to_stage,
        actor=actor,
        at=when,
        note=note.strip(),
        attachments=list(attachments),
        contract_value=contract_value,
        funding_amount=funding_amount,
    )
    drop_reason = note.strip() if to_stage == DealStage.DROPPED else ""
    moved = deal_store.record_event(session, deal_id, event, drop_reason=drop_reason)
    notifications.deal_changed(session, moved, actor=actor, linked=_linked(session, [moved]))
    return moved


def drop(
    session: Session, deal_id: int, *, reason: str, actor: str, scope: Scope, at: datetime | None = None
) -> Deal:
    """End a deal as 终止; the reason is required and kept on the deal."""
    return advance(session, deal_id, to_stage=DealStage.DROPPED, actor=actor, scope=scope, note=reason, at=at)


OFFICERS_ONLY = "只有项目所属园区的管理员可以推进或终止撮合项目"


def require_officer(user: User, deal: Deal) -> None:
    """Only the officers of the deal's zone move or drop it: the one rule the API and the pages ask."""
    if not is_officer(user, deal):
        raise PermissionDenied(OFFICERS_ONLY)


class StageChange(TypedDict, total=False):
    """What a stage change may carry besides its target (the keyword arguments of ``advance``)."""

    note: str
    attachments: Sequence[Attachment]
    contract_value: float | None
    funding_amount: float | None
    at: datetime | None


def advance_as(
    session: Session, deal_id: int, *, user: User, to_stage: DealStage, **change: Unpack[StageChange]
) -> Deal:
    """``advance`` as a signed-in user does it: a deal they cannot see is 404, one of another zone 403."""
    require_officer(user, get_deal(session, deal_id, user=user))
    return advance(session, deal_id, to_stage=to_stage, actor=user.username, scope=user.scope, **change)


def drop_as(session: Session, deal_id: int, *, user: User, reason: str) -> Deal:
    """``drop`` as a signed-in user does it (see ``advance_as``)."""
    return advance_as(session, deal_id, user=user, to_stage=DealStage.DROPPED, note=reason)


def stage_days(deal: Deal, *, now: datetime | None = None) -> dict[DealStage, float]:
    """Days spent in each stage, to one decimal; the open stage is counted up to ``now``."""
    spent = stage_durations(deal.events, now=now or utcnow())
    return {stage: round(d.total_seconds() / 86400, 1) for stage, d in spent.items()}


def _linked(session: Session, found: Sequence[Deal]) -> LinkedRecords:
    """The demands and resources the deals link, as stored, so the rule can judge each one."""
    wanted: dict[str, set[int]] = {}
    for deal in found:
        if deal.demand_id is not None:
            wanted.setdefault("demand", set()).add(deal.demand_id)
        for resource in deal.resources:
            if resource.record_id is not None:
                wanted.setdefault(resource.kind, set()).add(resource.record_id)
    linked: dict[tuple[str, int], Record] = {}
    for kind, ids in wanted.items():
        for record_id, stored in get_records(session, kind, sorted(ids), scope=Scope.platform()).items():
            linked[(kind, record_id)] = stored.record
    return linked


def party_of(user: User) -> deal_store.Party | None:
    """An organisation's account sees only the deals it is party to; officers (None) see their zone's."""
    if user.is_admin:
        return None
    expert_name = user.display_name if user.role == Role.EXPERT else None
    return deal_store.Party(user.organization or "", user.zone_code or "", expert_name)


def readable_deals(
    session: Session, *, user: User, within: Scope | None = None, stage: DealStage | None = None
) -> list[Deal]:
    """The deals ``user`` may see, newest first, each redacted to what the user may read.

    ``within`` narrows to one zone's deals (a platform admin looking at one zone); it never widens.
    """
    found = deal_store.list_deals(session, scope=within or user.scope, stage=stage, party=party_of(user))
    return _readable(session, user, found)


def _readable(session: Session, user: User, found: Sequence[Deal]) -> list[Deal]:
    # The SQL already chose the user's deals; ``deal_view`` redacts them (and stays the rule's last word).
    linked = _linked(session, found)
    return [view for deal in found if (view := deal_view(user, deal, linked)) is not None]


@dataclass(frozen=True)
class DealPage:
    items: list[Deal]
    total: int


def page_deals(
    session: Session, *, user: User, stage: DealStage | None = None, page: int = 1, per_page: int = 20
) -> DealPage:
    """One page of ``list_deals``, paged in the database (LIMIT/OFFSET and a COUNT), not in Python."""
    scope, party = user.scope, party_of(user)
    found = deal_store.list_deals(
        session, scope=scope, stage=stage, party=party, limit=per_page, offset=(page - 1) * per_page
    )
    total = deal_store.count_deals(session, scope=scope, stage=stage, party=party)
    return DealPage(items=_readable(session, user, found), total=total)


def get_deal(session: Session, deal_id: int, *, user: User) -> Deal:
    """One deal as ``user`` may read it; a deal the user may not see is absent (404), never 403."""
    deal = deal_store.get_deal(session, deal_id, scope=user.scope)
    view = deal_view(user, deal, _linked(session, [deal]))
    if view is None:
        raise NotFound("撮合项目", deal_id)
    return view


def list_deals(session: Session, *, user: User, stage: DealStage | None = None) -> list[Deal]:
    """The deals ``user`` may see, newest first (see ``readable_deals``)."""
    return readable_deals(session, user=user, stage=stage)
