"""The pages of the zone's daily work through the app (TestClient): exports, import templates and column
mapping, jobs, 站内信, zone settings, industry chains, the zone picker and restoring archived records."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from techbridge.config import Settings
from techbridge.domain.accounts import Role
from techbridge.services import accounts, notifications
from techbridge.store.accounts import find_user_row
from techbridge.store.db import session_scope
from techbridge.store.facets import latest_match_time

from .conftest import PASSWORD, _login


def _csrf(client: TestClient, html, path: str = "/") -> str:
    return html(client.get(path).text).csrf()


def test_the_export_button_downloads_the_filtered_list(wuxi_admin: TestClient, html) -> None:
    page = html(wuxi_admin.get("/achievements?kind=software").text)
    form = page.soup.select_one("form#export-form")
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    assert data["kind"] == "software"  # the current filter travels with the export
    response = wuxi_admin.post(form["action"], data={**data, "fmt": "csv"})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[rows[0].index("成果名称")] for r in rows[1:]] == ["晶圆缺陷检测算法软件"]
    xlsx = wuxi_admin.post(form["action"], data={**data, "fmt": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 2


def test_a_large_export_becomes_a_job_with_a_download(
    app: FastAPI, settings: Settings, wuxi_admin: TestClient, html, run_jobs: Callable[[], int]
) -> None:
    settings.export_inline_rows = 1
    token = _csrf(wuxi_admin, html, "/demands")
    queued = wuxi_admin.post(
        "/demands/export", data={"csrf_token": token, "fmt": "xlsx"}, follow_redirects=False
    )
    assert queued.status_code == 303 and queued.headers["location"].startswith("/jobs/")
    job_url = queued.headers["location"]
    status = wuxi_admin.get(f"{job_url}/status").json()
    assert (status["state"], status["state_label"], status["finished"]) == ("queued", "排队中", False)
    assert run_jobs() == 1
    status = wuxi_admin.get(f"{job_url}/status").json()
    assert (status["state"], status["percent"]) == ("succeeded", 100)
    page = html(wuxi_admin.get(job_url).text)
    link = page.soup.select_one("#download-export")["href"]
    sheet = load_workbook(io.BytesIO(wuxi_admin.get(link).content)).active
    assert sheet.max_row == 1 + 4  # Wuxi's three demands and Chengdu's shared one
    # Another zone's admin can't see the job or its file.
    cd = _login(TestClient(app), "cd_admin")
    assert cd.get(job_url).status_code == 404
    assert cd.get(link).status_code == 404


def test_import_templates_have_the_headers_the_importer_reads(wuxi_admin: TestClient, html) -> None:
    page = html(wuxi_admin.get("/import").text)
    links = [a["href"] for a in page.soup.select("#import-templates a")]
    assert "/import/templates/demand.xlsx" in links and "/import/templates/instrument.csv" in links
    book = load_workbook(io.BytesIO(wuxi_admin.get("/import/templates/demand.xlsx").content))
    headers = [c.value for c in next(book["demand"].iter_rows(max_row=1))]
    assert {"需求名称", "需求单位", "园区代码", "截止日期"} <= set(headers)
    notes = {row[0]: row[2] for row in book["说明"].iter_rows(min_row=2, values_only=True)}
    assert notes["需求名称"] == "是" and notes["需求单位"] == "是"
    text = wuxi_admin.get("/import/templates/expert.csv").content.decode("utf-8-sig")
    assert "姓名" in text.splitlines()[0]
    assert wuxi_admin.get("/import/templates/demand.exe").status_code == 400


def test_unrecognised_columns_are_mapped_on_the_page_and_remembered(
    wuxi_admin: TestClient, html, run_jobs: Callable[[], int]
) -> None:
    token = _csrf(wuxi_admin, html, "/import")
    text = "课题名称,委托企业\n焊缝缺陷视觉识别,无锡激光公司\n".encode()
    upload = wuxi_admin.post(
        "/import",
        data={"csrf_token": token, "kind": "demand"},
        files={"file": ("委托.csv", text, "text/csv")},
    )
    assert upload.status_code == 422
    page = html(upload.text)
    assert "未识别出必填列 需求名称、需求单位" in page.texts(".flash-error")[0]
    form = page.soup.select_one("#mapping-form")
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    headers = {data[k]: k[1:] for k in data if k.startswith("h")}
    data[f"f{headers['课题名称']}"] = "title"
    data[f"f{headers['委托企业']}"] = "organization"
    preview = wuxi_admin.post(form["action"], data=data, follow_redirects=False)
    assert preview.headers["location"].startswith("/jobs/")
    run_jobs()
    job = html(wuxi_admin.get(preview.headers["location"]).text)
    assert dict(zip(job.texts(".stat-label"), job.texts(".stat-value"), strict=True))["将新增"] == "1"
    confirm = job.soup.select_one("form#confirm-import")
    wuxi_admin.post(confirm["action"], data={"csrf_token": data["csrf_token"]})
    run_jobs()
    assert "焊缝缺陷视觉识别" in html(wuxi_admin.get("/demands").text).texts("td .row-title")
    # The zone remembers: the same headers next time go straight to validation, and the settings show it.
    again = wuxi_admin.post(
        "/import",
        data={"csrf_token": token, "kind": "demand"},
        files={"file": ("委托2.csv", text, "text/csv")},
        follow_redirects=False,
    )
    assert again.status_code == 303
    settings_page = html(wuxi_admin.get("/settings/zone").text)
    assert settings_page.texts("#zone-mappings tbody tr") == ["课题名称 标题", "委托企业 所属单位"]


def test_a_platform_admin_imports_into_a_zone_chosen_from_a_select(
    app: FastAPI, web_db_url: str, html
) -> None:
    with session_scope(web_db_url) as s:
        accounts.create_user(s, username="root", password=PASSWORD, role=Role.PLATFORM_ADMIN)
    root = _login(TestClient(app), "root")
    page = html(root.get("/import").text)
    options = [o["value"] for o in page.soup.select("select#zone_code option")]
    assert {"wuxi", "chengdu"} <= set(options)
    assert page.soup.select_one("input[name=zone_code]") is None  # no free-text zone code any more
    # The zone picker sits in the top bar of the pages that act on one zone.
    assert page.soup.select_one("#zone-picker") is not None
    dashboard = html(root.get("/dashboard?zone=chengdu").text)
    assert dashboard.soup.select_one("#zone-picker option[selected]")["value"] == "chengdu"
    users = html(root.get("/admin/users").text)
    assert users.soup.select_one("select#u-zone option[value=wuxi]") is not None


def test_notifications_show_an_unread_count_and_open_to_their_link(
    web_db_url: str, ent: TestClient, html, private_demand_id: int
) -> None:
    with session_scope(web_db_url) as s:
        user_id = find_user_row(s, "wuxi_ent").id
        notifications.notify(
            s, [user_id], "match", "需求有 2 条新的高分匹配", f"/demands/{private_demand_id}/matches"
        )
    home = html(ent.get("/").text)
    assert home.texts(".nav-count") == ["1"] and home.texts("#unread-count") == ["1"]
    inbox = html(ent.get("/notifications").text)
    assert inbox.texts(".notice.unread .notice-title") == ["需求有 2 条新的高分匹配"]
    form = inbox.soup.select_one(".notice form")
    opened = ent.post(form["action"], data={"csrf_token": inbox.csrf()}, follow_redirects=False)
    assert opened.headers["location"] == f"/demands/{private_demand_id}/matches"
    assert html(ent.get("/").text).texts(".nav-count") == []


def test_email_preference_is_validated_in_chinese(ent: TestClient, html, web_db_url: str) -> None:
    token = _csrf(ent, html, "/notifications")
    bad = ent.post(
        "/notifications/prefs", data={"csrf_token": token, "email": "not-an-address", "email_enabled": "true"}
    )
    assert html(bad.text).texts(".flash-error span") == ["邮箱地址格式不正确: not-an-address"]
    ok = ent.post(
        "/notifications/prefs",
        data={"csrf_token": token, "email": "wang@example.com", "email_enabled": "true"},
    )
    assert html(ok.text).soup.select_one("#n-email")["value"] == "wang@example.com"


def test_zone_settings_are_saved_and_bad_values_refused(
    wuxi_admin: TestClient, ent: TestClient, html
) -> None:
    token = _csrf(wuxi_admin, html, "/settings/zone")
    saved = wuxi_admin.post(
        "/settings/zone",
        data={
            "csrf_token": token,
            "match_threshold": "65",
            "auto_match": "true",
            "match_delay_seconds": "10",
        },
    )
    page = html(saved.text)
    assert page.soup.select_one("#s-threshold")["value"] == "65"  # 匹配度, as the matches page shows it
    assert page.soup.select_one("#s-delay")["value"] == "10"
    bad = wuxi_admin.post(
        "/settings/zone", data={"csrf_token": token, "match_threshold": "很高", "match_delay_seconds": "10"}
    )
    assert html(bad.text).texts(".flash-error span") == ["新匹配通知的最低匹配度: 取值无效"]
    assert ent.get("/settings/zone").status_code == 403


def test_a_zone_admin_uploads_the_zone_s_related_words(
    wuxi_admin: TestClient, cd_admin: TestClient, ent: TestClient, html
) -> None:
    """本园区相关词: upload (CSRF), list, download back, template; a bad file names its row and column and
    changes nothing; other zones' officers see their own list, organisations no list at all."""
    page = html(wuxi_admin.get("/settings/zone").text)
    assert page.soup.select_one("#zone-thesaurus .empty") is not None
    form = page.soup.select_one("#zone-thesaurus form")
    assert form["enctype"] == "multipart/form-data" and form["action"] == "/settings/zone/thesaurus"
    token = page.csrf()
    good = "term,related,relation\n白酒,酒糟|酱香,下位\n".encode()
    refused = wuxi_admin.post(form["action"], files={"file": ("words.csv", good)})
    assert refused.status_code == 403  # no CSRF token
    saved = wuxi_admin.post(form["action"], data={"csrf_token": token}, files={"file": ("words.csv", good)})
    page = html(saved.text)
    assert page.texts("#zone-thesaurus-rows tbody tr") == ["白酒 酒糟、酱香 下位"]
    assert "本园区相关词已更新, 共 1 行" in " ".join(page.texts(".flash-success span"))
    bad = "term,related,relation\n白酒,酒糟,下位\n黄酒,黄酒糟,上位\n".encode()
    after_bad = html(
        wuxi_admin.post(form["action"], data={"csrf_token": token}, files={"file": ("bad.csv", bad)}).text
    )
    assert after_bad.texts(".flash-error span") == [
        "未作任何修改: 上传的文件 第 3 行 relation: 应为 同义 或 下位"
    ]
    assert after_bad.texts("#zone-thesaurus-rows tbody tr") == ["白酒 酒糟、酱香 下位"]
    download = wuxi_admin.get(page.soup.select_one('#zone-thesaurus a[href*="thesaurus.csv"]')["href"])
    assert "attachment" in download.headers["content-disposition"]
    assert download.content.decode("utf-8-sig") == "term,related,relation\n白酒,酒糟|酱香,下位\n"
    template = wuxi_admin.get(page.soup.select_one('#zone-thesaurus a[href*="template.csv"]')["href"])
    assert template.content.decode("utf-8-sig").startswith("term,related,relation\n功率半导体,")
    # Chengdu's officer works on Chengdu's list, even when asking for Wuxi's.
    assert html(cd_admin.get("/settings/zone?zone=wuxi").text).texts("#zone-thesaurus-rows tbody tr") == []
    assert cd_admin.get("/settings/zone/thesaurus.csv?zone=wuxi").content.decode("utf-8-sig") == (
        "term,related,relation\n"
    )
    assert ent.get("/settings/zone/thesaurus.csv").status_code == 403
    assert ent.get("/settings/zone/thesaurus/template.csv").status_code == 403


def test_zone_related_words_the_index_would_split_are_struck_through(wuxi_admin: TestClient, html) -> None:
    """A related word jieba splits (热管理 → 热, 管理) does nothing in matching; the page says which ones."""
    page = html(wuxi_admin.get("/settings/zone").text)
    words = "term,related,relation\n储能散热,热管理|液冷|散热器,下位\n".encode()
    saved = wuxi_admin.post(
        "/settings/zone/thesaurus", data={"csrf_token": page.csrf()}, files={"file": ("words.csv", words)}
    )
    page = html(saved.text)
    assert page.texts("#zone-thesaurus-rows s.split-word") == ["热管理"]
    assert "划掉的相关词 (热管理) 会被分词拆开" in " ".join(page.texts("#zone-thesaurus-split"))


def test_industry_chains_are_edited_in_the_browser(
    wuxi_admin: TestClient, cd_admin: TestClient, html
) -> None:
    token = _csrf(wuxi_admin, html, "/settings/chains")
    wuxi_admin.post(
        "/settings/chains",
        data={"csrf_token": token, "code": "hydrogen", "name": "氢能", "keywords": "制氢;储氢"},
    )
    page = html(wuxi_admin.get("/settings/chains").text)
    row = [r for r in page.texts("#chain-list tbody tr") if r.startswith("hydrogen")]
    assert row == ["hydrogen 氢能 制氢、储氢 本园区 删除"]
    chengdu_codes = [
        r.split()[0] for r in html(cd_admin.get("/settings/chains").text).texts("#chain-list tbody tr")
    ]
    assert "hydrogen" not in chengdu_codes  # another zone's catalogue is its own
    bad = wuxi_admin.post("/settings/chains", data={"csrf_token": token, "code": "氢", "name": "氢"})
    assert bad.status_code == 422
    assert html(bad.text).texts(".field-error") == [
        "代码为小写字母、数字、- 或 _, 不超过 32 个字符",
        "名称 2 到 50 个字",
    ]
    wuxi_admin.post("/settings/chains/hydrogen/remove", data={"csrf_token": token})
    codes = [
        r.split()[0] for r in html(wuxi_admin.get("/settings/chains").text).texts("#chain-list tbody tr")
    ]
    assert "hydrogen" not in codes


def test_an_archived_record_is_found_under_the_archived_view_and_restored(
    wuxi_admin: TestClient, html, private_demand_id: int
) -> None:
    token = _csrf(wuxi_admin, html, f"/demands/{private_demand_id}")
    wuxi_admin.post(f"/demands/{private_demand_id}/archive", data={"csrf_token": token})
    listed = html(wuxi_admin.get("/demands?status=archived").text)
    assert listed.texts("td .row-title") == ["锂电池隔膜涂覆工艺升级"]
    assert html(wuxi_admin.get("/demands?archived=1").text).texts("td .row-title") == [
        "锂电池隔膜涂覆工艺升级"
    ]
    detail = html(wuxi_admin.get(f"/demands/{private_demand_id}").text)
    restore = detail.soup.select_one("#restore-record").find_parent("form")
    wuxi_admin.post(restore["action"], data={"csrf_token": token})
    assert "锂电池隔膜涂覆工艺升级" in html(wuxi_admin.get("/demands").text).texts("td .row-title")
    assert html(wuxi_admin.get("/demands?status=archived").text).texts("td .row-title") == []


def test_the_matches_page_says_when_matches_were_computed_in_beijing_time(
    wuxi_admin: TestClient, html, private_demand_id: int, web_db_url: str
) -> None:
    with session_scope(web_db_url) as s:
        computed = latest_match_time(s, source_kind="demand", source_id=private_demand_id)
    expected = computed.replace(tzinfo=computed.tzinfo or ZoneInfo("UTC")).astimezone(
        ZoneInfo("Asia/Shanghai")
    )
    page = html(wuxi_admin.get(f"/demands/{private_demand_id}/matches").text)
    assert page.texts("#computed-at") == [f"匹配时间 {expected:%Y-%m-%d %H:%M} (北京时间)"]
    token = page.csrf()
    wuxi_admin.post(
        f"/demands/{private_demand_id}/edit",
        data={
            "csrf_token": token,
            "title": "锂电池隔膜涂覆工艺升级改造",
            "organization": "无锡锂能科技有限公司",
        },
    )
    assert html(wuxi_admin.get(f"/demands/{private_demand_id}/matches").text).texts("#matching-queued")


def test_the_batch_matching_button_queues_one_job(wuxi_admin: TestClient, ent: TestClient, html) -> None:
    page = html(wuxi_admin.get("/jobs").text)
    form = page.soup.select_one("#run-batch-match").find_parent("form")
    first = wuxi_admin.post(form["action"], data={"csrf_token": page.csrf()}, follow_redirects=False)
    second = wuxi_admin.post(form["action"], data={"csrf_token": page.csrf()}, follow_redirects=False)
    assert first.headers["location"] == second.headers["location"]  # a waiting run stands for both clicks
    assert html(ent.get("/jobs").text).soup.select_one("#run-batch-match") is None
    assert ent.get(first.headers["location"]).status_code == 404
    cancel = (
        html(wuxi_admin.get(first.headers["location"]).text)
        .soup.select_one("#cancel-job")
        .find_parent("form")
    )
    wuxi_admin.post(cancel["action"], data={"csrf_token": page.csrf()})
    assert wuxi_admin.get(f"{first.headers['location']}/status").json()["state"] == "cancelled"


def test_an_upload_over_the_cap_is_refused_with_413_and_leaves_nothing(
    settings: Settings, wuxi_admin: TestClient, html
) -> None:
    settings.upload_max_mb = 1
    token = _csrf(wuxi_admin, html, "/import")
    big = ("需求名称,需求单位\n" + "锂电池隔膜涂覆技术,无锡甲公司\n" * 60_000).encode()
    refused = wuxi_admin.post(
        "/import", data={"csrf_token": token, "kind": "demand"}, files={"file": ("big.csv", big, "text/csv")}
    )
    assert refused.status_code == 413
    assert "1 MB" in html(refused.text).texts(".flash-error")[0]
    assert not any((settings.data_dir / "uploads").glob("*/*"))


def test_opening_a_notification_never_leaves_the_site(web_db_url: str, ent: TestClient, html) -> None:
    with session_scope(web_db_url) as s:
        user_id = find_user_row(s, "wuxi_ent").id
        for link in ("//evil.example/x", "/\\evil.example", "https://evil.example"):
            notifications.notify(s, [user_id], "deal", f"链接 {link}", link)
    inbox = html(ent.get("/notifications").text)
    for form in inbox.soup.select(".notice form"):
        opened = ent.post(form["action"], data={"csrf_token": inbox.csrf()}, follow_redirects=False)
        assert opened.headers["location"] == "/notifications"
