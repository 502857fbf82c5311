"""Deals as the parties live them: the confirmation step with a note, who sees which buttons, a
university on the deal of its patent, contacts for the parties, and real files up and down."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.domain.access import Scope
from techbridge.services import deals
from techbridge.store.db import session_scope

from .conftest import PRIVATE_DEMAND, Html, _login, store_matches

OWN_PATENT = "一种锂电池陶瓷涂覆隔膜及其制备方法"  # 江南大学's, in Wuxi
SHARED_DEMAND = "储能电站热管理系统优化"  # Wuxi's, shared with other zones


def _start(
    settings: Settings, ids: dict[str, dict[str, int]], kind: str = "achievement", name: str = OWN_PATENT
) -> int:
    with session_scope(settings.resolved_database_url) as session:
        deal = deals.start_deal(
            session,
            demand_id=ids["demand"][PRIVATE_DEMAND],
            resources=[(kind, ids[kind][name])],
            actor="wuxi_ent",
            scope=Scope("wuxi"),
            note="企业发起",
        )
    return deal.id


def test_starting_a_deal_asks_for_confirmation_and_keeps_the_note(
    ent: TestClient, html: type[Html], ids: dict[str, dict[str, int]], private_demand_id: int
) -> None:
    patent = ids["achievement"][OWN_PATENT]
    confirm = html(
        ent.get(f"/demands/{private_demand_id}/deals/new?target_kind=achievement&target_id={patent}").text
    )
    assert confirm.texts("h1") == ["确认发起对接"]
    assert confirm.texts(".confirm-demand") == [PRIVATE_DEMAND] and confirm.texts(".confirm-resource") == [
        OWN_PATENT
    ]
    assert "江南大学" in confirm.texts(".confirm-deal")[0]
    form = confirm.soup.select_one("form[action$='/deals']")
    data = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    done = ent.post(form["action"], data={**data, "note": "希望了解许可方式, 联系人王经理"})
    page = html(done.text)
    assert page.texts(".flash-success span")[0].startswith("已发起对接")
    assert "希望了解许可方式, 联系人王经理" in page.texts(".timeline")[0]
    assert "王经理" in page.texts(".timeline .when")[0]  # the display name, not the username wuxi_ent


def test_another_zones_reader_sees_no_buttons_it_cannot_use_and_zones_from_its_side(
    cd_admin: TestClient,
    wuxi_admin: TestClient,
    settings: Settings,
    html: type[Html],
    ids: dict[str, dict[str, int]],
) -> None:
    demand = ids["demand"][SHARED_DEMAND]
    achievement = ids["achievement"]
    patent = achievement["一种隔膜涂布装置"]  # Chengdu's: "from chengdu" for Wuxi is 本园区 for Chengdu
    reasons = [["zone", "跨园区共享资源 (来自 chengdu)"]]
    store_matches(settings.resolved_database_url, demand, "achievement", [(patent, 0.7, "chengdu", reasons)])
    page = html(cd_admin.get(f"/demands/{demand}/matches").text)
    assert page.texts(".match-title") == ["一种隔膜涂布装置"]
    assert page.soup.select("form[action$='/matches/run']") == []
    assert page.soup.select("a.start-deal") == []
    assert page.texts(".reasons li") == ["园区 本园区资源"]
    wuxi_view = html(wuxi_admin.get(f"/demands/{demand}/matches").text)
    assert wuxi_view.texts(".reasons li") == ["园区 跨园区共享资源 (来自成都国家高新区)"]
    assert len(wuxi_view.soup.select("a.start-deal")) == 1 and wuxi_view.soup.select(
        "form[action$='/matches/run']"
    )
    # The forms behind the buttons refuse, as the missing buttons promised.
    confirm = cd_admin.get(f"/demands/{demand}/deals/new?target_kind=achievement&target_id={patent}")
    assert confirm.status_code == 403 and "不能为这条需求发起对接" in confirm.text


def test_a_university_sees_and_takes_part_in_the_deal_on_its_patent(
    app: FastAPI, ent: TestClient, cd_admin: TestClient, settings: Settings, html: type[Html],
    ids: dict[str, dict[str, int]],
) -> None:  # fmt: skip
    deal_id = _start(settings, ids)
    univ = _login(TestClient(app), "jn_univ")
    board = html(univ.get("/deals").text)
    assert board.texts(".sub")[0].startswith("共 1 个项目")
    page = html(univ.get(f"/deals/{deal_id}").text)
    assert page.soup.select("#to_stage") == []  # parties take part; officers move the stage
    sides = page.texts(".contact-side")
    assert sides[0].startswith("无锡锂能科技有限公司 需求方") and "王经理 企业用户" in sides[0]
    assert sides[1].startswith("江南大学 成果方") and "江南大学技术转移中心" in sides[1]
    posted = univ.post(
        f"/deals/{deal_id}/notes",
        data={"csrf_token": page.csrf(), "body": "已准备许可合同草稿, 见附件"},
        files={"files": ("许可合同草稿.pdf", b"%PDF-1.4 " + b"x" * 5000, "application/pdf")},
    )
    after = html(posted.text)
    assert after.texts(".flash-success span") == ["留言已发布"]
    note = after.soup.select(".deal-note")[-1]
    assert "江南大学技术转移中心" in note.get_text() and "已准备许可合同草稿" in note.get_text()
    link = note.select_one("a.file-chip")["href"]
    # The enterprise downloads it, byte for byte; another zone's officer cannot even see it exists.
    got = ent.get(link)
    assert got.status_code == 200 and got.content.startswith(b"%PDF-1.4") and len(got.content) == 5009
    assert (
        "attachment" in got.headers["content-disposition"]
        and got.headers["x-content-type-options"] == "nosniff"
    )
    assert cd_admin.get(link).status_code == 404
    stored = list((settings.data_dir / "deal-files" / str(deal_id)).iterdir())
    assert len(stored) == 1 and stored[0].suffix == ".pdf" and "许可" not in stored[0].name


def test_an_unrelated_organisation_neither_sees_the_deal_nor_posts(
    app: FastAPI, settings: Settings, html: type[Html], ids: dict[str, dict[str, int]]
) -> None:
    deal_id = _start(settings, ids)
    lab = _login(TestClient(app), "jn_lab")  # 江南大学分析测试中心 owns nothing on this deal
    assert html(lab.get("/deals").text).texts(".sub")[0].startswith("共 0 个项目")
    assert lab.get(f"/deals/{deal_id}").status_code == 404
    token = html(lab.get("/deals").text).csrf()
    assert lab.post(f"/deals/{deal_id}/notes", data={"csrf_token": token, "body": "x"}).status_code == 404


def test_expert_contacts_reach_the_other_zones_party_only_on_the_deal(
    cd_admin: TestClient, settings: Settings, html: type[Html], ids: dict[str, dict[str, int]]
) -> None:
    expert = ids["expert"]["李教授"]  # Wuxi's, shared; contact private to Wuxi on the record pages
    assert "li@example.edu.cn" not in cd_admin.get(f"/experts/{expert}").text
    with session_scope(settings.resolved_database_url) as session:
        deal = deals.start_deal(
            session,
            demand_id=ids["demand"]["航空发动机叶片精密加工"],
            resources=[("expert", expert)],
            actor="cd_admin",
            scope=Scope("chengdu"),
        )
    page = html(cd_admin.get(f"/deals/{deal.id}").text)
    assert any("李教授 · 教授 · 联系方式: li@example.edu.cn" in side for side in page.texts(".contact-side"))


def test_attachments_refuse_bad_types_and_oversize_files_and_keep_nothing(
    settings: Settings, html: type[Html], ids: dict[str, dict[str, int]]
) -> None:
    small = create_app(settings.model_copy(update={"upload_max_mb": 1}))
    admin = _login(TestClient(small), "wuxi_admin")
    deal_id = _start(settings, ids)
    token = html(admin.get(f"/deals/{deal_id}").text).csrf()
    exe = admin.post(
        f"/deals/{deal_id}/notes",
        data={"csrf_token": token, "body": "程序"},
        files={"files": ("tool.exe", b"MZ" * 10, "application/octet-stream")},
    )
    assert exe.status_code == 422
    assert html(exe.text).texts("#note-form .form-error")[0].startswith("不支持的附件类型 .exe: tool.exe")
    assert html(exe.text).soup.select_one("#note-body").get_text() == "程序"  # what was typed stays
    big = admin.post(
        f"/deals/{deal_id}/notes",
        data={"csrf_token": token, "body": "大文件"},
        files={"files": ("扫描件.pdf", b"x" * (1024 * 1024 + 1), "application/pdf")},
    )
    assert big.status_code == 413 and "1 MB" in big.text  # refused before the body is read
    folder = Path(settings.data_dir) / "deal-files" / str(deal_id)
    assert not folder.exists() or list(folder.iterdir()) == []
    assert html(admin.get(f"/deals/{deal_id}").text).soup.select(".deal-note") == []
    # A refused stage change keeps no file either.
    skip = admin.post(
        f"/deals/{deal_id}/advance",
        data={"csrf_token": token, "to_stage": "deployed"},
        files={"attachments": ("方案.docx", b"x" * 100, "application/octet-stream")},
    )
    assert skip.status_code == 422 and (not folder.exists() or list(folder.iterdir()) == [])
