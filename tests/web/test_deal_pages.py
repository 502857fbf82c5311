"""Deal board and detail with the stage form; the 科创云图 dashboard, funnel page and monthly report."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from techbridge.config import Settings
from techbridge.domain.access import Scope
from techbridge.domain.accounts import officer
from techbridge.domain.deals import DealStage
from techbridge.services import deals
from techbridge.store.db import session_scope

from .conftest import BEIJING, PRIVATE_DEMAND, Html

PATENT = "一种隔膜涂布装置"  # Chengdu's shared patent


def _deal(settings: Settings, ids: dict[str, dict[str, int]], *, at: datetime | None = None) -> int:
    with session_scope(settings.resolved_database_url) as session:
        deal = deals.start_deal(
            session,
            demand_id=ids["demand"][PRIVATE_DEMAND],
            resources=[("achievement", ids["achievement"][PATENT])],
            actor="wuxi_admin",
            scope=Scope("wuxi"),
            note="匹配结果第一名",
            at=at,
        )
    return deal.id


def test_board_and_detail_show_the_deal(
    wuxi_admin: TestClient, settings: Settings, ids: dict[str, dict[str, int]], html: type[Html]
) -> None:
    deal_id = _deal(settings, ids)
    board = html(wuxi_admin.get("/deals").text)
    columns = dict(zip(board.texts(".board-col h2 span:first-child"), board.texts(".board-col"), strict=True))
    assert list(columns) == ["已撮合", "已对接", "洽谈", "中试", "孵化", "融资", "场景落地"]
    assert PRIVATE_DEMAND in columns["已撮合"] and "跨园区" in columns["已撮合"]
    detail = html(wuxi_admin.get(f"/deals/{deal_id}").text)
    assert detail.texts(".stage-step.current")[0].startswith("已撮合")
    assert "匹配结果第一名" in detail.texts(".timeline")[0]
    assert detail.texts("#to_stage option[selected]") == ["已对接"]


def test_advance_form_records_note_attachment_and_rejects_a_skip(
    wuxi_admin: TestClient, settings: Settings, ids: dict[str, dict[str, int]], html: type[Html]
) -> None:
    deal_id = _deal(settings, ids)
    token = html(wuxi_admin.get(f"/deals/{deal_id}").text).csrf()
    moved = wuxi_admin.post(
        f"/deals/{deal_id}/advance",
        data={"csrf_token": token, "to_stage": "contacted", "note": "已约见企业技术总监"},
        files={"attachments": ("纪要.docx", b"x" * 2048, "application/octet-stream")},
        follow_redirects=True,
    )
    page = html(moved.text)
    assert page.texts(".stage-step.current")[0].startswith("已对接")
    assert (
        "已约见企业技术总监" in page.texts(".timeline")[0]
        and "纪要.docx (2.0 KB)" in page.texts(".timeline")[0]
    )
    skip = wuxi_admin.post(f"/deals/{deal_id}/advance", data={"csrf_token": token, "to_stage": "funding"})
    # Not an error page: the deal's page again, the reason next to the form, the chosen stage kept.
    assert skip.status_code == 422
    again = html(skip.text)
    assert again.texts("#stage-error")[0].endswith("跳过阶段 (洽谈、中试、孵化) 必须说明原因")
    assert again.texts("#to_stage option[selected]") == ["融资"]
    assert again.soup.select_one("#note")["aria-invalid"] == "true"
    assert again.texts("h1") == [PRIVATE_DEMAND]
    with session_scope(settings.resolved_database_url) as session:
        assert deals.get_deal(session, deal_id, user=officer("wuxi")).stage == "contacted"


def test_enterprise_sees_its_deal_but_no_stage_form(
    ent: TestClient, settings: Settings, ids: dict[str, dict[str, int]], html: type[Html]
) -> None:
    deal_id = _deal(settings, ids)
    page = html(ent.get(f"/deals/{deal_id}").text)
    assert page.texts("h1") == [PRIVATE_DEMAND] and page.soup.select("#to_stage") == []
    token = page.csrf()
    refused = ent.post(f"/deals/{deal_id}/drop", data={"csrf_token": token, "reason": "x"})
    assert refused.status_code == 403


def test_dashboard_funnel_and_report_render(
    wuxi_admin: TestClient,
    cd_admin: TestClient,
    settings: Settings,
    ids: dict[str, dict[str, int]],
    html: type[Html],
) -> None:
    _deal(settings, ids)
    dash = html(wuxi_admin.get("/dashboard").text)
    kpis = dict(zip(dash.texts(".stat-label"), dash.texts(".stat-value"), strict=True))
    assert (kpis["撮合项目"], kpis["已场景落地"], kpis["落地转化率"]) == ("1", "0", "0.0%")
    assert len(dash.soup.select("[data-chart]")) == 6 and len(dash.soup.select("[data-map-chart]")) == 2
    funnel = html(wuxi_admin.get("/dashboard/funnel").text)
    assert funnel.texts("table.data tbody tr td:first-child")[:2] == ["已撮合", "已对接"]
    assert funnel.texts("p.sub")[0].startswith("无锡")  # the page names the zone it counts
    month = datetime.now(BEIJING).strftime("%Y-%m")  # the report's months are Beijing months
    report = html(wuxi_admin.get(f"/reports/monthly?month={month}").text)
    assert report.texts("h1")[0].endswith(month)
    assert "匹配结果第一名" in " ".join(report.texts("table.data"))
    # Chengdu supplied the patent, so it counts the deal; asking for Wuxi's view is refused.
    assert html(cd_admin.get("/dashboard").text).texts(".stat-value")[0] == "1"
    assert cd_admin.get("/dashboard?zone=wuxi").status_code == 403


def test_the_monthly_report_counts_beijing_calendar_months(
    wuxi_admin: TestClient, settings: Settings, ids: dict[str, dict[str, int]], html: type[Html]
) -> None:
    """A move at 2026-11-30 20:00 UTC happened on 12-01 04:00 北京时间: December's report lists it."""
    deal_id = _deal(settings, ids, at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC))  # 18:00 北京时间
    with session_scope(settings.resolved_database_url) as session:
        deals.advance(
            session,
            deal_id,
            to_stage=DealStage.CONTACTED,
            actor="wuxi_admin",
            scope=Scope("wuxi"),
            at=datetime(2026, 11, 30, 20, 0, tzinfo=UTC),
        )
    changes = "section:has(h2:-soup-contains('阶段变更明细'))"
    december = html(wuxi_admin.get("/reports/monthly?month=2026-12").text)
    assert [row.split()[:2] for row in december.texts(f"{changes} tbody tr")] == [["2026-12-01", "04:00"]]
    assert "时间 (北京时间)" in december.texts(f"{changes} th")
    november = html(wuxi_admin.get("/reports/monthly?month=2026-11").text)
    assert [row.split()[:2] for row in november.texts(f"{changes} tbody tr")] == [["2026-11-30", "18:00"]]
    assert (november.texts(".stat-value")[:2], december.texts(".stat-value")[:2]) == (["1", "1"], ["0", "1"])
