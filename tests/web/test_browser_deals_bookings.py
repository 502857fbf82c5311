"""The zone's daily work clicked through in headless Chromium: an enterprise starts a deal with a note, the
university that owns the patent sees it and answers with a file, an officer's stage error shows on the
page, and an instrument owner approves a booking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from techbridge.domain.access import Scope
from techbridge.services import deals
from techbridge.store.db import session_scope

from .conftest import PRIVATE_DEMAND

pytestmark = pytest.mark.browser

OWN_PATENT = "一种锂电池陶瓷涂覆隔膜及其制备方法"


def _logout(page: Page) -> None:
    page.click("button:has-text('退出')")
    expect(page.locator(".login-card")).to_be_visible()


def test_enterprise_starts_a_deal_with_a_note_and_the_university_takes_part(
    page: Page, login_as: Callable[[str], None], private_demand_id: int, tmp_path: Path
) -> None:
    login_as("wuxi_ent")
    page.goto(f"/demands/{private_demand_id}/matches")
    page.locator("#matches-achievement .match", has_text=OWN_PATENT).locator("a:has-text('发起对接')").click()
    expect(page.locator("h1")).to_have_text("确认发起对接")
    expect(page.locator(".confirm-resource")).to_have_text(OWN_PATENT)
    page.fill("#deal-note", "希望获得陶瓷涂覆工艺的许可, 请江南大学联系王经理")
    page.click("button:has-text('确认发起对接')")
    expect(page.locator(".flash-success")).to_contain_text("已发起对接")
    expect(page.locator(".timeline").first).to_contain_text("希望获得陶瓷涂覆工艺的许可")
    deal_url = page.url
    _logout(page)

    login_as("jn_univ")
    page.click("nav >> text=撮合项目")
    expect(page.locator(".sub")).to_contain_text("共 1 个项目")
    page.click(f".deal-card:has-text('{PRIVATE_DEMAND}')")
    expect(page).to_have_url(deal_url)
    expect(page.locator(".contact-side").first).to_contain_text("无锡锂能科技有限公司")
    expect(page.locator(".contact-side").first).to_contain_text("王经理")
    draft = tmp_path / "许可合同草稿.pdf"
    draft.write_bytes(b"%PDF-1.4\n" + b"0" * 4096)
    page.fill("#note-body", "许可合同草稿见附件, 请审阅")
    page.set_input_files("#note-files", str(draft))
    page.click("button:has-text('发布留言')")
    expect(page.locator(".flash-success")).to_contain_text("留言已发布")
    chip = page.locator(".deal-note a.file-chip").first
    expect(chip).to_contain_text("许可合同草稿.pdf")
    expect(chip.locator("svg.icon")).to_have_count(1)  # the paperclip is drawn, not a font glyph
    _logout(page)

    login_as("wuxi_ent")
    page.goto(deal_url)
    with page.expect_download() as download:
        page.locator(".deal-note a.file-chip").first.click()
    saved = tmp_path / "downloaded.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "许可合同草稿.pdf"
    assert saved.read_bytes() == draft.read_bytes()


def test_a_stage_error_is_shown_on_the_page_and_fixed_with_a_reason(
    page: Page, login_as: Callable[[str], None], web_db_url: str, ids: dict[str, dict[str, int]]
) -> None:
    with session_scope(web_db_url) as session:
        deal = deals.start_deal(
            session,
            demand_id=ids["demand"][PRIVATE_DEMAND],
            resources=[("achievement", ids["achievement"][OWN_PATENT])],
            actor="wuxi_admin",
            scope=Scope("wuxi"),
        )
    login_as("wuxi_admin")
    page.goto(f"/deals/{deal.id}")
    page.select_option("#to_stage", "deployed")
    page.click("button:has-text('更新阶段')")
    expect(page.locator("#stage-error")).to_contain_text("跳过阶段")
    expect(page.locator("h1")).to_have_text(PRIVATE_DEMAND)  # the deal's page, not an error page
    expect(page.locator("#to_stage")).to_have_value("deployed")
    expect(page.locator("#note")).to_be_focused()
    page.fill("#note", "专利许可无需中试, 企业直接量产")
    page.click("button:has-text('更新阶段')")
    expect(page.locator(".flash-success")).to_contain_text("阶段已更新")
    expect(page.locator(".stage-step.current")).to_contain_text("场景落地")


def test_an_instrument_owner_approves_a_booking(
    page: Page, login_as: Callable[[str], None], ids: dict[str, dict[str, int]]
) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    wednesday = today + timedelta(days=7 - today.weekday() + 2)
    instrument = ids["instrument"]["场发射扫描电子显微镜"]
    login_as("wuxi_ent")
    page.goto(f"/instruments/{instrument}?week={wednesday.isoformat()}")
    page.fill("#b-day", wednesday.isoformat())
    page.fill("#b-start", "14:00")
    page.fill("#b-end", "15:30")
    page.fill("#b-purpose", "隔膜截面形貌")
    page.click("button:has-text('提交预约')")
    expect(page.locator(".flash-success")).to_contain_text("等待仪器所属单位审批")
    expect(page.locator(".cal-day .cal-event-pending")).to_contain_text("14:00–15:30")
    _logout(page)

    login_as("jn_lab")
    page.click("nav >> text=我的预约")
    row = page.locator("#to-decide .booking-pending", has_text="隔膜截面形貌")
    expect(row).to_contain_text("王经理")
    row.locator("button:has-text('批准')").click()
    expect(page.locator(".flash-success")).to_contain_text("已批准预约")
    _logout(page)

    login_as("wuxi_ent")
    page.click("nav >> text=我的预约")
    expect(page.locator("#my-bookings .booking-approved", has_text="隔膜截面形貌")).to_contain_text("已批准")
