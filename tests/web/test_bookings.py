"""Instrument bookings through the pages: opening hours, no past slots, owner approval, cancel, my
bookings and the free-slot search. The seeded microscope (owned by 江南大学分析测试中心, account jn_lab)
opens 周一至周五 08:30-17:30 and has one booking next Tuesday 09:00–12:00 by 王经理 (wuxi_ent)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from .conftest import _login

SH = ZoneInfo("Asia/Shanghai")


def next_monday() -> date:
    today = datetime.now(SH).date()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture
def microscope(ids: dict[str, dict[str, int]]) -> int:
    return ids["instrument"]["场发射扫描电子显微镜"]


@pytest.fixture
def lab(app: FastAPI) -> TestClient:
    return _login(TestClient(app), "jn_lab")


def _book(
    client: TestClient, html: Callable, instrument: int, day: date, start: str, end: str, purpose: str = "XRD"
):
    page = html(client.get(f"/instruments/{instrument}?week={day.isoformat()}").text)
    response = client.post(
        f"/instruments/{instrument}/bookings",
        data={
            "csrf_token": page.csrf(),
            "day": day.isoformat(),
            "start": start,
            "end": end,
            "purpose": purpose,
        },
    )
    return html(response.text)


def test_calendar_shows_the_week_within_opening_hours(ent: TestClient, html, microscope: int) -> None:
    monday = next_monday()
    page = html(ent.get(f"/instruments/{microscope}?week={monday.isoformat()}").text)
    assert page.texts(".cal-event") == ["09:00–12:00 王经理 隔膜表面形貌表征"]
    assert len(page.texts(".cal-head")) == 8
    assert page.texts(".cal-hour")[0] == "08:00" and page.texts(".cal-hour")[-1] == "17:00"
    assert "开放时间: 周一至周五 08:30-17:30" in page.texts(".opening-hours")[0]
    assert page.soup.select_one("#b-day")["min"] == datetime.now(SH).date().isoformat()


def test_overlaps_past_slots_and_closed_hours_are_refused_on_the_page(
    ent: TestClient, html, microscope: int
) -> None:
    tuesday = next_monday() + timedelta(days=1)
    clash = _book(ent, html, microscope, tuesday, "11:00", "13:00")
    assert clash.texts(".flash-error")[0].endswith("09:00–12:00 已被 王经理 预约 ×")
    evening = _book(ent, html, microscope, tuesday, "18:00", "19:00")
    assert evening.texts(".flash-error") == ["所选时段不在开放时间内 (开放时间: 周一至周五 08:30-17:30) ×"]
    saturday = _book(ent, html, microscope, tuesday + timedelta(days=4), "09:00", "10:00")
    assert "不在开放时间内" in saturday.texts(".flash-error")[0]
    past = _book(ent, html, microscope, date.today() - timedelta(days=7), "09:00", "10:00")
    assert past.texts(".flash-error") == ["不能预约已经过去的时段 ×"]
    backwards = _book(ent, html, microscope, tuesday, "15:00", "14:00")
    assert backwards.texts(".flash-error") == ["结束时间必须晚于开始时间 ×"]
    assert backwards.texts(".cal-event") == ["09:00–12:00 王经理 隔膜表面形貌表征"]


def test_a_request_waits_for_the_owner_who_approves_it(
    ent: TestClient, lab: TestClient, wuxi_admin: TestClient, cd_admin: TestClient, html, microscope: int
) -> None:
    tuesday = next_monday() + timedelta(days=1)
    after = _book(ent, html, microscope, tuesday, "13:00", "14:30", "SEM 拍照")
    assert after.texts(".flash-success") == ["已提交预约, 等待仪器所属单位审批 ×"]
    assert after.texts(".cal-day .cal-event-pending") == ["13:00–14:30 王经理 待审批 SEM 拍照"]
    mine = html(ent.get("/bookings").text)
    assert mine.texts("#my-bookings .badge") == ["待审批", "已批准"]
    assert not mine.soup.select("#to-decide")  # an enterprise that owns no instrument decides nothing

    owner = html(lab.get("/bookings").text)
    row = owner.soup.select_one("#to-decide .booking-pending")
    assert row is not None and "王经理" in row.get_text()
    booking_id = int(row["id"].split("-")[1])
    # Neither the booker nor another zone's admin may decide.
    for outsider in (ent, cd_admin):
        token = html(outsider.get("/bookings").text).csrf()
        refused = outsider.post(
            f"/bookings/{booking_id}/decision", data={"csrf_token": token, "decision": "approve"}
        )
        assert refused.status_code in (403, 404)
    no_reason = lab.post(
        f"/bookings/{booking_id}/decision", data={"csrf_token": owner.csrf(), "decision": "decline"}
    )
    assert html(no_reason.text).texts(".flash-error") == ["拒绝预约时请填写原因, 以便预约人调整 ×"]
    approved = lab.post(
        f"/bookings/{booking_id}/decision", data={"csrf_token": owner.csrf(), "decision": "approve"}
    )
    assert html(approved.text).texts(".flash-success") == ["已批准预约 ×"]
    assert html(ent.get("/bookings").text).texts("#my-bookings .badge") == ["已批准", "已批准"]
    # The zone admin sees the zone's bookings too.
    assert len(html(wuxi_admin.get("/bookings").text).soup.select("#to-decide .booking-row")) == 2


def test_the_owners_own_booking_needs_no_approval_and_a_cancel_frees_the_slot(
    ent: TestClient, lab: TestClient, html, microscope: int
) -> None:
    wednesday = next_monday() + timedelta(days=2)
    own = _book(lab, html, microscope, wednesday, "09:00", "10:00", "仪器保养")
    assert own.texts(".flash-success") == ["预约成功 ×"]
    booking_id = int(html(lab.get("/bookings").text).soup.select_one("#my-bookings .booking-row")["id"][8:])
    # Someone else may not cancel it; the owner may.
    refused = ent.post(
        f"/bookings/{booking_id}/cancel", data={"csrf_token": html(ent.get("/bookings").text).csrf()}
    )
    assert refused.status_code == 403
    cancelled = lab.post(f"/bookings/{booking_id}/cancel", data={"csrf_token": own.csrf()})
    assert html(cancelled.text).texts(".flash-info") == ["已取消预约 ×"]
    again = _book(ent, html, microscope, wednesday, "09:00", "10:00")
    assert again.texts(".flash-success") == ["已提交预约, 等待仪器所属单位审批 ×"]
    twice = lab.post(f"/bookings/{booking_id}/cancel", data={"csrf_token": own.csrf()})
    assert html(twice.text).texts(".flash-error") == ["该预约已已取消, 无需取消 ×"]


def test_free_slot_search_skips_busy_and_closed_times(ent: TestClient, html, microscope: int) -> None:
    tuesday = next_monday() + timedelta(days=1)
    page = html(ent.get(f"/instruments/{microscope}/free-slots?start={tuesday.isoformat()}&minutes=180").text)
    rows = page.texts("#free-slots tbody tr td:nth-of-type(2)")
    days = page.texts("#free-slots tbody tr td:nth-of-type(1)")
    assert days[0].startswith(tuesday.isoformat())
    # 09:00–12:00 is taken and 17:30 closes the day: Tuesday has one 3-hour slot, Wednesday three.
    assert rows[:4] == ["12:00–15:00", "08:30–11:30", "11:30–14:30", "14:30–17:30"]
    assert all(not d.endswith(("周六", "周日")) for d in days)
    # Booking straight from a found slot.
    form = page.soup.select_one("form.slot-book")
    data = {i["name"]: i.get("value", "") for i in form.select("input")}
    booked = ent.post(f"/instruments/{microscope}/bookings", data={**data, "purpose": "空闲时段预约"})
    assert html(booked.text).texts(".flash-success") == ["已提交预约, 等待仪器所属单位审批 ×"]
    assert (
        "12:00–15:00"
        not in html(
            ent.get(f"/instruments/{microscope}/free-slots?start={tuesday.isoformat()}&minutes=180").text
        ).texts("#free-slots tbody tr td:nth-of-type(2)")[:1]
    )


def test_another_zone_sees_busy_slots_but_not_who_booked_them(
    app: FastAPI, settings, html, microscope: int
) -> None:
    """The microscope is Wuxi's; Chengdu may see it once shared, but not Wuxi's people or purposes."""
    from techbridge.domain.access import Scope
    from techbridge.services import records
    from techbridge.store.db import session_scope
    from techbridge.store.records import update_record

    with session_scope(settings.resolved_database_url) as s:
        update_record(s, "instrument", microscope, {"visibility": "shared"}, scope=Scope.platform())
    assert records  # the record service is what pages use; the store call above only shares the record
    chengdu = _login(TestClient(app), "cd_admin")
    page = html(chengdu.get(f"/instruments/{microscope}?week={next_monday().isoformat()}").text)
    assert page.texts(".cal-day .cal-event") == ["09:00–12:00 已预约"]
    clash = _book(chengdu, html, microscope, next_monday() + timedelta(days=1), "10:00", "11:00")
    assert clash.texts(".flash-error")[0].endswith("09:00–12:00 已被预约 ×")
