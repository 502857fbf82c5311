"""Every page reads in Chinese: no zone codes, role codes, record-kind codes, usernames where a person
expects a name, or UTC times in what a reader sees (URLs, form values and hidden inputs may hold codes)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient

from techbridge.domain.access import Scope
from techbridge.services import deals
from techbridge.store.db import session_scope

from .conftest import PRIVATE_DEMAND, _login

CODES = re.compile(
    r"\b(wuxi|chengdu|platform_admin|zone_admin|enterprise|university|demand|achievement|expert|instrument"
    r"|pilot_platform|organization|matched|contacted|negotiating|pilot_test|pending|approved|UTC)\b"
)
USERNAMES = re.compile(r"\b(wuxi_ent|wuxi_admin|cd_admin|jn_univ|jn_lab)\b")


def visible_text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "input", "textarea", "option", "select", "title"]):
        tag.decompose()
    return soup.get_text(" ", strip=True)


@pytest.fixture
def pages(settings, ids) -> list[str]:
    with session_scope(settings.resolved_database_url) as session:
        deal = deals.start_deal(
            session,
            demand_id=ids["demand"][PRIVATE_DEMAND],
            resources=[
                ("achievement", ids["achievement"]["一种隔膜涂布装置"]),
                ("expert", ids["expert"]["李教授"]),
            ],
            actor="wuxi_admin",
            scope=Scope("wuxi"),
            note="首次对接",
            at=datetime.now(UTC) - timedelta(days=3),
        )
        deals.advance(session, deal.id, to_stage="contacted", actor="wuxi_admin", scope=Scope("wuxi"))
    demand, instrument = ids["demand"][PRIVATE_DEMAND], ids["instrument"]["场发射扫描电子显微镜"]
    return [
        "/", "/demands", f"/demands/{demand}", f"/demands/{demand}/matches", "/achievements",
        f"/achievements/{ids['achievement']['一种隔膜涂布装置']}", "/capability", "/experts",
        f"/experts/{ids['expert']['李教授']}", "/instruments", f"/instruments/{instrument}",
        f"/instruments/{instrument}/free-slots", "/pilot-platforms", "/deals", f"/deals/{deal.id}",
        "/bookings", "/dashboard", "/dashboard/funnel", "/account", "/admin/users", "/import",
        "/reports/monthly",
    ]  # fmt: skip


@pytest.mark.parametrize("username", ["wuxi_admin", "wuxi_ent", "cd_admin", "jn_univ"])
def test_pages_show_names_not_codes(app: FastAPI, pages: list[str], username: str) -> None:
    client = _login(TestClient(app), username)
    for path in pages:
        response = client.get(path)
        if response.status_code in (403, 404):
            continue  # another zone's private record, or an officer's page
        assert response.status_code == 200, path
        text = visible_text(response.text)
        assert not CODES.findall(text), f"{path} as {username} shows codes {sorted(set(CODES.findall(text)))}"
        if path not in ("/account", "/admin/users"):  # where a person looks for login names
            assert not USERNAMES.findall(text), f"{path} as {username}: {USERNAMES.findall(text)}"


def test_the_expert_rank_column_is_labelled_zhicheng(app: FastAPI) -> None:
    client = _login(TestClient(app), "wuxi_admin")
    soup = BeautifulSoup(client.get("/experts").text, "html.parser")
    assert [th.get_text(strip=True) for th in soup.select("table.data th")][:3] == [
        "姓名",
        "所属单位",
        "职称",
    ]
    detail = BeautifulSoup(client.get("/experts/1").text, "html.parser")
    assert "职称" in [dt.get_text(strip=True) for dt in detail.select("dt")]


def test_times_show_in_the_configured_zone_whatever_the_store_hands_back() -> None:
    from datetime import datetime as dt
    from zoneinfo import ZoneInfo

    from techbridge.web.templating import templates

    shown = templates.env.from_string("{{ a | display }} / {{ b | display }} / {{ c | display('%H:%M') }}")
    text = shown.render(
        display_tz=ZoneInfo("Asia/Shanghai"),
        a=dt(2026, 12, 1, 6, 28),  # naive, as SQLite returns it: UTC
        b=dt(2026, 12, 1, 6, 28, tzinfo=UTC),
        c=dt(2026, 12, 1, 23, 30, tzinfo=UTC),
    )
    assert text == "2026-12-01 14:28 / 2026-12-01 14:28 / 07:30"
    utc = templates.env.from_string("{{ a | display }}").render(
        display_tz=ZoneInfo("UTC"), a=dt(2026, 1, 1, 0, 5)
    )
    assert utc == "2026-01-01 00:05"


def test_demo_data_carries_a_sample_banner_on_every_page(app: FastAPI, settings) -> None:
    from techbridge.services.demo import SAMPLE_NOTICE
    from techbridge.store.site_flags import DEMO_NOTICE, set_flag

    client = _login(TestClient(app), "wuxi_ent")
    assert "site-notice" not in client.get("/").text  # a real installation has no banner
    with session_scope(settings.resolved_database_url) as s:
        set_flag(s, DEMO_NOTICE, SAMPLE_NOTICE)  # what load_demo records
    for path in ("/", "/demands", "/deals", "/bookings"):
        banner = BeautifulSoup(client.get(path).text, "html.parser").select_one(".site-notice")
        assert banner is not None and banner.get_text(" ", strip=True).startswith("示例数据")
