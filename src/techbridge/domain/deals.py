"""Deals: the stages a match goes through on its way to a deployed technology, and the rules between them.

The chain follows the Chengdu zone's "中试+研发+孵化+基金+场景": a deal is matched, contacted, negotiated,
pilot-tested, incubated, funded and finally deployed in a real application scenario; or it is dropped.

Transition rules (pure, no I/O; the service turns a refusal into ``InvalidStageTransition``):

- A closed deal (deployed or dropped) never moves again: reopening would rewrite the conversion history.
- Moving forward by exactly one stage needs nothing but the actor.
- Skipping stages forward (e.g. negotiating → deployed for a licence that needs no pilot test) needs a
  stated reason, so the funnel shows why a deal jumped.
- Moving backwards (e.g. a failed pilot test sends the deal back to negotiating) is allowed with a stated
  reason; real deals regress, and refusing it would push officers to drop and recreate deals.
- Dropping is allowed from every open stage and always needs a reason.
- A contract value may be recorded from the pilot-test stage on (the contract is signed when negotiation
  ends); a funding amount only when entering funding or deployed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class DealStage(StrEnum):
    MATCHED = "matched"
    CONTACTED = "contacted"
    NEGOTIATING = "negotiating"
    PILOT_TEST = "pilot_test"
    INCUBATION = "incubation"
    FUNDING = "funding"
    DEPLOYED = "deployed"
    DROPPED = "dropped"


PIPELINE: tuple[DealStage, ...] = (
    DealStage.MATCHED,
    DealStage.CONTACTED,
    DealStage.NEGOTIATING,
    DealStage.PILOT_TEST,
    DealStage.INCUBATION,
    DealStage.FUNDING,
    DealStage.DEPLOYED,
)
CLOSED_STAGES = frozenset({DealStage.DEPLOYED, DealStage.DROPPED})
OPEN_STAGES: tuple[DealStage, ...] = tuple(s for s in PIPELINE if s not in CLOSED_STAGES)

STAGE_LABELS_ZH: dict[DealStage, str] = {
    DealStage.MATCHED: "已撮合",
    DealStage.CONTACTED: "已对接",
    DealStage.NEGOTIATING: "洽谈",
    DealStage.PILOT_TEST: "中试",
    DealStage.INCUBATION: "孵化",
    DealStage.FUNDING: "融资",
    DealStage.DEPLOYED: "场景落地",
    DealStage.DROPPED: "终止",
}

HIDDEN_RECORD_ZH = "其他园区的非公开记录"
"""Shown instead of a linked record the reader may not read (another zone's private record)."""

# The kinds of record a deal can bring to a demand (an organization is the demand side, not a resource).
RESOURCE_KINDS = ("achievement", "expert", "instrument", "pilot_platform")

_CONTRACT_FROM = PIPELINE.index(DealStage.PILOT_TEST)
_FUNDING_STAGES = frozenset({DealStage.FUNDING, DealStage.DEPLOYED})


def parse_stage(value: str) -> DealStage:
    """Accept the English code or the Chinese label."""
    text = value.strip()
    for stage, label in STAGE_LABELS_ZH.items():
        if text in (stage.value, label):
            return stage
    choices = "、".join(f"{label}({stage.value})" for stage, label in STAGE_LABELS_ZH.items())
    raise ValueError(f"{value!r} 不是有效阶段, 可选: {choices}")


def is_closed(stage: DealStage) -> bool:
    return stage in CLOSED_STAGES


def transition_problem(
    current: DealStage,
    target: DealStage,
    *,
    reason: str = "",
    contract_value: float | None = None,
    funding_amount: float | None = None,
) -> str | None:
    """Why ``current → target`` is refused (Chinese, shown to users), or ``None`` when it is allowed."""
    has_reason = bool(reason.strip())
    if is_closed(current):
        return f"项目已{STAGE_LABELS_ZH[current]}, 不能再变更阶段"
    if target == current:
        return "目标阶段与当前阶段相同"
    if target == DealStage.DROPPED:
        if not has_reason:
            return "终止项目必须填写原因"
    else:
        step = PIPELINE.index(target) - PIPELINE.index(current)
        if step > 1 and not has_reason:
            skipped = "、".join(
                STAGE_LABELS_ZH[s] for s in PIPELINE[PIPELINE.index(current) + 1 : PIPELINE.index(target)]
            )
            return f"跳过阶段 ({skipped}) 必须说明原因"
        if step < 0 and not has_reason:
            return "退回到之前的阶段必须说明原因"
    if contract_value is not None:
        if contract_value < 0:
            return "合同金额不能为负数"
        if target == DealStage.DROPPED or PIPELINE.index(target) < _CONTRACT_FROM:
            return "合同金额只能在进入中试及之后的阶段时登记"
    if funding_amount is not None:
        if funding_amount < 0:
            return "融资金额不能为负数"
        if target not in _FUNDING_STAGES:
            return "融资金额只能在进入融资或场景落地阶段时登记"
    return None


class Attachment(BaseModel):
    """Metadata of a file attached to a stage change (the file itself lives elsewhere)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(..., min_length=1, max_length=200)
    size: int = Field(..., ge=0, description="Bytes")
    content_type: str = Field("application/octet-stream", max_length=100)
    file_id: int | None = Field(None, description="The stored file, when it was uploaded through the web")


class DealResource(BaseModel):
    kind: str
    record_id: int | None = Field(..., description="None when the reader may not read the record")
    zone_code: str
    title: str = ""
    owner: str = Field("", description="The organisation that owns the resource: a party to the deal")

    @property
    def is_hidden(self) -> bool:
        return self.record_id is None


class DealEvent(BaseModel):
    """One recorded stage change; the first event of a deal has ``from_stage=None``."""

    from_stage: DealStage | None
    to_stage: DealStage
    actor: str
    at: datetime
    note: str = ""
    attachments: list[Attachment] = []
    contract_value: float | None = Field(None, description="万元")
    funding_amount: float | None = Field(None, description="万元")


class Deal(BaseModel):
    id: int
    zone_code: str = Field(..., description="The demand's zone, which owns and advances the deal")
    title: str
    stage: DealStage
    demand_id: int | None = None
    enterprise: str = ""
    industry_chain: str | None = None
    drop_reason: str = ""
    contract_value: float | None = Field(None, description="万元, latest recorded")
    funding_amount: float | None = Field(None, description="万元, sum of all recorded rounds")
    created_by: str
    created_at: datetime
    updated_at: datetime
    resources: list[DealResource] = []
    events: list[DealEvent] = []
    is_redacted: bool = Field(
        False, description="Parts the reader may not read (another zone's private side) were left out"
    )

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS_ZH[self.stage]

    @property
    def is_closed(self) -> bool:
        return is_closed(self.stage)

    @property
    def supplier_zones(self) -> list[str]:
        """Other zones whose shared resources this deal uses (the "cloud matching" between zones)."""
        return sorted({r.zone_code for r in self.resources if r.zone_code != self.zone_code})


def stage_durations(
    events: Sequence[DealEvent], *, now: datetime | None = None
) -> dict[DealStage, timedelta]:
    """Time spent in each stage, summed over repeated visits; the current stage counts up to ``now``.

    Without ``now`` the current (unfinished) stay is left out, which is what medians of completed
    stays need.
    """
    ordered = sorted(events, key=lambda e: e.at)
    spent: dict[DealStage, timedelta] = {}
    for event, following in zip(ordered, ordered[1:], strict=False):
        spent[event.to_stage] = spent.get(event.to_stage, timedelta()) + (following.at - event.at)
    if ordered and now is not None and not is_closed(ordered[-1].to_stage):
        last = ordered[-1]
        spent[last.to_stage] = spent.get(last.to_stage, timedelta()) + (now - last.at)
    return spent


def furthest_stage(events: Sequence[DealEvent]) -> DealStage | None:
    """The furthest pipeline stage ever entered (dropping does not count as progress)."""
    reached = [PIPELINE.index(e.to_stage) for e in events if e.to_stage != DealStage.DROPPED]
    return PIPELINE[max(reached)] if reached else None
