"""Deal use cases on every database: starting, advancing with history, dropping, zone isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from techbridge.domain.access import Scope
from techbridge.domain.accounts import Role, User, officer
from techbridge.domain.deals import Attachment, DealStage, stage_durations
from techbridge.errors import Conflict, InvalidStageTransition, NotFound, TechBridgeError, ZoneAccessDenied
from techbridge.services import deals
from techbridge.store.db import session_scope

WUXI, CHENGDU, BEIJING = Scope("wuxi"), Scope("chengdu"), Scope("beijing")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _start(session: Session, world: dict[str, int], **extra: object) -> int:
    deal = deals.start_deal(
        session,
        demand_id=world["demand"],
        resources=[("achievement", world["patent"]), ("pilot_platform", world["pilot"])],
        actor="wang",
        scope=WUXI,
        note="匹配度高",
        at=T0,
        **extra,  # type: ignore[arg-type]
    )
    return deal.id


def test_start_deal_takes_zone_title_and_chain_from_the_demand(db_url: str, world: dict[str, int]) -> None:
    with session_scope(db_url) as session:
        deal = deals.get_deal(session, _start(session, world), user=officer(WUXI.zone_code))
        assert (deal.zone_code, deal.stage, deal.enterprise) == ("wuxi", DealStage.MATCHED, "无锡甲电池公司")
        assert (deal.title, deal.industry_chain) == ("锂电池隔膜涂覆工艺", "新能源")
        assert {(r.kind, r.zone_code) for r in deal.resources} == {
            ("achievement", "wuxi"),
            ("pilot_platform", "chengdu"),
        }
        assert deal.supplier_zones == ["chengdu"]
        [first] = deal.events
        assert (first.from_stage, first.to_stage, first.actor, first.note, first.at) == (
            None,
            DealStage.MATCHED,
            "wang",
            "匹配度高",
            T0,
        )


def test_full_chain_records_who_when_note_attachments_and_money(db_url: str, world: dict[str, int]) -> None:
    with session_scope(db_url) as session:
        deal_id = _start(session, world)
        steps = [DealStage.CONTACTED, DealStage.NEGOTIATING, DealStage.PILOT_TEST, DealStage.INCUBATION]
        for day, stage in enumerate(steps, start=1):
            extra: dict[str, object] = {"contract_value": 120.0} if stage == DealStage.PILOT_TEST else {}
            deals.advance(
                session,
                deal_id,
                to_stage=stage,
                actor="wang",
                scope=WUXI,
                at=T0 + timedelta(days=day),
                **extra,
            )  # type: ignore[arg-type]
        contract = Attachment(name="技术许可合同.pdf", size=204800, content_type="application/pdf")
        deals.advance(
            session,
            deal_id,
            to_stage=DealStage.FUNDING,
            actor="zhao",
            scope=WUXI,
            note="天使轮",
            attachments=[contract],
            funding_amount=300.0,
            at=T0 + timedelta(days=10),
        )
        deal = deals.advance(
            session,
            deal_id,
            to_stage=DealStage.DEPLOYED,
            actor="zhao",
            scope=WUXI,
            funding_amount=200.0,
            at=T0 + timedelta(days=30),
        )
        assert deal.stage == DealStage.DEPLOYED and deal.is_closed
        assert [e.to_stage for e in deal.events] == [
            DealStage.MATCHED,
            *steps,
            DealStage.FUNDING,
            DealStage.DEPLOYED,
        ]
        assert [e.from_stage for e in deal.events][1:3] == [DealStage.MATCHED, DealStage.CONTACTED]
        funding = deal.events[5]
        assert (funding.actor, funding.note, funding.attachments, funding.at) == (
            "zhao",
            "天使轮",
            [contract],
            T0 + timedelta(days=10),
        )
        # funding rounds add up: 300 + 200 = 500; the contract value is the latest recorded one
        assert (deal.contract_value, deal.funding_amount) == (120.0, 500.0)
        # funding stage lasted from day 10 to day 30 = 20 days; incubation day 4 to day 10 = 6 days
        durations = stage_durations(deal.events)
        assert durations[DealStage.FUNDING] == timedelta(days=20)
        assert durations[DealStage.INCUBATION] == timedelta(days=6)


def test_refused_transitions_raise_and_change_nothing(db_url: str, world: dict[str, int]) -> None:
    with session_scope(db_url) as session:
        deal_id = _start(session, world)
        with pytest.raises(InvalidStageTransition, match="跳过阶段"):
            deals.advance(session, deal_id, to_stage=DealStage.PILOT_TEST, actor="wang", scope=WUXI)
        with pytest.raises(InvalidStageTransition, match="终止项目必须填写原因"):
            deals.drop(session, deal_id, reason="", actor="wang", scope=WUXI)
        with pytest.raises(InvalidStageTransition, match="早于"):
            deals.advance(
                session,
                deal_id,
                to_stage=DealStage.CONTACTED,
                actor="wang",
                scope=WUXI,
                at=T0 - timedelta(days=1),
            )
    with session_scope(db_url) as session:  # what the refusals left behind, as the next request reads it
        deal = deals.get_deal(session, deal_id, user=officer(WUXI.zone_code))
    assert deal.stage == DealStage.MATCHED and len(deal.events) == 1


def test_skip_with_reason_then_drop_then_frozen(db_url: str, world: dict[str, int]) -> None:
    with session_scope(db_url) as session:
        deal_id = _start(session, world)
        deal = deals.advance(
            session, deal_id, to_stage=DealStage.NEGOTIATING, actor="wang", scope=WUXI, note="企业已直接联系"
        )
        assert deal.events[-1].note == "企业已直接联系"
        deal = deals.drop(session, deal_id, reason="企业预算取消", actor="wang", scope=WUXI)
        assert (deal.stage, deal.drop_reason) == (DealStage.DROPPED, "企业预算取消")
        with pytest.raises(InvalidStageTransition, match="不能再变更阶段"):
            deals.advance(
                session, deal_id, to_stage=DealStage.PILOT_TEST, actor="wang", scope=WUXI, note="重启"
            )


def test_cross_zone_deal_is_visible_to_the_supplier_but_only_the_owner_advances(
    db_url: str, world: dict[str, int]
) -> None:
    with session_scope(db_url) as session:
        deal_id = _start(session, world)
        assert deals.get_deal(session, deal_id, user=officer(CHENGDU.zone_code)).id == deal_id
        assert [d.id for d in deals.list_deals(session, user=officer(CHENGDU.zone_code))] == [deal_id]
        with pytest.raises(ZoneAccessDenied):
            deals.advance(session, deal_id, to_stage=DealStage.CONTACTED, actor="li", scope=CHENGDU)
        with pytest.raises(NotFound):
            deals.get_deal(session, deal_id, user=officer(BEIJING.zone_code))
        assert deals.list_deals(session, user=officer(BEIJING.zone_code)) == []
        assert [d.id for d in deals.list_deals(session, user=officer(None), stage=DealStage.MATCHED)] == [
            deal_id
        ]


def test_private_resource_of_another_zone_cannot_be_linked(db_url: str, world: dict[str, int]) -> None:
    with session_scope(db_url) as session:
        with pytest.raises(NotFound):
            deals.start_deal(
                session,
                demand_id=world["demand"],
                resources=[("instrument", world["private_instrument"])],
                actor="wang",
                scope=WUXI,
            )


def test_another_zones_demand_cannot_be_dealt_by_a_zone(db_url: str, world: dict[str, int]) -> None:
    with session_scope(db_url) as session:
        with pytest.raises(ZoneAccessDenied):
            deals.start_deal(
                session,
                demand_id=world["chengdu_demand"],
                resources=[("expert", world["expert"])],
                actor="wang",
                scope=WUXI,
            )


def test_the_same_open_deal_is_not_started_twice(db_url: str, world: dict[str, int]) -> None:
    with session_scope(db_url) as session:
        first = _start(session, world)
        with pytest.raises(Conflict, match=str(first)):
            _start(session, world)
        deals.drop(session, first, reason="换人对接", actor="wang", scope=WUXI)
        assert _start(session, world) != first  # once closed, a fresh deal may start


def test_enterprise_deal_without_demand(db_url: str, world: dict[str, int]) -> None:
    with session_scope(db_url) as session:
        deal = deals.start_deal(
            session,
            enterprise="无锡丙公司",
            resources=[("expert", world["expert"])],
            actor="wang",
            scope=WUXI,
        )
        assert (deal.zone_code, deal.demand_id, deal.title) == ("wuxi", None, "无锡丙公司 撮合项目")
        with pytest.raises(TechBridgeError, match="必须指定园区"):
            deals.start_deal(
                session,
                enterprise="某公司",
                resources=[("expert", world["expert"])],
                actor="admin",
                scope=Scope.platform(),
            )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resources": []}, "至少需要一项资源"),
        ({"resources": [("organization", 1)]}, "资源类型"),
        ({"enterprise": "某公司"}, "二选一"),
    ],
)
def test_start_deal_input_errors(
    db_url: str, world: dict[str, int], kwargs: dict[str, object], message: str
) -> None:
    with session_scope(db_url) as session:
        args: dict[str, object] = {"demand_id": world["demand"], "resources": [("expert", world["expert"])]}
        args.update(kwargs)
        with pytest.raises(TechBridgeError, match=message):
            deals.start_deal(session, actor="wang", scope=WUXI, **args)  # type: ignore[arg-type]


def _org(role: Role, organization: str) -> User:
    return User(id=99, username="someone", role=role, zone_code=WUXI.zone_code, organization=organization)


def test_the_owner_of_a_resource_is_a_party_who_sees_and_may_start_the_deal(
    db_url: str, world: dict[str, int]
) -> None:
    """A university offers its patent to a demand of its zone, and sees that deal; others see nothing."""
    with session_scope(db_url) as session:
        deal = deals.start_deal(
            session,
            demand_id=world["demand"],
            resources=[("achievement", world["patent"])],
            actor="jn_univ",
            scope=WUXI,
            on_behalf_of="江南大学",
        )
        assert [(r.kind, r.owner) for r in deal.resources] == [("achievement", "江南大学")]
        assert [d.id for d in deals.list_deals(session, user=_org(Role.UNIVERSITY, "江南大学"))] == [deal.id]
        assert deals.get_deal(session, deal.id, user=_org(Role.ENTERPRISE, "无锡甲电池公司")).id == deal.id
        assert deals.list_deals(session, user=_org(Role.UNIVERSITY, "另一所大学")) == []
        with pytest.raises(NotFound):
            deals.get_deal(session, deal.id, user=_org(Role.UNIVERSITY, "另一所大学"))
        with pytest.raises(TechBridgeError, match="只能为本单位的需求发起撮合"):
            deals.start_deal(
                session,
                demand_id=world["demand"],
                resources=[("pilot_platform", world["pilot"])],
                actor="other",
                scope=WUXI,
                on_behalf_of="另一所大学",
            )
