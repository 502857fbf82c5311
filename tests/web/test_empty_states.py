"""An empty platform (a new zone on its first day): every list page says so and offers the next step.

Also checks that the slow actions carry the busy indicator that ``static/app.js`` turns on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.domain.accounts import Role
from techbridge.domain.records import Zone
from techbridge.services import accounts
from techbridge.store.db import session_scope
from techbridge.store.zone_registry import upsert_zones

from .conftest import PASSWORD, _login


@pytest.fixture
def empty_admin(sqlite_url: str, tmp_path: Path) -> TestClient:
    """A zone admin of a zone with no records, deals or matches yet."""
    with session_scope(sqlite_url) as s:
        upsert_zones(s, [Zone(code="wuxi", name="无锡国家高新区", province="江苏")])
        accounts.create_user(
            s, username="wuxi_admin", password=PASSWORD, role=Role.ZONE_ADMIN, zone_code="wuxi"
        )
    settings = Settings(
        environment="test",
        database_url=sqlite_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-empty",
    )
    return _login(TestClient(create_app(settings)), "wuxi_admin")


@pytest.mark.parametrize(
    ("path", "title", "action"),
    [
        ("/demands", "暂无记录", "/demands/new"),
        ("/achievements", "暂无记录", "/achievements/new"),
        ("/experts", "暂无记录", "/experts/new"),
        ("/instruments", "暂无记录", "/instruments/new"),
        ("/pilot-platforms", "暂无记录", "/pilot-platforms/new"),
        ("/demands?q=不存在的关键词", "没有符合条件的记录, 请调整筛选条件", None),
    ],
)
def test_empty_record_lists_say_so_and_offer_the_next_step(
    empty_admin: TestClient, html, path: str, title: str, action: str | None
) -> None:
    response = empty_admin.get(path)
    assert response.status_code == 200
    page = html(response.text)
    assert page.texts(".empty .empty-title") == [title]
    assert not page.soup.select("table.data tbody tr")
    if action:
        assert [a["href"] for a in page.soup.select(".empty a.btn")] == [action]


@pytest.mark.parametrize("path", ["/", "/capability", "/deals", "/dashboard", "/account"])
def test_other_pages_show_an_empty_state_instead_of_blank_space(
    empty_admin: TestClient, html, path: str
) -> None:
    response = empty_admin.get(path)
    assert response.status_code == 200
    page = html(response.text)
    assert page.soup.select(".empty .empty-title"), f"{path} has no empty state"
    assert all(t.strip() for t in page.texts(".empty .empty-title"))


def test_slow_actions_show_the_busy_indicator(empty_admin: TestClient, html) -> None:
    page = html(empty_admin.get("/import").text)
    (upload,) = page.soup.select("form[enctype='multipart/form-data']")
    assert upload["data-busy"] == "正在上传文件…"  # validation itself runs as a job with its own progress
    assert upload.select_one("button[type=submit]")["data-loading-text"]
    assert page.soup.select_one("#busy-overlay") is not None
