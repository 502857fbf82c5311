"""The pages keep the same reading rule as the API (issue 9, items 3, 4 and 13): the deal board, the deal
page, the monthly report and an instrument's booking calendar as another zone sees them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient

from techbridge.config import Settings
from techbridge.domain.access import Scope
from techbridge.domain.accounts import Role
from techbridge.domain.records import Instrument
from techbridge.services import accounts, deals
from techbridge.store.bookings import create_booking
from techbridge.store.db import session_scope
from techbridge.store.records import create_record

from .conftest import PASSWORD, PRIVATE_DEMAND, Html, _login

PATENT = "一种隔膜涂布装置"  # Chengdu's shared patent
NOTE = "内部备注: 企业预算可再谈"
FIRM = "无锡锂能科技有限公司"
BEIJING = ZoneInfo("Asia/Shanghai")


def _cross_zone_deal(settings: Settings, ids: dict[str, dict[str, int]]) -> int:
    url = settings.resolved_database_url
    with session_scope(url) as session:
        deal = deals.start_deal(
            session,
            demand_id=ids["demand"][PRIVATE_DEMAND],
            resources=[("achievement", ids["achievement"][PATENT])],
            actor="wuxi_admin",
            scope=Scope("wuxi"),
            note=NOTE,
        )
        deals.advance(
            session, deal.id, to_stage="contacted", actor="wuxi_admin", scope=Scope("wuxi"), note=NOTE
        )  # type: ignore[arg-type]
    return deal.id


def test_supplier_zone_board_and_deal_page_hide_the_owner_zones_private_side(
    cd_admin: TestClient, wuxi_admin: TestClient, settings: Settings, ids: dict[str, dict[str, int]]
) -> None:
    """Item 4: the kanban showed Wuxi's private demand, the firm and the history, with dead links."""
    deal_id = _cross_zone_deal(settings, ids)
    board = cd_admin.get("/deals")
    page = cd_admin.get(f"/deals/{deal_id}")
    for response in (board, page):
        assert response.status_code == 200
        for secret in (PRIVATE_DEMAND, FIRM, NOTE, "wuxi_admin"):
            assert secret not in response.text, secret
    detail = Html(page.text)
    assert "其他园区的非公开记录" in detail.texts("h1")[0]
    assert PATENT in detail.texts(".card")[0]
    # No link to a page Chengdu would get a 404 for.
    links = [a["href"] for a in detail.soup.select("main a[href]")]
    assert f"/demands/{ids['demand'][PRIVATE_DEMAND]}" not in links
    assert all(cd_admin.get(link).status_code == 200 for link in links if link.startswith("/"))
    own = wuxi_admin.get(f"/deals/{deal_id}").text
    assert PRIVATE_DEMAND in own and NOTE in own and FIRM in own


def test_monthly_report_of_an_enterprise_lists_only_its_own_deals(
    app: FastAPI, settings: Settings, ids: dict[str, dict[str, int]], ent: TestClient
) -> None:
    """Item 3: chengdu_enterprise's /reports/monthly listed Wuxi deals with their titles and notes."""
    _cross_zone_deal(settings, ids)
    with session_scope(settings.resolved_database_url) as s:
        accounts.create_user(
            s,
            username="cd_ent",
            password=PASSWORD,
            role=Role.ENTERPRISE,
            zone_code="chengdu",
            organization="成都航宇制造",
        )
    cd_ent = _login(TestClient(app), "cd_ent")
    month = datetime.now(BEIJING).strftime("%Y-%m")  # the report's months are Beijing months
    for path in (f"/reports/monthly?month={month}", "/dashboard", "/dashboard/funnel", "/deals"):
        response = cd_ent.get(path)
        assert response.status_code == 200, path
        for secret in (PRIVATE_DEMAND, FIRM, NOTE, "wuxi_admin"):
            assert secret not in response.text, (path, secret)
    # The Wuxi enterprise whose demand it is sees its deal in its own report.
    assert PRIVATE_DEMAND in ent.get(f"/reports/monthly?month={month}").text


def test_other_zones_see_only_busy_slots_of_a_shared_instrument(
    cd_admin: TestClient, wuxi_admin: TestClient, settings: Settings
) -> None:
    """Item 13: every zone that saw a shared instrument saw who booked it and why."""
    url = settings.resolved_database_url
    tomorrow = datetime.now(BEIJING).date() + timedelta(days=1)
    starts = datetime.combine(tomorrow, datetime.min.time(), BEIJING).replace(hour=10)
    with session_scope(url) as s:
        instrument = create_record(
            s,
            Instrument(zone_code="wuxi", name="共享透射电镜", owner="江南大学", visibility="shared"),
            scope=Scope.platform(),
        ).id
        create_booking(
            s,
            instrument,
            scope=Scope("wuxi"),
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            booked_by="赵研究员",
            purpose="保密课题-固态电解质",
        )
    week = tomorrow.isoformat()
    outside = Html(cd_admin.get(f"/instruments/{instrument}?week={week}").text)
    slots = outside.texts(".cal-event")
    assert slots == ["10:00–12:00 已预约"], slots
    assert "赵研究员" not in str(outside.soup) and "保密课题" not in str(outside.soup)
    inside = Html(wuxi_admin.get(f"/instruments/{instrument}?week={week}").text)
    assert (
        "赵研究员" in inside.texts(".cal-event")[0] and "保密课题-固态电解质" in inside.texts(".cal-event")[0]
    )
    # A clashing request from Chengdu is refused without naming the booker.
    refused = cd_admin.post(
        f"/instruments/{instrument}/bookings",
        data={
            "csrf_token": outside.csrf(),
            "day": week,
            "start": "11:00",
            "end": "13:00",
            "purpose": "成都测试",
        },
        follow_redirects=True,
    )
    assert Html(refused.text).texts(".flash-error")[0].endswith("10:00–12:00 已被预约 ×")
    assert "赵研究员" not in refused.text
