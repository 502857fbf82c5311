"""Screenshots of the deal and analytics pages for docs/screenshots/, on the demo data and its sample deals.

Run: ``.venv/bin/python scripts/screenshot_dashboard.py`` (needs Debian's chromium at /usr/bin/chromium).
The demo's deals are labelled samples (real matches, made-up stages and dates), not real transfer cases.
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

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.services.demo import DEMO_PASSWORD, load_demo
from techbridge.store.db import session_scope
from techbridge.store.records import table_for

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


def build(url: str, settings: Settings) -> None:
    """The demo (real matches, labelled sample deals) with record dates spread over the year."""
    load_demo(url, settings=settings)
    _spread_created_at(url, random.Random(7))


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
        page.fill("input[name=username]", "wuxi_admin")
        page.fill("input[name=password]", DEMO_PASSWORD)
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
        build(settings.resolved_database_url, settings)
        server, base = serve(settings)
        try:
            shoot(base)
        finally:
            server.should_exit = True
    print(f"screenshots written to {OUT}")  # noqa: T201


if __name__ == "__main__":
    main()
