"""The pure reading rules for deals and bookings: who sees a deal, and what of it (``deal_view``)."""

from __future__ import annotations

from datetime import UTC, datetime

from techbridge.domain.accounts import Role, User, can_see_bookers, deal_view, is_deal_party, officer
from techbridge.domain.deals import HIDDEN_RECORD_ZH, Attachment, Deal, DealEvent, DealResource, DealStage
from techbridge.domain.records import Achievement, Demand, Instrument

T0 = datetime(2026, 5, 1, tzinfo=UTC)
WUXI_ADMIN, CHENGDU_ADMIN, PLATFORM = officer("wuxi"), officer("chengdu"), officer(None)
CORP = User(id=3, username="corp", role=Role.ENTERPRISE, zone_code="wuxi", organization="无锡甲公司")
NEIGHBOUR = User(id=4, username="other", role=Role.ENTERPRISE, zone_code="wuxi", organization="无锡乙公司")
SCU = User(id=5, username="scu", role=Role.UNIVERSITY, zone_code="chengdu", organization="四川大学")
XIAN = officer("xian")

LINKED = {
    ("demand", 9): Demand(zone_code="wuxi", title="无锡私有需求", organization="无锡甲公司"),
    ("achievement", 8): Achievement(zone_code="wuxi", title="无锡私有成果", owner="江南大学"),
    ("achievement", 16): Achievement(
        zone_code="chengdu", title="成都共享成果", owner="四川大学", visibility="shared"
    ),
}
DEAL = Deal(
    id=1,
    zone_code="wuxi",
    title="无锡私有需求",
    stage=DealStage.PILOT_TEST,
    demand_id=9,
    enterprise="无锡甲公司",
    contract_value=80.0,
    created_by="wuxi_admin",
    created_at=T0,
    updated_at=T0,
    resources=[
        DealResource(kind="achievement", record_id=8, zone_code="wuxi", title="无锡私有成果"),
        DealResource(kind="achievement", record_id=16, zone_code="chengdu", title="成都共享成果"),
    ],
    events=[
        DealEvent(from_stage=None, to_stage=DealStage.MATCHED, actor="wuxi_admin", at=T0, note="内部备注"),
        DealEvent(
            from_stage=DealStage.MATCHED,
            to_stage=DealStage.PILOT_TEST,
            actor="wuxi_admin",
            at=T0,
            note="合同已签",
            contract_value=80.0,
            attachments=[Attachment(name="合同.pdf", size=10)],
        ),
    ],
)


def test_the_owner_zone_and_the_platform_read_the_deal_as_stored() -> None:
    assert deal_view(WUXI_ADMIN, DEAL, LINKED) == DEAL
    assert deal_view(PLATFORM, DEAL, LINKED) == DEAL
    assert deal_view(CORP, DEAL, LINKED) == DEAL  # its own enterprise's deal, in its own zone


def test_a_supplier_zone_sees_stages_and_its_own_records_only() -> None:
    view = deal_view(CHENGDU_ADMIN, DEAL, LINKED)
    assert view is not None and view.is_redacted
    assert (view.title, view.enterprise, view.demand_id, view.contract_value) == (
        HIDDEN_RECORD_ZH,
        "",
        None,
        None,
    )
    assert [(r.record_id, r.title) for r in view.resources] == [
        (None, HIDDEN_RECORD_ZH),
        (16, "成都共享成果"),
    ]
    assert [(e.to_stage, e.actor, e.note, e.attachments, e.contract_value) for e in view.events] == [
        (DealStage.MATCHED, "", "", [], None),
        (DealStage.PILOT_TEST, "", "", [], None),
    ]


def test_a_shared_demand_keeps_its_title_for_the_supplier_zone() -> None:
    shared = {**LINKED, ("demand", 9): LINKED[("demand", 9)].model_copy(update={"visibility": "shared"})}
    view = deal_view(CHENGDU_ADMIN, DEAL, shared)
    assert view is not None and (view.title, view.enterprise, view.demand_id) == (
        "无锡私有需求",
        "无锡甲公司",
        9,
    )
    assert view.events[-1].note == ""  # the history stays the owner zone's


def test_organisations_see_only_deals_they_are_party_to() -> None:
    assert deal_view(NEIGHBOUR, DEAL, LINKED) is None
    assert is_deal_party(SCU, DEAL, LINKED)  # its shared patent is a resource
    view = deal_view(SCU, DEAL, LINKED)
    assert view is not None and view.title == HIDDEN_RECORD_ZH and view.events[0].note == ""
    assert deal_view(XIAN, DEAL, LINKED) is None  # neither the owner nor a supplier


def test_bookers_are_seen_in_the_instruments_zone_only() -> None:
    shared = Instrument(zone_code="wuxi", name="扫描电镜", visibility="shared")
    assert can_see_bookers(CORP, shared) and can_see_bookers(PLATFORM, shared)
    assert not can_see_bookers(CHENGDU_ADMIN, shared) and not can_see_bookers(SCU, shared)
