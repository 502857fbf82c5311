"""The layout from a phone to a wide screen, in Chromium: at 390 px the navigation never covers the page
title and nothing widens the page; at 1280–1920 px the deal board shows all seven stages (场景落地
included) or, if it must scroll, says so. Screenshots at 390, 1366 and 1920 px go to
``TECHBRIDGE_SCREENSHOT_DIR`` (``scripts/screenshots.py`` sets it to ``docs/screenshots``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from techbridge.domain.access import Scope
from techbridge.services import deals
from techbridge.store.db import session_scope

from .conftest import PRIVATE_DEMAND

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280, 1366, 1920)
BOARD_CHECK = """() => {
    const board = document.querySelector('.board');
    const col = document.querySelector(".board-col[aria-label='场景落地']").getBoundingClientRect();
    const box = board.getBoundingClientRect();
    return {scrollable: board.scrollWidth > board.clientWidth + 2, inside: col.right <= box.right + 1};
}"""
SHOT_WIDTHS = (390, 1366, 1920)


@pytest.fixture
def deal_id(web_db_url: str, ids: dict[str, dict[str, int]]) -> int:
    """A deal at 场景落地, so the last column of the board has a card to find."""
    with session_scope(web_db_url) as session:
        deal = deals.start_deal(
            session,
            demand_id=ids["demand"][PRIVATE_DEMAND],
            resources=[("achievement", ids["achievement"]["一种锂电池陶瓷涂覆隔膜及其制备方法"])],
            actor="wuxi_admin",
            scope=Scope("wuxi"),
            note="示例",
        )
        deals.advance(
            session,
            deal.id,
            to_stage="deployed",
            actor="wuxi_admin",
            scope=Scope("wuxi"),
            note="许可后直接量产",
        )
        other = deals.start_deal(
            session,
            demand_id=ids["demand"][PRIVATE_DEMAND],
            resources=[("expert", ids["expert"]["李教授"])],
            actor="wuxi_admin",
            scope=Scope("wuxi"),
        )
    return other.id


TITLE_CHECK = """() => {
    const h1 = document.querySelector('main h1').getBoundingClientRect();
    const x = h1.left + Math.min(20, h1.width / 2), y = h1.top + h1.height / 2;
    const side = document.querySelector('.sidebar').getBoundingClientRect();
    const main = document.querySelector('.main').getBoundingClientRect();
    const overlaps = side.left < h1.right && h1.left < side.right
        && side.top < h1.bottom && h1.top < side.bottom;
    // The shell paints the nav's dark band on the left; it must only ever lie under the nav itself.
    const band = getComputedStyle(document.querySelector('.shell')).backgroundImage !== 'none';
    return {
        onTop: document.querySelector('main h1').contains(document.elementFromPoint(x, y)),
        navOverTitle: overlaps,
        darkBandUnderContent: band && side.right > main.left + 1,
        pageWidth: document.documentElement.scrollWidth,
        width: innerWidth,
    };
}"""


def _title_is_clear(page: Page) -> None:
    """The page title is on top where it is drawn, on a light ground, and the page fits the screen."""
    found = page.evaluate(TITLE_CHECK)
    assert found["onTop"] and not found["navOverTitle"], "the navigation covers the page title"
    assert not found["darkBandUnderContent"], "the nav's dark band lies under the page content"
    assert found["pageWidth"] <= found["width"] + 1, f"page is {found['pageWidth']} px wide"


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_fit_the_screen_and_the_board_shows_every_stage(
    page: Page, login_as: Callable[[str], None], deal_id: int, ids: dict[str, dict[str, int]], width: int,
) -> None:  # fmt: skip
    page.set_viewport_size({"width": width, "height": 900})
    login_as("wuxi_admin")
    out = Path(os.environ.get("TECHBRIDGE_SCREENSHOT_DIR", "."))
    instrument = ids["instrument"]["场发射扫描电子显微镜"]
    shots = {
        "home": "/",
        "demands": "/demands",
        "deals-board": "/deals",
        "deal-detail": f"/deals/{deal_id}",
        "instrument-calendar": f"/instruments/{instrument}",
        "bookings": "/bookings",
    }
    for name, path in shots.items():
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        scroll_to_top(page)
        _title_is_clear(page)
        if width in SHOT_WIDTHS and os.environ.get("TECHBRIDGE_SCREENSHOT_DIR"):
            out.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
    page.goto("/deals")
    deployed = page.locator(".board-col[aria-label='场景落地']")
    expect(deployed).to_contain_text(PRIVATE_DEMAND)
    fits = page.evaluate(BOARD_CHECK)
    if width >= 1280:
        assert fits == {"scrollable": False, "inside": True}, fits
    else:
        # On a phone the board scrolls sideways, and says so.
        assert fits["scrollable"]
        expect(page.locator(".board-hint")).to_be_visible()


def scroll_to_top(page: Page) -> None:
    page.evaluate("window.scrollTo(0, 0)")
