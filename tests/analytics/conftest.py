"""A hand-made platform whose every metric is worked out by hand in the tests.

Zones: wuxi (江苏), chengdu (四川), xian (陕西). Days are counted from 2026-01-01 00:00 UTC.

Deal  state     demand (zone, chain)  resources (zone)
X1    deployed  D1 (wuxi, 新能源)     A1 江南大学 (wuxi)
X2    dropped   D2 (wuxi, 智能制造)   A3 西安交通大学 (xian, shared)
X3    open      D1 (wuxi, 新能源)     A2 四川大学 + expert E1 (chengdu, shared)
X4    open      D4 (chengdu, 航空)    A2 四川大学 (chengdu)

History (day: stage)
X1    0 matched, 2 contacted, 6 negotiating, 16 pilot (contract 100), 26 incubation, 36 funding (500),
      56 deployed
X2    10 matched, 14 contacted, 20 negotiating, 30 dropped
X3    5 matched, 9 contacted, 19 negotiating
X4    40 matched, 44 negotiating (skips contacted, with a reason)

Stored matches: D1→A1 0.8, D1→A2 0.3, D2→A3 0.4, D4→A2 0.9. D3 (wuxi) is closed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from techbridge.domain.access import Scope
from techbridge.domain.deals import DealStage
from techbridge.domain.records import Achievement, Demand, Expert, Record
from techbridge.services import deals
from techbridge.services.zone_registry import load_registry
from techbridge.store.db import session_scope
from techbridge.store.matches import NewMatch, replace_matches
from techbridge.store.records import create_record, kind_of, table_for

T0 = datetime(2026, 1, 1, tzinfo=UTC)
S = DealStage


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


RECORDS: dict[str, tuple[Record, datetime]] = {
    "D1": (
        Demand(zone_code="wuxi", title="锂电池隔膜涂覆", organization="无锡甲公司", industry_chain="新能源"),
        datetime(2026, 1, 15, tzinfo=UTC),
    ),
    "D2": (
        Demand(
            zone_code="wuxi", title="工业机器人视觉检测", organization="无锡乙公司", industry_chain="智能制造"
        ),
        datetime(2026, 3, 2, tzinfo=UTC),
    ),
    "D3": (
        Demand(
            zone_code="wuxi",
            title="储能电站热管理",
            organization="无锡丙公司",
            industry_chain="新能源",
            status="closed",
        ),
        datetime(2026, 3, 20, tzinfo=UTC),
    ),
    "D4": (
        Demand(
            zone_code="chengdu", title="航空发动机叶片检测", organization="成都丁公司", industry_chain="航空"
        ),
        datetime(2026, 2, 10, tzinfo=UTC),
    ),
    "A1": (
        Achievement(zone_code="wuxi", title="一种陶瓷涂覆隔膜", owner="江南大学"),
        datetime(2026, 1, 5, tzinfo=UTC),
    ),
    "A2": (
        Achievement(zone_code="chengdu", title="叶片无损检测方法", owner="四川大学", visibility="shared"),
        datetime(2026, 2, 11, tzinfo=UTC),
    ),
    "A3": (
        Achievement(zone_code="xian", title="视觉缺陷识别算法", owner="西安交通大学", visibility="shared"),
        datetime(2026, 3, 1, tzinfo=UTC),
    ),
    "E1": (
        Expert(zone_code="chengdu", name="李教授", organization="四川大学", visibility="shared"),
        datetime(2026, 3, 5, tzinfo=UTC),
    ),
}
MATCHES = {"D1": [("A1", 0.8), ("A2", 0.3)], "D2": [("A3", 0.4)], "D4": [("A2", 0.9)]}


@pytest.fixture
def platform(db_url: str) -> dict[str, int]:
    """Build the data set above; returns ids of records (D1…E1) and deals (X1…X4)."""
    load_registry(db_url)
    ids: dict[str, int] = {}
    with session_scope(db_url) as s:
        for name, (record, created) in RECORDS.items():
            stored = create_record(s, record, scope=Scope.platform())
            table = table_for(stored.kind)
            s.execute(update(table).where(table.id == stored.id).values(created_at=created))
            ids[name] = stored.id
        for source, targets in MATCHES.items():
            replace_matches(
                s,
                source_kind="demand",
                source_id=ids[source],
                source_zone=RECORDS[source][0].zone_code,
                target_kind="achievement",
                matches=[
                    NewMatch(target_id=ids[t], score=sc, reasons=[], target_zone=RECORDS[t][0].zone_code)
                    for t, sc in targets
                ],
            )

    def start(demand: str, resources: list[str], at: int) -> int:
        refs = [(kind_of(RECORDS[r][0]), ids[r]) for r in resources]
        zone = Scope(RECORDS[demand][0].zone_code)
        with session_scope(db_url) as session:
            return deals.start_deal(
                session, demand_id=ids[demand], resources=refs, actor="officer", scope=zone, at=day(at)
            ).id

    def move(deal_id: int, zone: str, steps: list[tuple[int, DealStage, dict[str, object]]]) -> None:
        with session_scope(db_url) as session:
            for at, stage, extra in steps:
                deals.advance(
                    session, deal_id, to_stage=stage, actor="officer", scope=Scope(zone), at=day(at), **extra
                )  # type: ignore[arg-type]

    ids["X1"] = start("D1", ["A1"], 0)
    move(
        ids["X1"],
        "wuxi",
        [
            (2, S.CONTACTED, {}),
            (6, S.NEGOTIATING, {}),
            (16, S.PILOT_TEST, {"contract_value": 100.0}),
            (26, S.INCUBATION, {}),
            (36, S.FUNDING, {"funding_amount": 500.0}),
            (56, S.DEPLOYED, {}),
        ],
    )
    ids["X2"] = start("D2", ["A3"], 10)
    move(
        ids["X2"],
        "wuxi",
        [(14, S.CONTACTED, {}), (20, S.NEGOTIATING, {}), (30, S.DROPPED, {"note": "预算取消"})],
    )
    ids["X3"] = start("D1", ["A2", "E1"], 5)
    move(ids["X3"], "wuxi", [(9, S.CONTACTED, {}), (19, S.NEGOTIATING, {})])
    ids["X4"] = start("D4", ["A2"], 40)
    move(ids["X4"], "chengdu", [(44, S.NEGOTIATING, {"note": "企业已直接联系研究团队"})])
    return ids
