"""The Content-Security-Policy in real Chromium: the pages, their charts and maps work under it.

The browser reports every refused script, style or fetch as a ``securitypolicyviolation`` event; the test
collects them from the moment each page starts loading.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

_COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_pages_charts_and_maps_run_under_the_policy(
    page: Page, login_as: Callable[[str], None], private_demand_id: int
) -> None:
    page.add_init_script(_COLLECT)
    login_as("wuxi_admin")
    expect(page.locator("#chart-chains[data-rendered=true] svg")).to_have_count(1)
    violations = {"/": page.evaluate("window.__csp")}
    for path in (f"/demands/{private_demand_id}/matches", "/dashboard", "/dashboard/funnel", "/account"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        violations[path] = page.evaluate("window.__csp")
    page.goto("/dashboard")
    expect(page.locator("#chart-zone-map[data-rendered=true] svg")).to_have_count(1)  # fetched GeoJSON
    violations["/dashboard (maps)"] = page.evaluate("window.__csp")
    assert all(found == [] for found in violations.values()), violations
