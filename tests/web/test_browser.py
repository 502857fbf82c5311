"""The main journeys in real headless Chromium, against the app served by uvicorn on a local port."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from techbridge.domain.access import Scope
from techbridge.store.db import session_scope
from techbridge.store.deals import list_deals

pytestmark = pytest.mark.browser


def test_enterprise_posts_a_demand_sees_its_matches_and_starts_a_deal(
    page: Page,
    login_as: Callable[[str], None],
    web_db_url: str,
    ids: dict[str, dict[str, int]],
    matches_stored: Callable[..., None],
) -> None:
    login_as("wuxi_ent")
    page.click("text=发布需求")
    page.fill("#f-title", "动力电池隔膜热收缩控制")
    page.fill("#f-keywords", "隔膜; 热收缩")
    page.select_option("#f-visibility", "private")
    page.click("button:has-text('发布')")
    expect(page.locator(".flash-success")).to_contain_text("已发布")
    expect(page.locator("h1")).to_have_text("动力电池隔膜热收缩控制")
    demand_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    # What batch matching stores for the new demand: a shared Chengdu patent, with its reasons.
    patent = ids["achievement"]["一种隔膜涂布装置"]
    reasons = [["terms", "内容命中关键词: 隔膜"], ["zone", "跨园区共享资源 (来自 chengdu)"]]
    matches_stored(web_db_url, demand_id, "achievement", [(patent, 0.8, "chengdu", reasons)])
    page.click("text=查看匹配")
    match = page.locator("#matches-achievement .match").first
    expect(match.locator(".match-title")).to_have_text("一种隔膜涂布装置")
    expect(match.locator(".reasons")).to_contain_text("内容命中关键词: 隔膜")
    expect(match.locator(".zone-route")).to_contain_text("无锡国家高新区 → 成都国家高新区")
    expect(match.locator(".match-owner")).to_have_text("权属单位 四川大学")

    match.locator("a:has-text('发起对接')").click()
    expect(page.locator("h1")).to_have_text("确认发起对接")
    page.click("button:has-text('确认发起对接')")
    expect(page.locator(".flash-success")).to_contain_text("已发起对接")
    with session_scope(web_db_url) as s:
        deals = list_deals(s, scope=Scope("wuxi"), demand_id=demand_id)
    assert len(deals) == 1
    expect(page).to_have_url(f"{page.url.split('/deals/')[0]}/deals/{deals[0].id}")
    expect(page.locator("h1")).to_have_text("动力电池隔膜热收缩控制")
    assert [(r.kind, r.record_id) for r in deals[0].resources] == [
        ("achievement", ids["achievement"]["一种隔膜涂布装置"])
    ]


def test_another_zones_admin_cannot_see_the_private_demand(
    page: Page, login_as: Callable[[str], None], private_demand_id: int
) -> None:
    login_as("cd_admin")
    page.goto("/demands")
    expect(page.locator("td .row-title")).not_to_contain_text(["锂电池隔膜涂覆工艺升级"])
    page.fill("#q", "锂电池隔膜")
    page.click("button:has-text('搜索')")
    expect(page.locator(".empty-title")).to_have_text("没有符合条件的记录, 请调整筛选条件")
    response = page.goto(f"/demands/{private_demand_id}")
    assert response is not None and response.status == 404
    expect(page.locator(".empty-title")).to_contain_text("不在您的园区可见范围内")


def test_admin_uploads_a_bad_import_file_and_sees_the_row_error(
    page: Page, login_as: Callable[[str], None], tmp_path: Path, worker: object
) -> None:
    bad = tmp_path / "需求导入.csv"
    bad.write_text(
        "需求名称,需求单位,预算下限\n激光焊接质量在线监测,无锡激光公司,10\n焊缝,无锡某公司,很多\n",
        encoding="utf-8",
    )
    login_as("wuxi_admin")
    page.click("nav >> text=数据导入")
    page.select_option("#kind", "demand")
    page.set_input_files("#file", str(bad))
    page.click("button:has-text('上传并校验')")
    rows = page.locator("#row-errors tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("需求导入.csv")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("3")
    expect(page.locator("#row-errors")).to_contain_text("应为数字")
    page.check("input[name=skip_invalid]")
    page.click("button:has-text('确认导入')")
    expect(page.locator("#import-report .flash-success")).to_have_text("导入完成", timeout=60_000)


def test_home_chart_renders_with_the_vendored_echarts(page: Page, login_as: Callable[[str], None]) -> None:
    login_as("wuxi_admin")
    expect(page.locator("#chart-chains[data-rendered=true] svg")).to_have_count(1)
    expect(page.locator("#chart-kinds[data-rendered=true] svg")).to_have_count(1)
