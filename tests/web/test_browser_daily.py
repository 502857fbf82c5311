"""The zone's daily work clicked through in real headless Chromium, with a real worker thread running the
jobs: a large import with live progress and a mapped column, a filtered export, an enterprise told of a
new match by the automatic matching job, batch matching from its button, chains, zone settings, the
platform admin's zone picker, cancelling a job and restoring an archived record."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from techbridge.domain.accounts import Role
from techbridge.services import accounts
from techbridge.store.db import session_scope

from .conftest import PASSWORD

pytestmark = pytest.mark.browser
JOB_TIMEOUT = 120_000  # ms: a job on a busy 2-core machine


def _switch(page: Page, login_as: Callable[[str], None], username: str) -> None:
    page.context.clear_cookies()
    login_as(username)


def test_admin_imports_a_large_file_with_progress_and_a_mapped_column(
    page: Page, login_as: Callable[[str], None], tmp_path: Path, worker: object
) -> None:
    rows = 15_000
    big = tmp_path / "委托需求.csv"
    with big.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["课题名称", "需求单位", "预算下限"])
        out.writerows(
            [f"第{i:05d}号 激光焊接在线质量监测", f"无锡激光{i % 40:02d}公司", i % 90] for i in range(rows)
        )
    login_as("wuxi_admin")
    page.click("nav >> text=数据导入")
    page.select_option("#kind", "demand")
    page.set_input_files("#file", str(big))
    page.click("button:has-text('上传并校验')")

    # 课题名称 is no header the importer knows: the page asks which field it is.
    expect(page.locator(".flash-error")).to_contain_text("未识别出必填列 需求名称")
    row = page.locator("#mapping-form tr", has_text="课题名称")
    row.locator("select").select_option("title")
    page.click("button:has-text('按此对应重新校验')")

    # The request returned at once; the validation runs in the worker while the bar moves.
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    page.wait_for_function(
        "() => { const el = document.querySelector('[data-job-status]');"
        " const v = el && parseInt(el.getAttribute('aria-valuenow'), 10); return v > 0 && v < 100; }",
        timeout=JOB_TIMEOUT,
    )
    report = page.locator("#import-report")
    expect(report).to_be_visible(timeout=JOB_TIMEOUT)
    expect(report.locator(".stat", has_text="将新增")).to_contain_text(f"{rows:,}")

    page.click("button:has-text('确认导入')")
    expect(page.locator("#import-report .flash-success")).to_have_text("导入完成", timeout=JOB_TIMEOUT)
    page.click("text=查看需求列表")
    expect(page.locator(".sub")).to_contain_text(f"共 {rows + 4} 条需求")  # the seed's four, and the file

    # Next time the zone uploads this layout, the mapping is remembered.
    page.goto("/settings/zone")
    expect(page.locator("#zone-mappings tbody td")).to_have_text(["课题名称", "标题"])


def test_admin_exports_a_filtered_list(page: Page, login_as: Callable[[str], None]) -> None:
    login_as("wuxi_admin")
    page.click("nav >> text=需求中心")
    page.select_option("#filter-industry_chain", "新能源")
    expect(page).to_have_url(re.compile("industry_chain="))
    shown = page.locator("td .row-title").all_inner_texts()
    with page.expect_download() as download:
        page.click("button:has-text('导出 CSV')")
    path = download.value.path()
    assert download.value.suggested_filename.startswith(
        "需求-"
    ) and download.value.suggested_filename.endswith(".csv")
    with open(path, encoding="utf-8-sig") as f:
        exported = list(csv.DictReader(f))
    assert sorted(r["需求名称"] for r in exported) == sorted(shown)
    assert {r["产业链"] for r in exported} == {"新能源"}


def test_an_enterprise_is_told_of_a_new_match_and_opens_it(
    page: Page, login_as: Callable[[str], None], worker: object
) -> None:
    # The zone admin lowers the threshold and the delay on the zone settings page.
    login_as("wuxi_admin")
    page.click("nav >> text=园区设置")
    page.fill("#s-threshold", "5")  # 匹配度 5 and up
    page.fill("#s-delay", "0")
    page.click("button:has-text('保存设置')")
    expect(page.locator(".flash-success")).to_contain_text("园区设置已保存")

    _switch(page, login_as, "wuxi_ent")
    page.click("text=发布需求")
    page.fill("#f-title", "锂电池陶瓷涂覆隔膜量产工艺")
    page.fill("#f-keywords", "锂电池; 隔膜; 涂覆")
    page.click("button:has-text('发布')")
    expect(page.locator(".flash-success")).to_contain_text("已发布")

    # Saving queued a matching job; the worker runs it with the real engine and tells the owner.
    badge = page.locator(".nav-count")
    for _ in range(60):
        if badge.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(badge).to_have_text("1")
    page.click("nav >> text=站内信")
    note = page.locator(".notice.unread").first
    expect(note).to_contain_text("需求「锂电池陶瓷涂覆隔膜量产工艺」有")
    note.locator("button").click()
    expect(page).to_have_url(re.compile(r"/demands/\d+/matches$"))
    expect(page.locator("#computed-at")).to_contain_text("(北京时间)")
    expect(page.locator("#matches-achievement .match").first).to_contain_text("隔膜")
    expect(page.locator(".nav-count")).to_have_count(0)  # read now


def test_admin_runs_batch_matching_from_its_button_and_watches_it(
    page: Page, login_as: Callable[[str], None], worker: object
) -> None:
    login_as("wuxi_admin")
    page.click("nav >> text=任务中心")
    page.click("#run-batch-match")
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.locator(".flash-info")).to_contain_text("已提交批量匹配任务")
    expect(page.locator("#match-result h2")).to_have_text("匹配完成", timeout=JOB_TIMEOUT)
    expect(page.locator(".job-state")).to_have_text("已完成")
    page.click("text=全部任务")
    expect(page.locator("#job-table tbody tr").first).to_contain_text("批量匹配")


def test_admin_cancels_a_waiting_job(page: Page, login_as: Callable[[str], None]) -> None:
    login_as("wuxi_admin")  # no worker here: the job waits in the queue
    page.goto("/jobs")
    page.click("#run-batch-match")
    expect(page.locator(".job-state")).to_have_text("排队中")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-job")
    expect(page.locator(".job-state")).to_have_text("已取消")
    expect(page.locator("#cancel-job")).to_have_count(0)


def test_admin_adds_an_industry_chain_in_the_browser(page: Page, login_as: Callable[[str], None]) -> None:
    login_as("wuxi_admin")
    page.click("nav >> text=产业链目录")
    page.fill("#c-code", "hydrogen")
    page.fill("#c-name", "氢能")
    page.fill("#c-keywords", "制氢; 储氢")
    page.click("#chain-form button:has-text('保存')")
    expect(page.locator(".flash-success")).to_contain_text("已保存产业链 氢能")
    expect(page.locator("#chain-list tr", has_text="hydrogen")).to_contain_text("本园区")


def test_platform_admin_picks_a_zone_instead_of_editing_the_url(
    page: Page, login_as: Callable[[str], None], web_db_url: str
) -> None:
    with session_scope(web_db_url) as s:
        accounts.create_user(s, username="root", password=PASSWORD, role=Role.PLATFORM_ADMIN)
    login_as("root")
    page.goto("/dashboard")
    page.select_option("#zone-picker", "chengdu")
    expect(page).to_have_url(re.compile(r"/dashboard\?zone=chengdu$"))
    expect(page.locator("#zone-picker")).to_have_value("chengdu")
    page.goto("/import")
    page.select_option("#zone_code", "wuxi")  # a select of zones, not a free-text code
    expect(page.locator("#zone_code option:checked")).to_have_text("无锡国家高新区")


def test_an_archived_record_is_found_and_restored(
    page: Page, login_as: Callable[[str], None], private_demand_id: int
) -> None:
    login_as("wuxi_admin")
    page.goto(f"/demands/{private_demand_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('归档')")
    expect(page.locator(".flash-success")).to_contain_text("已归档")
    page.select_option("#filter-status", "archived")
    expect(page.locator("td .row-title")).to_have_text(["锂电池隔膜涂覆工艺升级"])
    page.click("td .row-title")
    page.click("#restore-record")
    expect(page.locator(".flash-success")).to_contain_text("已恢复")
    page.click("text=需求中心")
    expect(page.locator("td .row-title", has_text="锂电池隔膜涂覆工艺升级")).to_have_count(1)


def test_admin_uploads_the_zone_s_related_words(
    page: Page, login_as: Callable[[str], None], tmp_path: Path
) -> None:
    good, bad = tmp_path / "words.csv", tmp_path / "bad.csv"
    good.write_text("term,related,relation\n白酒,酒糟|酱香,下位\n", encoding="utf-8-sig")
    bad.write_text("term,related,relation\n黄酒,,同义\n", encoding="utf-8")
    login_as("wuxi_admin")
    page.click("nav >> text=园区设置")
    section = page.locator("#zone-thesaurus")
    section.locator("input[type=file]").set_input_files(good)
    section.locator("button:has-text('上传并替换')").click()
    expect(page.locator(".flash-success")).to_contain_text("本园区相关词已更新, 共 1 行")
    expect(page.locator("#zone-thesaurus-rows tbody td")).to_have_text(["白酒", "酒糟、酱香", "下位"])
    section.locator("input[type=file]").set_input_files(bad)
    section.locator("button:has-text('上传并替换')").click()
    expect(page.locator(".flash-error")).to_contain_text("第 2 行 related: 没有相关词")
    expect(page.locator("#zone-thesaurus-rows tbody td")).to_have_text(["白酒", "酒糟、酱香", "下位"])
