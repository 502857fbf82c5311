"""Deals: start one from a demand and resources, move it through the stages, drop it, read its history.

Zone officers (admins) push deals forward; an organisation may open a deal on its own demand (or offer its
own resource to one) and sees the deals it is a party to. Another zone's deal is a 404, as for records; a
deal this zone only supplied shows the owner zone's private side redacted (``domain.accounts.deal_view``).

Routes that write commit before they return, as the record routes do (see ``routers.records``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, computed_field

from ...domain.deals import RESOURCE_KINDS, STAGE_LABELS_ZH, Attachment, Deal, DealStage
from ...services import deals
from ..deps import AdminUser, CurrentUser, SessionDep
from ..schemas import MAX_ID, PageNumber, PerPage

router = APIRouter(prefix="/deals", tags=["deals"])

DealId = Annotated[int, Path(ge=1, le=MAX_ID, description="Deal id")]
ResourceKind = Literal["achievement", "expert", "instrument", "pilot_platform"]
assert set(ResourceKind.__args__) == set(RESOURCE_KINDS)  # type: ignore[attr-defined]


class DealPublic(Deal):
    """A deal with its history, plus the days spent in each stage (the open stage counted up to now)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stage_days(self) -> dict[str, float]:
        return {stage.value: days for stage, days in deals.stage_days(self).items()}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stage_label_zh(self) -> str:
        return STAGE_LABELS_ZH[self.stage]


class DealsPublic(BaseModel):
    data: list[DealPublic]
    count: int
    page: int
    per_page: int


class DealListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: DealStage | None = None
    page: PageNumber = 1
    per_page: PerPage = 20


class ResourceRef(BaseModel):
    kind: ResourceKind
    id: int = Field(..., ge=1, le=MAX_ID)


class DealCreate(BaseModel):
    demand_id: int | None = Field(None, ge=1, le=MAX_ID, description="The demand the deal answers")
    enterprise: str = Field("", max_length=200, description="Instead of a demand: the enterprise's name")
    zone_code: str | None = Field(None, max_length=32, description="Platform admins, enterprise deals only")
    resources: list[ResourceRef] = Field(..., min_length=1, max_length=50)
    note: str = Field("", max_length=2000)


class Transition(BaseModel):
    to_stage: DealStage
    note: str = Field("", max_length=2000, description="Required to skip stages, step back or drop")
    attachments: list[Attachment] = Field([], max_length=20)
    contract_value: float | None = Field(None, ge=0, description="万元, from the pilot-test stage on")
    funding_amount: float | None = Field(None, ge=0, description="万元, entering funding or deployed")
    at: datetime | None = Field(None, description="When it happened (UTC); default now")


class Drop(BaseModel):
    reason: str = Field(..., min_length=1, max_length=2000)


def _public(deal: Deal) -> DealPublic:
    return DealPublic.model_validate(deal.model_dump())


@router.get("", response_model=DealsPublic, summary="List visible deals, newest first")
def list_deals(
    session: SessionDep, user: CurrentUser, params: Annotated[DealListQuery, Query()]
) -> DealsPublic:
    found = deals.page_deals(
        session, user=user, stage=params.stage, page=params.page, per_page=params.per_page
    )
    return DealsPublic(
        data=[_public(d) for d in found.items],
        count=found.total,
        page=params.page,
        per_page=params.per_page,
    )


@router.get("/{deal_id}", response_model=DealPublic, summary="One deal with its stage history")
def get_deal(session: SessionDep, user: CurrentUser, deal_id: DealId) -> DealPublic:
    return _public(deals.get_deal(session, deal_id, user=user))


@router.post("", response_model=DealPublic, status_code=201, summary="Start a deal at 已撮合")
def start_deal(session: SessionDep, user: CurrentUser, body: DealCreate) -> DealPublic:
    deal = deals.start_deal_as(
        session,
        user=user,
        resources=[(r.kind, r.id) for r in body.resources],
        demand_id=body.demand_id,
        enterprise=body.enterprise,
        zone_code=body.zone_code,
        note=body.note,
    )
    session.commit()
    return _public(deals.get_deal(session, deal.id, user=user))


@router.post("/{deal_id}/transitions", response_model=DealPublic, summary="Move a deal to another stage")
def advance(session: SessionDep, user: AdminUser, deal_id: DealId, body: Transition) -> DealPublic:
    deal = deals.advance_as(
        session,
        deal_id,
        user=user,
        to_stage=body.to_stage,
        note=body.note,
        attachments=body.attachments,
        contract_value=body.contract_value,
        funding_amount=body.funding_amount,
        at=body.at,
    )
    session.commit()
    return _public(deals.get_deal(session, deal.id, user=user))


@router.post("/{deal_id}/drop", response_model=DealPublic, summary="End a deal as 终止, with a reason")
def drop(session: SessionDep, user: AdminUser, deal_id: DealId, body: Drop) -> DealPublic:
    deals.drop_as(session, deal_id, user=user, reason=body.reason)
    session.commit()
    return _public(deals.get_deal(session, deal_id, user=user))
