"""Every page through FastAPI's TestClient, checked by parsing the HTML (labels, rows, zone rules)."""

from __future__ import annotations

import fcntl
import re
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient

from techbridge.config import Settings
from techbridge.services import records as record_service
from techbridge.services.sessions import SESSION_COOKIE
from techbridge.services.worker import run_pending
from techbridge.web.strings_zh import MSG

from .conftest import BEIJING, Html


def test_pages_redirect_to_login_and_login_form_is_chinese(client: TestClient, html) -> None:
    response = client.get("/demands", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fdemands"
    page = html(client.get("/login").text)
    assert page.texts("label") == ["用户名", "密码"]
    assert page.texts("button[type=submit]") == ["登录"]


def test_wrong_password_and_missing_csrf_are_refused_with_a_message(client: TestClient, html) -> None:
    token = html(client.get("/login").text).csrf()
    wrong = client.post("/login", data={"username": "wuxi_ent", "password": "nope-nope", "csrf_token": token})
    assert wrong.status_code == 401
    assert html(wrong.text).texts(".form-error") == ["用户名或密码错误"]
    forged = client.post("/login", data={"username": "wuxi_ent", "password": "x", "csrf_token": "forged"})
    assert html(forged.text).texts(".form-error") == ["页面已过期, 请刷新后重新提交"]


def test_home_shows_zone_figures_and_a_chart(ent: TestClient, html) -> None:
    page = html(ent.get("/").text)
    figures = dict(zip(page.texts(".stat-label"), page.texts(".stat-value"), strict=True))
    # Wuxi sees its 3 demands plus Chengdu's shared one; 2 own achievements plus 1 shared.
    assert figures["技术需求"] == "4"
    assert figures["科技成果"] == "3"
    assert figures["征集中需求"] == "4"
    assert figures["匹配结果"] == "5"
    assert page.soup.select_one("#chart-chains-data") is not None
    assert "无锡国家高新区" in page.texts(".zone-pill")[0]
    assert page.texts(".nav-item.active") == ["首页"]
    assert page.soup.select_one(".nav-item.active svg.icon") is not None  # an SVG, not a font glyph


def test_demand_list_searches_filters_and_hides_other_zones_private_records(ent: TestClient, html) -> None:
    titles = html(ent.get("/demands").text).texts("td .row-title")
    assert "航空发动机叶片精密加工" in titles  # shared by Chengdu
    assert len(titles) == 4
    found = html(ent.get("/demands", params={"q": "晶圆"}).text)
    assert found.texts("td .row-title") == ["半导体晶圆缺陷视觉检测"]
    chain = html(ent.get("/demands", params={"industry_chain": "新能源"}).text)
    assert sorted(chain.texts("td .row-title")) == ["储能电站热管理系统优化", "锂电池隔膜涂覆工艺升级"]
    empty = html(ent.get("/demands", params={"q": "不存在的需求"}).text)
    assert empty.texts(".empty-title") == ["没有符合条件的记录, 请调整筛选条件"]


def test_achievement_filters_by_kind_ipc_owner_and_maturity(ent: TestClient, html) -> None:
    def titles(**params: str) -> list[str]:
        return html(ent.get("/achievements", params=params).text).texts("td .row-title")

    assert titles(ipc="H01M") == ["一种锂电池陶瓷涂覆隔膜及其制备方法"]
    assert titles(kind="utility_model") == ["一种隔膜涂布装置"]
    assert titles(owner="四川大学") == ["一种隔膜涂布装置"]
    assert sorted(titles(trl_min="6")) == ["一种锂电池陶瓷涂覆隔膜及其制备方法", "晶圆缺陷检测算法软件"]
    owners = html(ent.get("/achievements").text).texts("#filter-owner option")
    assert "江南大学 (2)" in owners
    assert "电子科技大学 (1)" not in owners  # Chengdu's private patent is not a facet either


def test_pagination_links_when_more_than_one_page(wuxi_admin: TestClient, html) -> None:
    for n in range(25):
        page = html(wuxi_admin.get("/demands/new").text)
        wuxi_admin.post(
            "/demands/new",
            data={
                "csrf_token": page.csrf(),
                "title": f"批量测试需求 {n:02d}",
                "organization": "无锡测试公司",
            },
        )
    first = html(wuxi_admin.get("/demands").text)
    assert len(first.texts("td .row-title")) == 20
    assert first.texts(".pager-info") == ["共 29 条 · 第 1/2 页"]
    second = html(wuxi_admin.get("/demands", params={"page": 2}).text)
    assert len(second.texts("td .row-title")) == 9


def test_demand_form_shows_validation_messages_next_to_fields(ent: TestClient, html) -> None:
    form = html(ent.get("/demands/new").text)
    assert form.soup.select_one("#f-organization")["value"] == "无锡锂能科技有限公司"
    assert form.soup.select_one("#f-status option[selected]")["value"] == "open"
    assert form.soup.select_one("#f-organization").has_attr("readonly")
    response = ent.post(
        "/demands/new",
        data={"csrf_token": form.csrf(), "title": "短", "budget_min": "abc", "deadline": "2026-13-40"},
    )
    assert response.status_code == 422
    page = html(response.text)
    assert page.texts("#title-error") == ["太短, 至少 4 个字"]
    assert page.texts("#budget_min-error") == ["应为数字"]
    assert page.texts("#deadline-error") == ["应为有效日期, 格式 YYYY-MM-DD"]
    assert page.soup.select_one("#f-title")["value"] == "短"  # what the user typed is kept


def test_budget_order_error_is_shown_for_the_whole_form(ent: TestClient, html) -> None:
    token = html(ent.get("/demands/new").text).csrf()
    response = ent.post(
        "/demands/new",
        data={"csrf_token": token, "title": "预算顺序测试需求", "budget_min": "300", "budget_max": "100"},
    )
    assert response.status_code == 422
    assert html(response.text).texts(".form-error") == [
        "表单有误, 请按提示修改后再提交: 预算下限不能高于上限"
    ]


def test_create_edit_and_archive_a_demand(ent: TestClient, html) -> None:
    token = html(ent.get("/demands/new").text).csrf()
    created = ent.post(
        "/demands/new",
        data={
            "csrf_token": token,
            "title": "固态电解质界面改性",
            "keywords": "固态电池; 电解质",
            "visibility": "shared",
        },
    )
    assert created.url.path.startswith("/demands/")
    page = html(created.text)
    assert page.texts("h1") == ["固态电解质界面改性"]
    assert page.texts(".flash") == ["已发布 ×"]
    facts = dict(zip(page.texts(".fact dt"), page.texts(".fact dd"), strict=True))
    assert facts["需求单位"] == "无锡锂能科技有限公司"
    assert facts["关键词"] == "固态电池、电解质"
    assert facts["可见范围"] == "跨园区共享"
    assert facts["状态"] == "征集中"  # an unchosen select keeps the model's default
    edit_url = created.url.path + "/edit"
    edited = ent.post(
        edit_url, data={"csrf_token": token, "title": "固态电解质界面改性技术", "status": "closed"}
    )
    assert html(edited.text).texts("h1") == ["固态电解质界面改性技术"]
    archived = ent.post(created.url.path + "/archive", data={"csrf_token": token})
    assert archived.url.path == "/demands"
    assert "固态电解质界面改性技术" not in html(archived.text).texts("td .row-title")


def test_posts_without_the_session_csrf_token_are_refused(ent: TestClient, html) -> None:
    response = ent.post("/demands/new", data={"title": "没有令牌的需求", "csrf_token": "forged"})
    assert response.status_code == 403
    assert html(response.text).texts(".empty-title") == ["页面已过期, 请刷新后重新提交"]


def test_enterprise_cannot_edit_another_organisations_demand(ent: TestClient, ids) -> None:
    other = ids["demand"]["储能电站热管理系统优化"]
    assert ent.get(f"/demands/{other}/edit").status_code == 403


def test_other_zones_private_demand_is_404_and_absent_from_lists(
    cd_admin: TestClient, html, private_demand_id
) -> None:
    for path in (
        f"/demands/{private_demand_id}",
        f"/demands/{private_demand_id}/matches",
        f"/demands/{private_demand_id}/edit",
    ):
        response = cd_admin.get(path)
        assert response.status_code == 404, path
        assert html(response.text).texts(".empty-title") == ["您要找的内容不存在, 或不在您的园区可见范围内"]
    titles = html(cd_admin.get("/demands").text).texts("td .row-title")
    assert "锂电池隔膜涂覆工艺升级" not in titles
    assert "储能电站热管理系统优化" in titles  # shared by Wuxi


def test_matches_show_ranked_targets_with_reasons_and_both_zones(
    ent: TestClient, html, private_demand_id
) -> None:
    page = html(ent.get(f"/demands/{private_demand_id}/matches").text)
    assert page.texts("#matches-achievement .match-title") == [
        "一种锂电池陶瓷涂覆隔膜及其制备方法",
        "一种隔膜涂布装置",
    ]
    first, second = page.soup.select("#matches-achievement .match")
    reasons = [li.get_text(" ", strip=True) for li in first.select(".reasons li")]
    assert "共同词语 标题命中关键词: 锂电池、隔膜、涂覆" in reasons
    assert "IPC 分类 IPC 分类相同: H01M" in reasons
    assert "产业链 产业链相同: 新能源" in reasons
    assert "同园区 无锡国家高新区" in first.select_one(".zone-route").get_text(" ", strip=True)
    assert (
        second.select_one(".zone-route").get_text(" ", strip=True) == "跨园区 无锡国家高新区 → 成都国家高新区"
    )
    # Chengdu's private patent was stored as a match but must not leak to Wuxi.
    assert "成都内部专利: 钛合金叶片涂层" not in page.texts(".match-title")
    assert page.texts("#matches-expert .match-title") == ["李教授"]
    # Matching ran and no instrument reached the threshold: the page says so and offers next steps.
    honest = page.soup.select_one("#matches-instrument .not-enough")
    assert honest is not None and "暂无足够相关的" in honest.get_text()
    assert honest.select(".next-steps a")
    starts = page.soup.select("#matches-achievement a.start-deal")
    assert len(starts) == 2 and all(
        a["href"].startswith(f"/demands/{private_demand_id}/deals/new?") for a in starts
    )
    run = page.soup.select_one(f"form[action='/demands/{private_demand_id}/matches/run']")
    assert (
        run["data-busy"] == "正在匹配, 请稍候…"
        and run.select_one("button")["data-loading-text"] == "正在匹配…"
    )
    # Who owns each target: a university's patent, an expert's institute, a platform's operator.
    assert page.texts("#matches-achievement .match-owner") == ["权属单位 江南大学", "权属单位 四川大学"]
    assert page.texts("#matches-expert .match-owner") == ["所属单位 江南大学"]
    assert page.texts("#matches-pilot_platform .match-owner") == ["运营单位 成都新能源研究院"]


def test_matches_that_all_miss_the_demands_problem_are_flagged_above_the_list(
    ent: TestClient, html, ids, private_demand_id, web_db_url, matches_stored
) -> None:
    # On the demand's object (隔膜) but none on its problem: each stored match names the title words it
    # lacks, as the engine writes them; 涂覆 is missing from all, 锂电池 from one.
    patents = ids["achievement"]
    coating, device = patents["一种锂电池陶瓷涂覆隔膜及其制备方法"], patents["一种隔膜涂布装置"]
    matches_stored(web_db_url, private_demand_id, "achievement", [
        (coating, 0.81, "wuxi", [
            ["title_terms", "双方都提到 (对方标题): 隔膜", ["隔膜"]],
            ["missing_terms", "需求标题中的 涂覆、工艺 未在该记录中出现", ["涂覆", "工艺"]]]),
        (device, 0.54, "chengdu", [
            ["terms", "双方都提到 (对方正文): 隔膜", ["隔膜"]],
            ["missing_terms", "需求标题中的 涂覆、锂电池 未在该记录中出现", ["涂覆", "锂电池"]]]),
    ])  # fmt: skip
    page = html(ent.get(f"/demands/{private_demand_id}/matches").text)
    note = page.soup.select_one("#matches-achievement .partial-match")
    assert note is not None
    assert "以下成果都未涉及需求标题中的「涂覆」" in note.get_text()
    assert note.select(".next-steps a")
    # The missing word is one click from a search of the catalogue the viewer may see.
    search = note.select_one(".next-steps a.search-missing")
    assert search is not None and search["href"] == "/achievements?q=%E6%B6%82%E8%A6%86"  # q=涂覆
    assert "在成果中心中检索「涂覆」" in search.get_text()
    # The demand's other kinds of match are offered by name, best first, so the answer may be there.
    expert = note.select_one(".next-steps li.other-kind")
    assert expert.select_one("a")["href"] == "#matches-expert"
    offer = expert.get_text(strip=True)
    assert re.fullmatch(r"看看匹配的专家 \(1\): 最相关的是「李教授」, 匹配度 \d+", offer)
    # The missing words are not marked as shared words; the shared one is.
    assert set(page.texts(".source-text mark")) == {"隔膜"}
    # The expert's match has no missing_terms reason: no note there.
    assert page.soup.select_one("#matches-expert .partial-match") is None
    assert page.soup.select_one(".absent-terms") is None  # some record the demand may see says 涂覆


def test_a_title_word_no_record_mentions_is_stated_once_above_the_list(
    ent: TestClient, html, ids, private_demand_id, web_db_url, matches_stored
) -> None:
    # As the engine writes it when no record the demand is matched with holds 涂覆 or a related word.
    patents = ids["achievement"]
    coating, device = patents["一种锂电池陶瓷涂覆隔膜及其制备方法"], patents["一种隔膜涂布装置"]
    absent = ["absent_terms", "可匹配的记录都没有提到需求标题中的 涂覆", ["涂覆"]]
    matches_stored(web_db_url, private_demand_id, "achievement", [
        (coating, 0.61, "wuxi", [
            ["title_terms", "双方都提到 (对方标题): 隔膜", ["隔膜"]],
            ["missing_terms", "需求标题中的 涂覆、工艺 未在该记录中出现", ["涂覆", "工艺"]], absent]),
        (device, 0.44, "chengdu", [
            ["terms", "双方都提到 (对方正文): 隔膜", ["隔膜"]],
            ["missing_terms", "需求标题中的 涂覆、锂电池 未在该记录中出现", ["涂覆", "锂电池"]], absent]),
    ])  # fmt: skip
    page = html(ent.get(f"/demands/{private_demand_id}/matches").text)
    note = page.soup.select_one("#matches-achievement .partial-match")
    assert page.texts("#matches-achievement .absent-terms") == [
        "成果中心中 (本园区及其他园区共享的成果) 没有任何成果提到「涂覆」。"
    ]
    # A search for the word would find nothing: no link to it; the fact is stated once, not per match.
    assert note.select_one(".next-steps a.search-missing") is None
    assert "可匹配的记录都没有提到" not in page.soup.select_one("#matches-achievement").get_text()


def test_the_matches_page_shows_what_the_demand_asks_for_or_that_it_asks_nothing(
    ent: TestClient, html, ids, private_demand_id
) -> None:
    page = html(ent.get(f"/demands/{private_demand_id}/matches").text)
    assert page.texts(".source-text .need-clause") == [
        "匹配时着重参考需求中写明的要求: 「引入陶瓷涂覆新工艺, 提升电池安全性」"
    ]
    silent = ids["demand"]["储能电站热管理系统优化"]  # a title and keywords, no request in words
    hint = " ".join(html(ent.get(f"/demands/{silent}/matches").text).texts(".source-text .need-clause"))
    assert "描述中没有写明需要什么" in hint


def test_starting_a_deal_from_a_match_opens_the_new_deal(
    ent: TestClient, html, ids, private_demand_id
) -> None:
    page = html(ent.get(f"/demands/{private_demand_id}/matches").text)
    patent = ids["achievement"]["一种隔膜涂布装置"]
    response = ent.post(
        f"/demands/{private_demand_id}/deals",
        data={"csrf_token": page.csrf(), "target_kind": "achievement", "target_id": str(patent)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    deal_url = response.headers["location"]
    assert deal_url.startswith("/deals/")
    deal = html(ent.get(deal_url).text)
    assert deal.texts(".flash-success span") == [f"已发起对接 (项目编号 {deal_url.rsplit('/', 1)[1]})"]
    assert deal.texts("table.data td a") == ["一种隔膜涂布装置"]


def test_an_organisation_cannot_start_a_deal_on_another_organisations_demand(
    ent: TestClient, html, ids, private_demand_id
) -> None:
    """The web form follows the API's rule: enterprises open deals only for their own demands."""
    other = ids["demand"]["储能电站热管理系统优化"]  # same zone, shared, but 无锡储能集团's
    token = html(ent.get(f"/demands/{private_demand_id}/matches").text).csrf()
    patent = ids["achievement"]["一种锂电池陶瓷涂覆隔膜及其制备方法"]
    response = ent.post(
        f"/demands/{other}/deals",
        data={"csrf_token": token, "target_kind": "achievement", "target_id": str(patent)},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert html(response.text).texts(".empty-title") == [
        "只能为本单位的需求发起撮合, 或以本单位的成果、专家、仪器参与撮合"
    ]


CLOCKS = [
    None,  # the real clock
    "2026-05-17T16:30:00+00:00",  # Sunday evening UTC: already Monday in Beijing, a new week there
    "2026-05-17T23:59:00+00:00",
    "2026-12-31T16:30:00+00:00",  # 2027-01-01 in Beijing, in a week that began in 2026
    "2027-01-01T12:00:00+00:00",
    "2027-01-03T20:00:00+00:00",
]


@pytest.mark.parametrize("instant", CLOCKS, ids=lambda c: c or "now")
def test_instrument_calendar_shows_bookings_and_refuses_overlaps(sign_in, html, ids, instant) -> None:
    """At any time of day and year (issue 9 #14: failed every Sunday 16:00–24:00 UTC and on 2027-01-01)."""
    instrument = ids["instrument"]["场发射扫描电子显微镜"]
    with time_machine.travel(instant) if instant else nullcontext():
        ent = sign_in("wuxi_ent")
        page = html(ent.get(f"/instruments/{instrument}").text)
        days = [head["data-day"] for head in page.soup.select(".cal-head[data-day]")]
        today = datetime.now(BEIJING).date()
        assert len(days) == 7 and days[0] == (today - timedelta(days=today.weekday())).isoformat()
        assert (
            page.texts(".cal-head.today")
            == page.texts(".cal-head")[1 + today.weekday() : 2 + today.weekday()]
        )
        # Bookings are never in the past (daily-deals): book next week's Wednesday, which is open.
        wednesday = (today + timedelta(days=9 - today.weekday())).isoformat()
        later = html(ent.get(f"/instruments/{instrument}?week={wednesday}").text)
        assert [head["data-day"] for head in later.soup.select(".cal-head[data-day]")][2] == wednesday

        def book(start: str, end: str, purpose: str = "XRD") -> Html:
            form = {
                "csrf_token": page.csrf(),
                "day": wednesday,
                "start": start,
                "end": end,
                "purpose": purpose,
            }
            return html(ent.post(f"/instruments/{instrument}/bookings", data=form).text)

        first = book("09:00", "12:00", "隔膜表面形貌表征")
        assert first.texts(".flash-success") == ["已提交预约, 等待仪器所属单位审批 ×"]
        assert "09:00–12:00 王经理 待审批 隔膜表面形貌表征" in first.texts(".cal-event")
        clash = book("11:00", "13:00")
        assert clash.texts(".flash-error")[0].endswith("09:00–12:00 已被 王经理 预约 ×")
        ok = book("12:00", "13:30")
        assert ok.texts(".flash-success") == ["已提交预约, 等待仪器所属单位审批 ×"]
        assert "12:00–13:30 王经理 待审批 XRD" in ok.texts(".cal-event")
        assert book("15:00", "14:00").texts(".flash-error") == ["结束时间必须晚于开始时间 ×"]


def test_capability_centre_lists_experts_instruments_and_pilot_platforms(ent: TestClient, html) -> None:
    page = html(ent.get("/capability").text)
    assert page.texts(".card h2") == ["专家库 1", "共享仪器 1", "中试平台 1"]
    expert_list = html(ent.get("/experts").text)
    assert expert_list.texts(".tab.active") == ["专家库"]


def test_shared_expert_contact_stays_inside_the_zone(
    cd_admin: TestClient, ent: TestClient, html, ids
) -> None:
    def facts(client: TestClient) -> dict[str, str]:
        page = html(client.get(f"/experts/{ids['expert']['李教授']}").text)
        return dict(zip(page.texts(".fact dt"), page.texts(".fact dd"), strict=True))

    assert facts(ent)["联系方式"] == "li@example.edu.cn"
    assert facts(cd_admin)["联系方式"] == "—"  # the profile is shared, the contact is not


def test_import_page_is_for_admins_only(ent: TestClient, wuxi_admin: TestClient, html) -> None:
    assert ent.get("/import").status_code == 403
    assert "导入" not in " ".join(html(ent.get("/").text).texts(".nav-item"))
    page = html(wuxi_admin.get("/import").text)
    assert page.texts("h1") == ["数据导入"]


def test_import_shows_row_errors_then_commits_good_rows(wuxi_admin: TestClient, html, run_jobs) -> None:
    token = html(wuxi_admin.get("/import").text).csrf()
    csv = "需求名称,需求单位,预算下限\n激光焊接质量在线监测,无锡激光公司,10\n短,无锡某公司,abc\n".encode()
    upload = wuxi_admin.post(
        "/import",
        data={"csrf_token": token, "kind": "demand"},
        files={"file": ("demands.csv", csv, "text/csv")},
        follow_redirects=False,
    )
    assert upload.status_code == 303 and upload.headers["location"].startswith("/jobs/")  # returns at once
    assert run_jobs() == 1  # the worker validates the file
    page = html(wuxi_admin.get(upload.headers["location"]).text)
    rows = [r.get_text("|", strip=True) for r in page.soup.select("#row-errors tbody tr")]
    assert any(r.startswith("demands.csv|3|") for r in rows), rows
    confirm = page.soup.select_one("form#confirm-import")
    data = {i["name"]: i.get("value", "") for i in confirm.select("input[type=hidden]")}
    refused = wuxi_admin.post(confirm["action"], data=data)
    run_jobs()
    refused = html(wuxi_admin.get(refused.url.path).text)
    assert refused.texts("#job-error") == ["文件中有错误行, 未写入任何记录; 可选择跳过错误行后重新导入"]
    done = wuxi_admin.post(confirm["action"], data={**data, "skip_invalid": "true"})
    run_jobs()
    result = html(wuxi_admin.get(done.url.path).text)
    figures = dict(zip(result.texts(".stat-label"), result.texts(".stat-value"), strict=True))
    assert figures["新增"] == "1"
    assert "激光焊接质量在线监测" in html(wuxi_admin.get("/demands").text).texts("td .row-title")


def test_account_page_issues_and_revokes_api_tokens(ent: TestClient, html) -> None:
    token = html(ent.get("/account").text).csrf()
    issued = html(ent.post("/account/tokens", data={"csrf_token": token, "name": "ERP 同步"}).text)
    assert issued.texts("#new-token")[0].startswith("tb_")
    assert issued.texts("td")[0] == "ERP 同步"
    form = issued.soup.select_one("form[action$='/revoke']")
    revoked = html(ent.post(form["action"], data={"csrf_token": token}).text)
    assert revoked.texts(".flash-success") == ["已撤销 API 令牌 ×"]


def test_zone_admin_manages_only_own_zone_users(wuxi_admin: TestClient, ent: TestClient, html) -> None:
    page = html(wuxi_admin.get("/admin/users").text)
    usernames = [row.select("td")[0].get_text(strip=True) for row in page.soup.select("tbody tr")]
    assert sorted(usernames) == ["jn_lab", "jn_univ", "wuxi_admin", "wuxi_ent"]
    assert [o["value"] for o in page.soup.select("#u-role option")] == ["enterprise", "university", "expert"]
    created = wuxi_admin.post(
        "/admin/users",
        data={
            "csrf_token": page.csrf(),
            "username": "jiangnan_u",
            "password": "long-enough-pw",
            "role": "university",
            "organization": "江南大学",
        },
    )
    assert "jiangnan_u" in html(created.text).texts("tbody td")
    missing_org = wuxi_admin.post(
        "/admin/users",
        data={
            "csrf_token": page.csrf(),
            "username": "noorg",
            "password": "long-enough-pw",
            "role": "enterprise",
        },
    )
    assert missing_org.status_code == 422
    assert html(missing_org.text).texts(".form-error") == ["企业用户必须填写所属单位"]
    assert ent.get("/admin/users").status_code == 403


def test_logout_ends_the_session(ent: TestClient, app, html) -> None:
    token = html(ent.get("/").text).csrf()
    old_cookie = ent.cookies[SESSION_COOKIE]
    response = ent.post("/logout", data={"csrf_token": token})
    assert response.url.path == "/login"
    assert html(response.text).texts(".flash") == ["您已安全退出 ×"]
    assert ent.get("/", follow_redirects=False).status_code == 303
    # The jar forgot the cookie; the server must have forgotten the session too: replay a copy of it.
    replay = TestClient(app, cookies={SESSION_COOKIE: old_cookie})
    assert replay.get("/account", follow_redirects=False).status_code == 303
    assert replay.get("/api/v1/me").status_code == 401


def test_static_assets_are_served_with_content_hash(ent: TestClient, html) -> None:
    page = html(ent.get("/").text)
    css = page.soup.select_one("link[rel=stylesheet]")["href"]
    assert css.startswith("/static/app.css?v=")
    assert ent.get(css).status_code == 200
    scripts = [s["src"] for s in page.soup.select("script[src]")]
    assert any(s.startswith("/static/vendor/echarts.min.js?v=") for s in scripts)
    assert all("//" not in s for s in scripts)  # no CDN


def test_malformed_urls_get_an_html_page_not_json(ent: TestClient, html) -> None:
    for path in ("/demands/abc", "/demands?page=x"):
        response = ent.get(path)
        assert response.status_code == 400
        assert html(response.text).texts(".empty-title") == ["链接中的参数有误, 请从页面上的链接进入"]
    assert ent.get("/demands?trl_min=x").status_code == 200  # an unknown filter value just shows a hint


def test_huge_page_numbers_show_the_last_page(ent: TestClient, html) -> None:
    """Issue 9 #10: a page number past any integer the database takes was a 500."""
    for page in ("9999999999999999999", "-9999999999999999999", "100001"):
        response = ent.get(f"/demands?page={page}")
        assert response.status_code == 200, page
        assert html(response.text).texts(".pager .current") in ([], ["1"])
    beyond = html(ent.get("/demands?page=9999999999999999999").text)
    assert beyond.texts(".row-title") == html(ent.get("/demands").text).texts(".row-title") != []


@pytest.mark.parametrize("week", ["9999-12-31", "0001-01-01", "9999-12-27", "0001-01-07", "2026-02-30"])
def test_calendar_weeks_at_the_ends_of_the_calendar_are_pages_not_errors(
    ent: TestClient, html, ids, week: str
) -> None:
    """Issue 9 #10: the first and last weeks of year 1 and 9999 overflowed the date maths (500)."""
    instrument = ids["instrument"]["场发射扫描电子显微镜"]
    response = ent.get(f"/instruments/{instrument}?week={week}")
    assert response.status_code in (200, 400), response.text[:300]
    if response.status_code == 200:
        assert len(html(response.text).texts(".cal-head")) == 8
        page = html(response.text)
        booked = ent.post(
            f"/instruments/{instrument}/bookings",
            data={"csrf_token": page.csrf(), "day": week, "start": "23:00", "end": "23:30", "purpose": "XRD"},
        )
        assert booked.status_code in (200, 400), booked.text[:300]  # booked, or a page saying why not


def test_run_matching_runs_the_engine_with_the_apps_settings_and_shows_fresh_results(
    ent: TestClient,
    html,
    private_demand_id,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # where the process default (./var) would put the index
    page = html(ent.get(f"/demands/{private_demand_id}/matches").text)
    form = page.soup.select_one("form[action$='/matches/run']")
    after = html(ent.post(form["action"], data={"csrf_token": page.csrf()}).text)
    assert after.texts(".flash-success") == ["匹配已完成 ×"]
    assert (settings.data_dir / "match-index").is_dir() and not (tmp_path / "var").exists()
    # The engine's own ranking replaced the seeded lists: the private Chengdu patent is gone.
    titles = [t.replace(" ", "") for t in after.texts("#matches-achievement .match-title")]
    assert titles[0] == "一种锂电池陶瓷涂覆隔膜及其制备方法"
    assert "成都内部专利:钛合金叶片涂层" not in titles
    assert after.texts("#matches-achievement .reasons")[0].startswith(
        "共同词语 双方都提到 (对方标题): 锂电池"
    )


def test_run_matching_while_the_index_is_busy_is_queued_and_the_page_says_so(
    ent: TestClient, html, private_demand_id, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The form takes the API's path: a short wait for the index, then a worker job, never an error."""
    monkeypatch.setattr(record_service, "RUN_NOW_WAIT_S", 0.3)
    page = html(ent.get(f"/demands/{private_demand_id}/matches").text)
    form = page.soup.select_one("form[action$='/matches/run']")
    assert ent.post(form["action"], data={"csrf_token": page.csrf()}).status_code == 200  # index made
    (lock_file,) = (settings.data_dir / "match-index").glob("*.lock")
    with lock_file.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as ``match --all`` holds it
        after = html(ent.post(form["action"], data={"csrf_token": page.csrf()}).text)
    assert after.texts(".flash-info") == [f"{MSG['matching_queued']} ×"]
    assert after.texts("#matching-queued")
    assert run_pending(settings.database_url, settings) >= 1
    assert not html(ent.get(f"/demands/{private_demand_id}/matches").text).texts("#matching-queued")


def test_password_change_checks_the_current_password(ent: TestClient, html) -> None:
    token = html(ent.get("/account").text).csrf()
    wrong = ent.post(
        "/account/password",
        data={"csrf_token": token, "current_password": "nope-nope", "new_password": "another-long-pw"},
    )
    assert html(wrong.text).texts(".flash-error") == ["当前密码不正确 ×"]
    done = ent.post(
        "/account/password",
        data={"csrf_token": token, "current_password": "correct-horse-42", "new_password": "another-long-pw"},
    )
    assert html(done.text).texts(".flash-success") == ["密码已修改; 其他设备上的登录和全部 API 令牌已失效 ×"]


def test_repeated_wrong_passwords_are_throttled(client: TestClient, html) -> None:
    token = html(client.get("/login").text).csrf()
    for _ in range(6):  # the accounts service allows 5 failures per window
        last = client.post(
            "/login", data={"username": "wuxi_ent", "password": "guess-guess", "csrf_token": token}
        )
    assert html(last.text).texts(".form-error") == ["登录尝试过于频繁, 请稍后再试"]


def test_words_the_engine_reads_in_lower_case_are_shown_as_the_title_spells_them() -> None:
    from techbridge.web.views.matches import as_written

    assert as_written(["oled", "蒸镀", "掩模"], "显示面板 OLED 蒸镀掩膜版") == ["OLED", "蒸镀", "掩模"]
