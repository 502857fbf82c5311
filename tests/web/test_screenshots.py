"""Screenshots of the main pages on the test seed plus the shipped demo data.

Each shot also checks that the page it shows rendered what it is about. Set
``TECHBRIDGE_SCREENSHOT_DIR`` (``scripts/screenshots.py`` sets it to ``docs/screenshots``) to keep them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from techbridge.config import Settings
from techbridge.services.demo import DEMO_PASSWORD, load_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_screenshots_of_the_main_pages(
    page: Page,
    login_as: Callable[[str], None],
    web_db_url: str,
    ids: dict[str, dict[str, int]],
    private_demand_id: int,
    tmp_path: Path,
    worker: object,
) -> None:
    load_demo(web_db_url, settings=Settings(database_url=web_db_url, data_dir=tmp_path))
    out = Path(os.environ.get("TECHBRIDGE_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)

    def shoot(name: str, ready: str) -> None:
        expect(page.locator(ready).first).to_be_visible()
        path = out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 20_000, f"{name}.png looks blank"

    page.goto("/login")
    shoot("login", ".login-card")
    login_as("wuxi_admin")
    shoot("home", "#chart-chains[data-rendered=true] svg")
    page.goto("/demands")
    shoot("demands", "td .row-title")
    page.goto("/achievements?kind=invention&trl_min=5")
    shoot("achievements", "td .row-title")
    page.goto(f"/demands/{private_demand_id}/matches")
    shoot("matches", "#matches-achievement .reasons")
    today = date.today()
    next_week = (today + timedelta(days=7 - today.weekday())).isoformat()  # the seeded booking's week
    page.goto(f"/instruments/{ids['instrument']['场发射扫描电子显微镜']}?week={next_week}")
    shoot("instrument-calendar", ".cal-event")
    bad = tmp_path / "需求导入.csv"
    bad.write_text(
        "需求名称,需求单位,预算下限,截止日期\n激光焊接质量在线监测,无锡激光公司,10,2026-12-31\n"
        "焊缝,无锡某公司,很多,2026-02-30\n",
        encoding="utf-8",
    )
    page.goto("/import")
    page.set_input_files("#file", str(bad))
    page.click("button:has-text('上传并校验')")
    expect(page.locator("#row-errors tbody tr").first).to_be_visible(
        timeout=60_000
    )  # the worker validated it
    shoot("import-errors", "#row-errors tbody tr")
    unknown = tmp_path / "委托课题.csv"
    unknown.write_text("课题名称,委托企业,联系人\n焊缝缺陷视觉识别,无锡激光公司,王工\n", encoding="utf-8")
    page.goto("/import")
    page.set_input_files("#file", str(unknown))
    page.click("button:has-text('上传并校验')")
    shoot("import-mapping", "#mapping-form select")
    page.goto("/jobs")
    page.click("#run-batch-match")
    expect(page.locator("#match-result")).to_be_visible(timeout=120_000)
    page.goto("/jobs")
    shoot("jobs", "#job-table tbody tr")
    page.context.clear_cookies()
    page.goto("/login")  # the demo's sample deals told its enterprise of each stage
    page.fill("#username", "wuxi_enterprise")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto("/notifications")
    shoot("notifications", ".notice.unread")
