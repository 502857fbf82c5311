"""Each metric on the hand-made platform of conftest.py; the expected numbers are worked out by hand."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from typer.testing import CliRunner

from techbridge.analytics import metrics
from techbridge.analytics.models import Breakdown, Coverage, CrossZone, Funnel, MonthlyCounts, ProvinceMap
from techbridge.cli import _register, app
from techbridge.config import get_settings
from techbridge.domain.access import Scope
from techbridge.domain.accounts import officer
from techbridge.domain.deals import DealStage
from techbridge.domain.records import Achievement, Demand
from techbridge.errors import InvalidInput
from techbridge.services import analytics, deals
from techbridge.services.zone_registry import load_registry
from techbridge.store.db import session_scope
from techbridge.store.records import create_record, table_for

PLATFORM, WUXI, CHENGDU, XIAN = Scope.platform(), Scope("wuxi"), Scope("chengdu"), Scope("xian")
BEIJING = ZoneInfo("Asia/Shanghai")


def _get(url: str, name: str, scope: Scope, **kw: float) -> object:
    """The metric as the officer of ``scope`` reads it (the platform admin for the whole platform)."""
    with session_scope(url) as session:
        return analytics.compute(session, name, user=officer(scope.zone_code), tz=BEIJING, **kw)


def test_records_by_month(db_url: str, platform: dict[str, int]) -> None:
    trend = _get(db_url, "trend", PLATFORM)
    assert isinstance(trend, MonthlyCounts)
    assert trend.months == ["2026-01", "2026-02", "2026-03"]
    # 需求: D1 Jan; D4 Feb; D2 + D3 Mar = [1, 1, 2]. 成果: A1 Jan, A2 Feb, A3 Mar. 专家: E1 Mar.
    assert trend.series["需求"] == [1, 1, 2]
    assert trend.series["成果"] == [1, 1, 1]
    assert trend.series["专家"] == [0, 0, 1]
    assert trend.series["仪器"] == [0, 0, 0]
    # Wuxi counts only what it owns: D1 Jan, D2 + D3 Mar; A1 Jan. Shared records of others are not its own.
    wuxi = _get(db_url, "trend", WUXI)
    assert isinstance(wuxi, MonthlyCounts)
    assert wuxi.months == ["2026-01", "2026-02", "2026-03"]
    assert (wuxi.series["需求"], wuxi.series["成果"], wuxi.series["专家"]) == (
        [1, 0, 2],
        [1, 0, 0],
        [0, 0, 0],
    )


def test_match_coverage(db_url: str, platform: dict[str, int]) -> None:
    cov = _get(db_url, "coverage", PLATFORM, threshold=0.5)
    assert isinstance(cov, Coverage)
    # open demands: D1, D2 (wuxi), D4 (chengdu); D3 is closed. Best scores: D1 0.8, D2 0.4, D4 0.9.
    # ≥ 0.5: D1 and D4 → 2 of 3.
    assert (cov.open_demands, cov.covered) == (3, 2)
    assert cov.share == pytest.approx(2 / 3)
    assert [(r.zone_code, r.open_demands, r.covered) for r in cov.rows] == [("chengdu", 1, 1), ("wuxi", 2, 1)]
    # Lowering the bar to 0.4 lets D2 in too: 3 of 3.
    assert _get(db_url, "coverage", WUXI, threshold=0.4).share == 1.0  # type: ignore[attr-defined]
    wuxi = _get(db_url, "coverage", WUXI, threshold=0.5)
    assert isinstance(wuxi, Coverage) and (wuxi.open_demands, wuxi.covered) == (2, 1)


def test_funnel_conversion_and_median_days(db_url: str, platform: dict[str, int]) -> None:
    f = _get(db_url, "funnel", PLATFORM)
    assert isinstance(f, Funnel)
    rows = {s.stage: s for s in f.stages}
    # Furthest stages: X1 deployed, X2/X3/X4 negotiating (X4 skipped contacted, which counts as passed).
    assert [s.reached for s in f.stages] == [4, 4, 4, 1, 1, 1, 1]
    # Now: X3, X4 negotiating; X1 deployed; X2 dropped.
    assert [s.current for s in f.stages] == [0, 0, 2, 0, 0, 0, 1]
    assert (f.total, f.deployed, f.dropped) == (4, 1, 1)
    assert f.conversion_rate == 0.25  # 1 deployed / 4 deals
    # next-stage conversion: 4/4, 4/4, 1/4 (negotiating → pilot), 1/1, 1/1, 1/1, none after deployed
    assert [s.conversion_to_next for s in f.stages] == [1.0, 1.0, 0.25, 1.0, 1.0, 1.0, None]
    # Completed stays in days. matched: X1 2, X2 4, X3 4, X4 4 → median 4.
    # contacted: X1 4 (2→6), X2 6 (14→20), X3 10 (9→19) → median 6 (X4 never stayed there).
    # negotiating: X1 10 (6→16), X2 10 (20→30); X3 and X4 are still there, so not counted → 10.
    # pilot 16→26 = 10, incubation 26→36 = 10, funding 36→56 = 20 (X1 only); deployed has no completed stay.
    assert [s.median_days for s in f.stages] == [4.0, 6.0, 10.0, 10.0, 10.0, 20.0, None]
    assert rows["pilot_test"].label == "中试"


def test_funnel_per_zone_respects_isolation(db_url: str, platform: dict[str, int]) -> None:
    # Wuxi owns X1, X2, X3; X4 is Chengdu's own deal on its own patent, so Wuxi never sees it.
    wuxi = _get(db_url, "funnel", WUXI)
    assert isinstance(wuxi, Funnel) and (wuxi.total, wuxi.deployed, wuxi.dropped) == (3, 1, 1)
    # Chengdu owns X4 and supplied X3; Wuxi's private X1 (all Wuxi resources) and X2 never appear.
    chengdu = _get(db_url, "funnel", CHENGDU)
    assert isinstance(chengdu, Funnel) and (chengdu.total, chengdu.deployed, chengdu.dropped) == (2, 0, 0)
    chains = _get(db_url, "by-industry-chain", CHENGDU)
    assert isinstance(chains, Breakdown) and sorted(r.key for r in chains.rows) == ["新能源", "航空"]
    assert sum(r.contract_value for r in chains.rows) == 0  # X1's contract (100) stays in Wuxi
    # Xi'an only supplied X2.
    xian = _get(db_url, "funnel", XIAN)
    assert isinstance(xian, Funnel) and (xian.total, xian.dropped) == (1, 1)


def _rows(result: object) -> list[tuple[str, int, int, int, int, float]]:
    assert isinstance(result, Breakdown)
    return [(r.key, r.deals, r.open, r.deployed, r.dropped, r.contract_value) for r in result.rows]


def test_breakdowns(db_url: str, platform: dict[str, int]) -> None:
    # 新能源: X1 (deployed, contract 100) + X3 (open); 智能制造: X2 dropped; 航空: X4 open.
    assert _rows(_get(db_url, "by-industry-chain", PLATFORM)) == [
        ("新能源", 2, 1, 1, 0, 100.0),
        ("智能制造", 1, 0, 0, 1, 0.0),
        ("航空", 1, 1, 0, 0, 0.0),
    ]
    # Achievement owners: X3 and X4 use A2 (四川大学), X1 A1 (江南大学), X2 A3 (西安交通大学).
    assert _rows(_get(db_url, "by-university", PLATFORM)) == [
        ("四川大学", 2, 2, 0, 0, 0.0),
        ("江南大学", 1, 0, 1, 0, 100.0),
        ("西安交通大学", 1, 0, 0, 1, 0.0),
    ]
    # The owning zone decides: wuxi (江苏, east) owns X1–X3, chengdu (四川, west) owns X4.
    assert _rows(_get(db_url, "by-province", PLATFORM)) == [
        ("江苏省", 3, 1, 1, 1, 100.0),
        ("四川省", 1, 1, 0, 0, 0.0),
    ]
    assert _rows(_get(db_url, "by-region", PLATFORM)) == [
        ("东部", 3, 1, 1, 1, 100.0),
        ("西部", 1, 1, 0, 0, 0.0),
    ]
    by_zone = _get(db_url, "by-zone", PLATFORM)
    assert isinstance(by_zone, Breakdown) and by_zone.rows[0].conversion_rate == pytest.approx(1 / 3)


def test_cross_zone_flows(db_url: str, platform: dict[str, int]) -> None:
    # X2: wuxi demand ← xian patent; X3: wuxi demand ← chengdu patent and expert (one deal, one flow).
    # X1 and X4 use only their own zone's resources.
    flows = _get(db_url, "cross-zone", PLATFORM)
    assert isinstance(flows, CrossZone)
    assert [(f.demand_zone, f.supplier_zone, f.deals, f.deployed) for f in flows.flows] == [
        ("wuxi", "chengdu", 1, 0),
        ("wuxi", "xian", 1, 0),
    ]
    xian = _get(db_url, "cross-zone", XIAN)
    assert isinstance(xian, CrossZone) and [(f.demand_zone, f.supplier_zone) for f in xian.flows] == [
        ("wuxi", "xian")
    ]


def test_province_maps(db_url: str, platform: dict[str, int]) -> None:
    deal_map = _get(db_url, "deal-map", PLATFORM)
    assert isinstance(deal_map, ProvinceMap)
    counts = {p.short_name: p.count for p in deal_map.provinces}
    assert (counts["江苏"], counts["四川"], counts["西藏"]) == (3, 1, 0)
    assert len(deal_map.provinces) == 31
    assert deal_map.regions == {"东部": 3, "中部": 0, "西部": 1, "东北": 0}
    zone_map = _get(db_url, "zone-map", WUXI)
    assert isinstance(zone_map, ProvinceMap)
    # the registry: 江苏 17, 山东 13; regions 68/39/39/16 (see test_zone_registry.py)
    assert zone_map.provinces[0].short_name == "江苏" and zone_map.provinces[0].count == 17
    assert zone_map.regions == {"东部": 68, "中部": 39, "西部": 39, "东北": 16}


def test_monthly_report(db_url: str, platform: dict[str, int]) -> None:
    with session_scope(db_url) as session:
        jan = analytics.monthly_report(session, user=officer(WUXI.zone_code), month="2026-01", tz=BEIJING)
        # January (days 0–30): X1 0,2,6,16,26 (5 events), X2 10,14,20,30 (4), X3 5,9,19 (3) = 12 changes;
        # started X1, X2, X3; X2 dropped on day 30 (Jan 31); X1's pilot contract 100 was signed on day 16.
        a = jan.activity
        assert (len(a.events), a.started, a.deployed, a.dropped, a.contract_value, a.funding_amount) == (
            12,
            3,
            0,
            1,
            100.0,
            0.0,
        )
        assert jan.new_records["需求"] == 1 and jan.new_records["成果"] == 1  # D1 and A1
        feb = analytics.monthly_report(session, user=officer(PLATFORM.zone_code), month="2026-02", tz=BEIJING)
        # February (days 31–58): X1 funding 36 (500) and deployed 56; X4 started 40 and moved on 44.
        b = feb.activity
        assert (len(b.events), b.started, b.deployed, b.funding_amount) == (4, 1, 1, 500.0)
        assert (
            analytics.monthly_report(
                session, user=officer(WUXI.zone_code), month="2025-12", tz=BEIJING
            ).activity.events
            == []
        )
        with pytest.raises(InvalidInput, match="YYYY-MM"):
            analytics.monthly_report(session, user=officer(WUXI.zone_code), month="2026-13", tz=BEIJING)


def test_months_are_beijing_calendar_months(db_url: str) -> None:
    """Zone staff keep Beijing time: a record or a stage change at 2026-11-30 20:00 UTC (12-01 04:00
    北京时间) belongs to December, one at 15:59 UTC (23:59 北京时间) still to November."""
    load_registry(db_url)
    last_of_november, first_of_december = (
        datetime(2026, 11, 30, 15, 59, tzinfo=UTC),
        datetime(2026, 11, 30, 20, 0, tzinfo=UTC),
    )
    with session_scope(db_url) as s:
        demand = create_record(
            s, Demand(zone_code="wuxi", title="储能热管理", organization="无锡甲公司"), scope=Scope.platform()
        )
        patent = create_record(
            s, Achievement(zone_code="wuxi", title="相变储热材料", owner="江南大学"), scope=Scope.platform()
        )
        for stored, created in ((demand, first_of_december), (patent, last_of_november)):
            table = table_for(stored.kind)
            s.execute(update(table).where(table.id == stored.id).values(created_at=created))
    with session_scope(db_url) as s:
        deal = deals.start_deal(
            s,
            demand_id=demand.id,
            resources=[("achievement", patent.id)],
            actor="officer",
            scope=WUXI,
            at=last_of_november,
        )
        deals.advance(
            s, deal.id, to_stage=DealStage.CONTACTED, actor="officer", scope=WUXI, at=first_of_december
        )
    trend = _get(db_url, "trend", WUXI)
    assert isinstance(trend, MonthlyCounts) and trend.months == ["2026-11", "2026-12"]
    assert (trend.series["需求"], trend.series["成果"]) == ([0, 1], [1, 0])
    with session_scope(db_url) as s:
        nov, dec = (
            analytics.monthly_report(s, user=officer(WUXI.zone_code), month=m, tz=BEIJING)
            for m in ("2026-11", "2026-12")
        )
    assert [(e.at, e.to_label) for e in nov.activity.events] == [("2026-11-30 23:59", "已撮合")]
    assert [(e.at, e.to_label) for e in dec.activity.events] == [("2026-12-01 04:00", "已对接")]
    assert (nov.activity.started, dec.activity.started) == (1, 0)
    assert (nov.new_records["需求"], nov.new_records["成果"]) == (0, 1)
    assert (dec.new_records["需求"], dec.new_records["成果"]) == (1, 0)
    assert dec.activity.timezone == "Asia/Shanghai"
    assert dec.activity.table().columns[0] == "时间 (北京时间)"


def test_month_of_reads_the_wall_clock_of_the_zone() -> None:
    edge = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    assert metrics.month_of(edge, BEIJING) == "2026-12"
    assert metrics.month_of(edge.replace(tzinfo=None), BEIJING) == "2026-12"  # SQLite's naive UTC
    assert metrics.month_of(edge, UTC) == "2026-11"
    assert metrics.month_of(datetime(2026, 12, 31, 16, 0, tzinfo=UTC), BEIJING) == "2027-01"


def test_export_csv_and_xlsx(db_url: str, platform: dict[str, int]) -> None:
    with session_scope(db_url) as session:
        csv_file = analytics.export(
            session, "by-industry-chain", user=officer(PLATFORM.zone_code), fmt="csv", tz=BEIJING
        )
        text = csv_file.content.decode("utf-8-sig")
        assert text.splitlines()[0] == "产业链,项目数,进行中,已落地,已终止,落地转化率,合同金额(万元)"
        assert text.splitlines()[1] == "新能源,2,1,1,0,50.0%,100.0"  # 1 deployed of 2
        assert csv_file.filename.startswith("by-industry-chain-platform-") and csv_file.filename.endswith(
            ".csv"
        )
        xlsx = analytics.export(session, "funnel", user=officer(WUXI.zone_code), fmt="xlsx", tz=BEIJING)
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet is not None
        values = list(sheet.iter_rows(values_only=True))
        assert values[0] == ("阶段", "曾到达", "当前", "进入下一阶段比例", "停留天数中位数")
        assert values[1][:2] == ("已撮合", 3)  # Wuxi's three deals all start matched
        with pytest.raises(ValueError, match="choose from"):
            analytics.export(session, "funnel", user=officer(WUXI.zone_code), fmt="pdf", tz=BEIJING)


def test_stats_command_prints_and_exports(
    db_url: str, platform: dict[str, int], tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TECHBRIDGE_DATABASE_URL", db_url)
    get_settings.cache_clear()
    _register()
    target = f"{tmp_path}/funnel.xlsx"
    result = CliRunner().invoke(app, ["stats", "funnel", "--zone", "wuxi", "--export", target])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "共 3 项, 落地转化率 33.3%" in result.output  # 1 deployed of Wuxi's 3
    assert "场景落地" in result.output and f"已导出到 {target}" in result.output
    assert load_workbook(target).active is not None


def test_xlsx_export_drops_control_characters_excel_cannot_hold() -> None:
    from techbridge.analytics.export import to_xlsx
    from techbridge.analytics.models import TableData

    table = TableData(title="按产业链\x07", columns=["产业链\x00", "项目数"], rows=[["新能源\x1b", 3]])
    sheet = load_workbook(io.BytesIO(to_xlsx(table))).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["产业链", "项目数"], ["新能源", 3]]
    assert sheet.title == "按产业链"
