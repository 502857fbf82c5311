"""Issue 9 through the web pages: the import form honours the zone, every upload is capped, previews expire,
and deal attachments are measured without being read into memory."""

from __future__ import annotations

import io
import os
import time
import tracemalloc
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.domain.access import Scope
from techbridge.domain.accounts import officer
from techbridge.domain.records import Demand
from techbridge.services import deals, transfer
from techbridge.services.worker import run_pending
from techbridge.store.db import session_scope
from techbridge.store.records import RecordQuery, create_record, get_record, list_records

from .conftest import PASSWORD, PRIVATE_DEMAND, Html, _login

CHENGDU_PATENT = "成都内部专利: 钛合金叶片涂层"  # Chengdu's private patent CN113000001A


def _preview(
    client: TestClient,
    html: type[Html],
    kind: str,
    content: bytes,
    name: str = "f.csv",
    *,
    settings: Settings,
) -> object:
    """Upload, let the worker validate the file (imports run as background jobs), and read its page."""
    token = html(client.get("/import").text).csrf()
    uploaded = client.post(
        "/import",
        data={"csrf_token": token, "kind": kind},
        files={"file": (name, content, "text/csv")},
        follow_redirects=False,
    )
    if uploaded.status_code != 303:
        return uploaded  # refused before any job: the upload page with its message
    run_pending(settings.resolved_database_url, settings)
    return client.get(uploaded.headers["location"])


def _confirm(client: TestClient, page: Html, settings: Settings, **fields: str) -> object:
    """Confirm a validated import and let the worker write it; returns the import job's page."""
    form = page.soup.select_one("form#confirm-import")
    assert form is not None, "the preview offers no confirm form"
    data = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    job = client.post(form["action"], data={**data, **fields}, follow_redirects=False)
    if job.status_code != 303:
        return job
    run_pending(settings.resolved_database_url, settings)
    return client.get(job.headers["location"])


def test_web_import_cannot_overwrite_or_create_records_in_another_zone(
    wuxi_admin: TestClient, settings: Settings, html: type[Html]
) -> None:
    """The critical hole: as wuxi_admin, rows naming chengdu overwrote and created Chengdu records."""
    url = settings.resolved_database_url
    with session_scope(url) as s:
        theirs = create_record(
            s,
            Demand(
                zone_code="chengdu",
                external_id="D0013",
                title="成都私有需求原标题",
                organization="成都航宇制造",
            ),
            scope=Scope.platform(),
        ).id
    content = (
        "编号,需求名称,需求单位,园区代码\n"
        "D0013,被覆盖的标题,成都航宇制造,chengdu\n"
        ",在成都新建的需求,某公司,chengdu\n"
        ",无锡自己的新需求,无锡某公司,wuxi\n"
    ).encode()
    preview = html(_preview(wuxi_admin, html, "demand", content, settings=settings).text)
    rows = [r.get_text("|", strip=True) for r in preview.soup.select("#row-errors tbody tr")]
    assert len(rows) == 2 and all("只能导入到本园区 wuxi" in r for r in rows), rows
    done = _confirm(wuxi_admin, preview, settings, skip_invalid="true")
    assert done.status_code == 200, done.text
    with session_scope(url) as s:
        assert get_record(s, "demand", theirs, scope=Scope.platform()).record.title == "成都私有需求原标题"
        chengdu = list_records(s, "demand", scope=Scope("chengdu"), query=RecordQuery(q="新建", per_page=50))
        wuxi = list_records(s, "demand", scope=Scope("wuxi"), query=RecordQuery(q="无锡自己", per_page=50))
    assert chengdu.total == 0 and wuxi.total == 1


def test_web_import_cannot_take_over_another_zones_patent_nor_learn_of_it(
    wuxi_admin: TestClient, settings: Settings, ids: dict[str, dict[str, int]], html: type[Html]
) -> None:
    content = "专利名称,公开号,申请人\n我方改写的标题,CN113000001A,江南大学\n".encode()
    preview = _preview(wuxi_admin, html, "achievement", content, settings=settings)
    assert "其他园区" not in preview.text and "钛合金" not in preview.text
    rows = html(preview.text).texts("#row-errors tbody tr")
    assert len(rows) == 1
    _confirm(wuxi_admin, html(preview.text), settings, skip_invalid="true")
    with session_scope(settings.resolved_database_url) as s:
        kept = get_record(s, "achievement", ids["achievement"][CHENGDU_PATENT], scope=Scope.platform())
    assert (kept.record.title, kept.record.zone_code) == (CHENGDU_PATENT, "chengdu")


def _capped(settings: Settings, username: str = "wuxi_admin", **limits: int) -> TestClient:
    return _login(TestClient(create_app(settings.model_copy(update=limits))), username)


def test_web_upload_over_the_cap_is_413_with_the_cli_named(settings: Settings, html: type[Html]) -> None:
    client = _capped(settings, upload_max_mb=1)
    big = ("需求名称,需求单位\n" + "锂电池隔膜涂覆技术,无锡甲公司\n" * 60_000).encode()
    response = _preview(client, html, "demand", big, settings=settings)
    assert response.status_code == 413
    message = " ".join(html(response.text).texts(".card"))
    assert "1 MB" in message and "techbridge import" in message
    assert not any((settings.data_dir / "uploads").glob("*/*")), "a refused upload must leave no file behind"


def test_web_import_over_the_row_cap_is_refused_with_the_cli_named(
    settings: Settings, html: type[Html]
) -> None:
    capped = settings.model_copy(update={"upload_max_rows": 3})
    client = _login(TestClient(create_app(capped)), "wuxi_admin")
    rows = "".join(f"锂电池隔膜涂覆技术第{i}号,无锡甲公司\n" for i in range(4))
    response = _preview(
        client, html, "demand", ("需求名称,需求单位\n" + rows).encode(), name="big.csv", settings=capped
    )
    # The rows are counted by the validation job (the upload itself returned at once): the job fails with
    # the cap and the command to use instead, and offers nothing to confirm.
    page = html(response.text)
    assert "techbridge import demand big.csv --zone wuxi" in " ".join(page.texts("#job-error"))
    assert page.soup.select("form#confirm-import") == []


def test_abandoned_previews_expire(wuxi_admin: TestClient, settings: Settings, html: type[Html]) -> None:
    uploads = settings.data_dir / "uploads"
    stale = uploads / ("a" * 32)
    stale.mkdir(parents=True)
    (stale / "old.csv").write_text("需求名称,需求单位\n", encoding="utf-8")
    old = time.time() - settings.upload_ttl_hours * 3600 - 60
    os.utime(stale, (old, old))
    preview = _preview(
        wuxi_admin,
        html,
        "demand",
        "需求名称,需求单位\n激光焊接在线监测,无锡激光公司\n".encode(),
        settings=settings,
    )
    assert not stale.exists(), "a new upload sweeps previews older than upload_ttl_hours"
    [fresh] = list(uploads.iterdir())
    # The sweep a scheduled job runs: nothing is stale yet, then everything is.
    assert transfer.remove_stale_uploads(settings) == 0
    old = time.time() - settings.upload_ttl_hours * 3600 - 60
    os.utime(fresh, (old, old))
    confirm = _confirm(wuxi_admin, html(preview.text), settings)
    assert "上传的文件已过期" in confirm.text
    assert transfer.remove_stale_uploads(settings) == 1 and not fresh.exists()


def _deal_page(
    client: TestClient, settings: Settings, ids: dict[str, dict[str, int]], html: type[Html]
) -> tuple[int, str]:
    with session_scope(settings.resolved_database_url) as session:
        deal = deals.start_deal(
            session,
            demand_id=ids["demand"][PRIVATE_DEMAND],
            resources=[("achievement", ids["achievement"]["一种隔膜涂布装置"])],
            actor="wuxi_admin",
            scope=Scope("wuxi"),
        )
    return deal.id, html(client.get(f"/deals/{deal.id}").text).csrf()


def test_a_deal_attachment_is_measured_without_reading_it_into_memory(
    live_server: str, settings: Settings, ids: dict[str, dict[str, int]], html: type[Html], tmp_path: Path
) -> None:
    """Through a real server (TestClient buffers whole request bodies itself, which would hide this)."""
    size = 24 * 1024 * 1024
    attachment = tmp_path / "合同.pdf"
    with attachment.open("wb") as f:
        f.truncate(size)
    with httpx.Client(base_url=live_server, follow_redirects=True) as browser:
        login = html(browser.get("/login").text)
        form = {"username": "wuxi_admin", "password": PASSWORD, "csrf_token": login.csrf()}
        assert browser.post("/login", data=form).status_code == 200
        deal_id, token = _deal_page(browser, settings, ids, html)  # type: ignore[arg-type]
        tracemalloc.start()
        try:
            with attachment.open("rb") as f:
                moved = browser.post(
                    f"/deals/{deal_id}/advance",
                    data={"csrf_token": token, "to_stage": "contacted"},
                    files={"attachments": ("合同.pdf", f, "application/pdf")},
                )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert moved.status_code == 200
    assert "合同.pdf (24576.0 KB)" in html(moved.text).texts(".timeline")[0]
    assert peak < size // 2, f"peak {peak / 2**20:.1f} MB while handling a 24 MB attachment"


def test_a_deal_attachment_over_the_cap_is_413(
    settings: Settings, ids: dict[str, dict[str, int]], html: type[Html]
) -> None:
    client = _capped(settings, upload_max_mb=1)
    deal_id, token = _deal_page(client, settings, ids, html)
    refused = client.post(
        f"/deals/{deal_id}/advance",
        data={"csrf_token": token, "to_stage": "contacted"},
        files={"attachments": ("大文件.zip", io.BytesIO(b"x" * (2 * 1024 * 1024)), "application/zip")},
    )
    assert refused.status_code == 413 and "1 MB" in refused.text
    with session_scope(settings.resolved_database_url) as session:
        assert deals.get_deal(session, deal_id, user=officer("wuxi")).stage == "matched"
