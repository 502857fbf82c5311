"""Screenshots of the deal and analytics pages for docs/screenshots/, on the demo data plus sample deals.

Run: ``.venv/bin/python scripts/screenshot_dashboard.py`` (needs Debian's chromium at /usr/bin/chromium).
The sample deals are illustrative (made up with a fixed random seed), not real transfer cases.
"""

from __future__ import annotations

import random
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select, update

from techbridge.api.app import create_app
from techbridge.config import Settings
from techbridge.domain.access import Scope
from techbridge.domain.accounts import Role
from techbridge.domain.deals import PIPELINE, DealStage
from techbridge.domain.records import Achievement, Expert, PilotPlatform
from techbridge.errors import TechBridgeError
from techbridge.services import accounts, deals
from techbridge.services.demo import load_demo
from techbridge.services.zone_registry import load_registry
from techbridge.store.db import session_scope
from techbridge.store.matches import NewMatch, replace_matches
from techbridge.store.records import RecordQuery, create_record, list_records, table_for

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
OTHER_ZONE_RESOURCES = [
    Achievement(
        zone_code="chengdu", title="航空发动机叶片激光冲击强化方法", owner="四川大学", visibility="shared"
    ),
    Achievement(
        zone_code="chengdu", title="一种固态电解质薄膜的制备方法", owner="电子科技大学", visibility="shared"
    ),
    Achievement(zone_code="xian", title="高温合金增材制造工艺", owner="西北工业大学", visibility="shared"),
    Achievement(zone_code="xian", title="碳化硅功率器件封装结构", owner="西安交通大学", visibility="shared"),
    Expert(zone_code="chengdu", name="陈教授", organization="四川大学", visibility="shared"),
    PilotPlatform(
        zone_code="chengdu", name="成都新型电池材料中试平台", operator="成都高新区", visibility="shared"
    ),
]


def build(url: str) -> None:
    load_demo(url)
    load_registry(url)
    with session_scope(url) as s:
        accounts.create_user(
            s,
            username="officer",
            password="screenshot-pass",
            role=Role.ZONE_ADMIN,
            zone_code="wuxi",
            display_name="无锡高新区成果转化处",
        )
        accounts.create_user(
            s,
            username="root",
            password="screenshot-pass",
            role=Role.PLATFORM_ADMIN,
            display_name="平台管理员",
        )
        for record in OTHER_ZONE_RESOURCES:
            create_record(s, record, scope=Scope.platform())
    wuxi = Scope("wuxi")
    rng = random.Random(7)
    _spread_created_at(url, rng)
    demands = _records(url, "demand", wuxi)
    patents = _records(url, "achievement", Scope.platform())
    platforms = list(_records(url, "pilot_platform", Scope.platform()))
    with session_scope(url) as s:
        for demand in demands:
            picks = rng.sample(list(patents), 2)
            replace_matches(
                s,
                source_kind="demand",
                source_id=demand,
                source_zone="wuxi",
                target_kind="achievement",
                matches=[
                    NewMatch(target_id=p, score=rng.uniform(0.05, 0.9), reasons=[], target_zone="wuxi")
                    for p in picks
                ],
            )
    for n in range(45):
        demand = rng.choice(list(demands))
        same_chain = [p for p, chain in patents.items() if chain and chain == demands[demand]]
        resources = [("achievement", rng.choice(same_chain or list(patents)))]
        if rng.random() < 0.3:
            resources.append(("pilot_platform", rng.choice(platforms)))
        started = START + timedelta(days=rng.randint(0, 200))
        try:
            deal = deals.start_deal(
                url,
                demand_id=demand,
                resources=resources,
                actor="officer",
                scope=wuxi,
                note="来自批量匹配结果",
                at=started,
            )
        except TechBridgeError:  # the same demand and resources already have an open deal
            continue
        final = rng.choices(range(len(PIPELINE)), weights=[3, 4, 5, 3, 2, 2, 4])[0]
        when = started
        for stage in PIPELINE[1 : final + 1]:
            when += timedelta(days=rng.randint(4, 24))
            extra = {"contract_value": float(rng.randint(20, 300))} if stage == DealStage.PILOT_TEST else {}
            if stage == DealStage.FUNDING:
                extra = {"funding_amount": float(rng.randint(100, 2000))}
            deals.advance(url, deal.id, to_stage=stage, actor="officer", scope=wuxi, at=when, **extra)  # type: ignore[arg-type]
        if final < len(PIPELINE) - 1 and n % 5 == 4:
            deals.drop(
                url,
                deal.id,
                reason="企业调整研发方向",
                actor="officer",
                scope=wuxi,
                at=when + timedelta(days=5),
            )


def _records(url: str, kind: str, scope: Scope) -> dict[int, str | None]:
    """Ids with their industry chain, so sample deals pair a demand with a patent of the same chain."""
    with session_scope(url) as s:
        page = list_records(s, kind, scope=scope, query=RecordQuery(per_page=500))
    return {i.id: getattr(i.record, "industry_chain", None) for i in page.items}


def _spread_created_at(url: str, rng: random.Random) -> None:
    """Imported records all carry today's date; spread them over the year so the trend chart has a shape."""
    with session_scope(url) as s:
        for kind in ("demand", "achievement", "expert", "instrument", "pilot_platform"):
            table = table_for(kind)
            for record_id in s.scalars(select(table.id)):
                created = START + timedelta(days=rng.randint(0, 300))
                s.execute(update(table).where(table.id == record_id).values(created_at=created))


def serve(settings: Settings) -> tuple[uvicorn.Server, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _full_height_shot(page: Page, path: Path) -> None:
    # Grow the window to the page so the sticky sidebar spans it (a full_page capture would cut it off).
    page.set_viewport_size({"width": 1440, "height": 900})
    page.wait_for_timeout(300)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1440, "height": max(900, int(height))})
    page.wait_for_timeout(900)  # ECharts redraws and animates after a resize
    page.screenshot(path=str(path))


def shoot(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", "screenshot-pass")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        shots = {
            "dashboard.png": "/dashboard",
            "funnel.png": "/dashboard/funnel",
            "deals-board.png": "/deals",
            "monthly-report.png": "/reports/monthly?month=2026-06",
        }
        for name, path in shots.items():
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            _full_height_shot(page, OUT / name)
        page.goto(f"{base}/deals")
        page.click(".board-col:nth-child(n+4):not(:last-child) .deal-card >> nth=0")
        page.wait_for_load_state("networkidle")
        _full_height_shot(page, OUT / "deal-detail.png")
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite:///{folder}/shots.sqlite3", secret_key="screenshots", data_dir=Path(folder)
        )
        build(settings.resolved_database_url)
        server, base = serve(settings)
        try:
            shoot(base)
        finally:
            server.should_exit = True
    print(f"screenshots written to {OUT}")  # noqa: T201


if __name__ == "__main__":
    main()
