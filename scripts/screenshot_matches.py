"""Screenshots of the 撮合 page of the issue's sample demands, from a demo database, in headless Chromium.

Usage: ``TECHBRIDGE_DATABASE_URL=sqlite:///var/demo.sqlite3 .venv/bin/python scripts/screenshot_matches.py``
after ``techbridge demo`` (with the encoder installed). Writes docs/screenshots/match-<n>.png.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from techbridge.app import create_app

ROOT = Path(__file__).resolve().parent.parent
DEMANDS = (
    "锂电池隔膜陶瓷涂覆工艺优化",
    "功率半导体模块散热封装",
    "医用导管抗菌涂层",
    "驱动电机永磁体退磁检测",
)
PORT = 8765


def main() -> None:
    url = os.environ["TECHBRIDGE_DATABASE_URL"]
    ids = dict(
        sqlite3.connect(url.removeprefix("sqlite:///")).execute("select title, id from demands").fetchall()
    )
    server = uvicorn.Server(uvicorn.Config(create_app(), port=PORT, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("TECHBRIDGE_CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1366, "height": 1100})
        page.goto(f"http://127.0.0.1:{PORT}/login")
        page.fill("#username", "wuxi_admin")
        page.fill("#password", "techbridge-demo")
        page.press("#password", "Enter")
        page.wait_for_load_state()
        for n, title in enumerate(DEMANDS, start=1):
            page.goto(f"http://127.0.0.1:{PORT}/demands/{ids[title]}/matches")
            page.screenshot(path=str(ROOT / "docs" / "screenshots" / f"match-{n}.png"), full_page=False)
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
