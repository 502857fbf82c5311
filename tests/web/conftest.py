"""Fixtures for the web pages: a seeded two-zone database, the app, and logged-in clients.

The seed tells one story across two zones: a Wuxi enterprise's private demand with stored matches
(including a patent Chengdu shares), a shared Chengdu demand, instruments with bookings, and one
account per role that the tests log in as.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.domain.access import Scope
from techbridge.domain.accounts import Role
from techbridge.domain.records import Achievement, Demand, Expert, Instrument, PilotPlatform, Zone
from techbridge.match.reasons import Reason
from techbridge.services import accounts
from techbridge.store.bookings import create_booking
from techbridge.store.db import get_engine, init_db, session_scope
from techbridge.store.matches import NewMatch, replace_matches
from techbridge.store.records import RecordQuery, list_records, upsert_records
from techbridge.store.zone_registry import upsert_zones

from ..live import serve

PASSWORD = "correct-horse-42"
USERS: dict[str, dict[str, object]] = {
    "wuxi_ent": {
        "role": Role.ENTERPRISE,
        "zone_code": "wuxi",
        "organization": "无锡锂能科技有限公司",
        "display_name": "王经理",
    },
    "wuxi_admin": {"role": Role.ZONE_ADMIN, "zone_code": "wuxi", "display_name": "无锡高新区管委会"},
    "cd_admin": {"role": Role.ZONE_ADMIN, "zone_code": "chengdu", "display_name": "成都高新区管委会"},
    "jn_univ": {
        "role": Role.UNIVERSITY,
        "zone_code": "wuxi",
        "organization": "江南大学",
        "display_name": "江南大学技术转移中心",
    },
    "jn_lab": {
        "role": Role.UNIVERSITY,
        "zone_code": "wuxi",
        "organization": "江南大学分析测试中心",
        "display_name": "分析测试中心刘老师",
    },
}
PRIVATE_DEMAND = "锂电池隔膜涂覆工艺升级"
BEIJING = ZoneInfo("Asia/Shanghai")


def _ids(url: str, kind: str) -> dict[str, int]:
    with session_scope(url) as s:
        page = list_records(s, kind, scope=Scope.platform(), query=RecordQuery(per_page=100))
    return {getattr(i.record, "name", None) or i.record.title: i.id for i in page.items}


def store_matches(
    url: str, demand_id: int, target_kind: str, rows: list[tuple[int, float, str, list[list[Any]]]]
) -> None:
    """Store what batch matching would for a Wuxi demand: (target id, score, target zone, reasons), each
    reason [code, text] or [code, text, terms] stored as the engine stores it (``Reason._asdict()``)."""
    with session_scope(url) as s:
        replace_matches(
            s,
            source_kind="demand",
            source_id=demand_id,
            source_zone="wuxi",
            target_kind=target_kind,
            matches=[
                NewMatch(target, score, [Reason(*r)._asdict() for r in reasons], zone)
                for target, score, zone, reasons in rows
            ],
        )


def seed(url: str) -> dict[str, dict[str, int]]:
    """Fill a migrated database with the two-zone story; returns record ids by kind and title."""
    with session_scope(url) as s:
        upsert_zones(
            s,
            [
                Zone(code="wuxi", name="无锡国家高新区", province="江苏"),
                Zone(code="chengdu", name="成都国家高新区", province="四川"),
            ],
        )
        accounts_by_name = {
            username: accounts.create_user(s, username=username, password=PASSWORD, **spec).id
            for username, spec in USERS.items()
        }
        upsert_records(
            s,
            "demand",
            [
                Demand(
                    zone_code="wuxi",
                    title=PRIVATE_DEMAND,
                    organization="无锡锂能科技有限公司",
                    industry_chain="新能源",
                    keywords="锂电池;隔膜;涂覆",
                    budget_min=50,
                    budget_max=200,
                    description="现有隔膜涂覆均匀性不足, 希望引入陶瓷涂覆新工艺, 提升电池安全性。",
                ),
                Demand(
                    zone_code="wuxi",
                    title="储能电站热管理系统优化",
                    organization="无锡储能集团",
                    industry_chain="新能源",
                    visibility="shared",
                    keywords="储能;热管理",
                ),
                Demand(
                    zone_code="wuxi",
                    title="半导体晶圆缺陷视觉检测",
                    organization="无锡芯测科技",
                    industry_chain="集成电路",
                    keywords="机器视觉;晶圆",
                ),
                Demand(
                    zone_code="chengdu",
                    title="航空发动机叶片精密加工",
                    organization="成都航宇制造",
                    industry_chain="航空航天",
                    visibility="shared",
                    keywords="叶片;精密加工",
                ),
            ],
        )
        upsert_records(
            s,
            "achievement",
            [
                Achievement(
                    zone_code="wuxi",
                    publication_number="CN114081026A",
                    title="一种锂电池陶瓷涂覆隔膜及其制备方法",
                    owner="江南大学",
                    ipc_codes="H01M 50/449; H01M 10/052",
                    trl=6,
                    legal_status="granted",
                    abstract="公开了一种陶瓷涂覆隔膜, 涂层均匀, 热稳定性好。",
                    industry_chain="新能源",
                ),
                Achievement(
                    zone_code="chengdu",
                    publication_number="CN215792497U",
                    title="一种隔膜涂布装置",
                    owner="四川大学",
                    ipc_codes="B05C 5/02",
                    trl=5,
                    kind="utility_model",
                    visibility="shared",
                    legal_status="granted",
                    industry_chain="新能源",
                ),
                Achievement(
                    zone_code="chengdu",
                    publication_number="CN113000001A",
                    title="成都内部专利: 钛合金叶片涂层",
                    owner="电子科技大学",
                    ipc_codes="C23C 14/06",
                    trl=4,
                ),
                Achievement(
                    zone_code="wuxi", title="晶圆缺陷检测算法软件", owner="江南大学", kind="software", trl=7
                ),
            ],
        )
        upsert_records(
            s,
            "expert",
            [
                Expert(
                    zone_code="wuxi",
                    name="李教授",
                    organization="江南大学",
                    title="教授",
                    fields="电化学;电池材料",
                    visibility="shared",
                    contact="li@example.edu.cn",
                ),
            ],
        )
        upsert_records(
            s,
            "instrument",
            [
                Instrument(
                    zone_code="wuxi",
                    name="场发射扫描电子显微镜",
                    model="SU8020",
                    category="电子显微镜",
                    owner="江南大学分析测试中心",
                    location="无锡市蠡湖大道1800号",
                    hourly_fee=400,
                    opening_hours="周一至周五 08:30-17:30",
                ),
            ],
        )
        upsert_records(
            s,
            "pilot_platform",
            [
                PilotPlatform(
                    zone_code="chengdu",
                    name="新能源电池中试基地",
                    operator="成都新能源研究院",
                    industry_chains="新能源",
                    capabilities="隔膜与电芯小批量中试",
                    visibility="shared",
                ),
            ],
        )
    ids = {
        kind: _ids(url, kind) for kind in ("demand", "achievement", "expert", "instrument", "pilot_platform")
    }
    demand_id = ids["demand"][PRIVATE_DEMAND]
    achievement, expert, platform = ids["achievement"], ids["expert"], ids["pilot_platform"]
    store_matches(url, demand_id, "achievement", [
        (achievement["一种锂电池陶瓷涂覆隔膜及其制备方法"], 0.92, "wuxi", [
            ["title_terms", "标题命中关键词: 锂电池、隔膜、涂覆"], ["ipc", "IPC 分类相同: H01M"],
            ["chain", "产业链相同: 新能源"], ["zone", "本园区资源"]]),
        (achievement["一种隔膜涂布装置"], 0.71, "chengdu", [
            ["terms", "内容命中关键词: 隔膜、涂布"], ["zone", "跨园区共享资源 (来自 chengdu)"]]),
        (achievement["成都内部专利: 钛合金叶片涂层"], 0.30, "chengdu", [["terms", "内容命中关键词: 涂层"]]),
    ])  # fmt: skip
    store_matches(
        url, demand_id, "expert", [(expert["李教授"], 0.64, "wuxi", [["terms", "研究领域: 电池材料"]])]
    )
    store_matches(
        url,
        demand_id,
        "pilot_platform",
        [(platform["新能源电池中试基地"], 0.58, "chengdu", [["chain", "产业链相同: 新能源"]])],
    )
    with session_scope(url) as s:
        # Next week's Tuesday 09:00 Beijing time, so the booking is always in the future; the week is
        # Beijing's, not UTC's (they differ every Sunday from 16:00 UTC).
        today = datetime.now(BEIJING).date()
        monday = datetime.combine(today + timedelta(days=7 - today.weekday()), clock_time(9), BEIJING)
        create_booking(
            s,
            ids["instrument"]["场发射扫描电子显微镜"],
            scope=Scope.platform(),
            starts_at=monday + timedelta(days=1),
            ends_at=monday + timedelta(days=1, hours=3),
            booked_by="王经理",
            purpose="隔膜表面形貌表征",
            user_id=accounts_by_name["wuxi_ent"],
        )
    return ids


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, int]]]:
    """Migrate and seed once per run (argon2 hashing is slow on purpose); tests get a copy each."""
    path = tmp_path_factory.mktemp("seed") / "techbridge.sqlite3"
    url = f"sqlite:///{path}"
    init_db(url)
    ids = seed(url)
    with get_engine(url).connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    get_engine(url).dispose()
    return path, ids


@pytest.fixture
def web_db_url(seeded_db: tuple[Path, dict[str, dict[str, int]]], tmp_path: Path) -> str:
    copy = tmp_path / "techbridge.sqlite3"
    shutil.copyfile(seeded_db[0], copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def ids(seeded_db: tuple[Path, dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    return seeded_db[1]


@pytest.fixture
def settings(web_db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=web_db_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-for-web",
    )


@pytest.fixture
def app(settings: Settings, ids: dict[str, dict[str, int]]) -> FastAPI:
    return create_app(settings)


def submit_login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    """Fill in and send the login form as a browser would; the response is the redirect (or the form)."""
    page = client.get("/login")
    token = BeautifulSoup(page.text, "html.parser").select_one("input[name=csrf_token]")["value"]
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        # Sent by hand: a client keeps a Secure cookie from an http:// URL but never sends it back there.
        headers={"Cookie": f"tb_login_csrf={page.cookies['tb_login_csrf']}"},
        follow_redirects=False,
    )


def _login(client: TestClient, username: str) -> TestClient:
    response = submit_login(client, username)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def private_demand_id(ids: dict[str, dict[str, int]]) -> int:
    return ids["demand"][PRIVATE_DEMAND]


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


@pytest.fixture
def sign_in(app: FastAPI) -> Callable[[str], TestClient]:
    """A new client logged in as ``username`` now (inside a test's own clock, if it sets one)."""
    return lambda username: _login(TestClient(app), username)


@pytest.fixture
def ent(app: FastAPI) -> TestClient:
    return _login(TestClient(app), "wuxi_ent")


@pytest.fixture
def wuxi_admin(app: FastAPI) -> TestClient:
    return _login(TestClient(app), "wuxi_admin")


@pytest.fixture
def cd_admin(app: FastAPI) -> TestClient:
    return _login(TestClient(app), "cd_admin")


# -- real browser ------------------------------------------------------------------------------------

REQUIRE_ALL = os.environ.get("TECHBRIDGE_TEST_REQUIRE_ALL") == "1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _chromium_path() -> str | None:
    path = (
        os.environ.get("TECHBRIDGE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    return path if path and Path(path).exists() else None


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app on a free local port, served by uvicorn in a thread for the browser to visit."""
    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = _chromium_path()
    if path is None:
        if REQUIRE_ALL:
            pytest.fail("Chromium is required in CI (TECHBRIDGE_TEST_REQUIRE_ALL=1) but was not found")
        pytest.skip("Chromium not installed (apt-get install chromium, or set TECHBRIDGE_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, live_server: str) -> Iterator[object]:
    context = browser.new_context(
        base_url=live_server, viewport={"width": 1440, "height": 900}, locale="zh-CN"
    )  # type: ignore[attr-defined]
    page = context.new_page()
    # Generous: on a loaded 2-core runner a page load took over 10 s (seen: goto /login timed out).
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def login_as(page: object) -> Callable[[str], None]:
    """Log the browser page in through the real form."""

    def go(username: str) -> None:
        page.goto("/login")  # type: ignore[attr-defined]
        page.fill("#username", username)  # type: ignore[attr-defined]
        page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
        page.wait_for_selector(".sidebar")  # type: ignore[attr-defined]

    return go


class Html:
    """A parsed page with the two questions tests ask of it: the texts of a selector, a form's token."""

    def __init__(self, text: str) -> None:
        self.soup = BeautifulSoup(text, "html.parser")

    def texts(self, selector: str) -> list[str]:
        return [re.sub(r"\s+", " ", el.get_text(" ", strip=True)) for el in self.soup.select(selector)]

    def csrf(self) -> str:
        field = self.soup.select_one("input[name=csrf_token]")
        assert field is not None, "page has no form with a CSRF token"
        return str(field["value"])


@pytest.fixture
def matches_stored() -> Callable[[str, int, str, list[tuple[int, float, str, list[Any]]]], None]:
    return store_matches


@pytest.fixture
def html() -> type[Html]:
    return Html


@pytest.fixture
def run_jobs(web_db_url: str, settings: Settings) -> Callable[[], int]:
    """Run the background jobs that are due, as ``techbridge worker`` would, and return how many ran."""
    from techbridge.services.worker import run_pending

    return lambda: run_pending(web_db_url, settings)


@pytest.fixture
def worker(web_db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """``techbridge worker`` in a thread beside the live server, polling often so tests stay quick."""
    from techbridge.config import get_settings
    from techbridge.services.worker import Worker

    # Single-record matching reads the global settings for its index folder: the test's data dir.
    monkeypatch.setenv("TECHBRIDGE_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    settings.worker_poll_seconds = 0.1
    running = Worker(web_db_url, settings)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    yield running
    running.stop()
    thread.join(timeout=60)
    get_settings.cache_clear()
