"""The left navigation: one list, so every page (and every branch that adds pages) shares it.

Each entry is ``(key, label, url, roles)``; ``roles=None`` means every logged-in user.
A page marks its entry active by passing ``nav_active=key`` to ``render``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .strings_zh import NAV
from .urls import urls


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    icon: str  # a name from ``icons.PATHS`` (inline SVG), never a glyph that fonts may lack
    roles: frozenset[str] | None = None
    section: str = ""

    def visible_to(self, role: str) -> bool:
        return self.roles is None or role in self.roles


ADMINS = frozenset({"platform_admin", "zone_admin"})

NAV_ITEMS: list[NavItem] = [
    NavItem("home", NAV["home"], urls.home(), "home"),
    NavItem("demand", NAV["demand"], urls.kind_list("demand"), "demand", section="三大中心"),
    NavItem(
        "achievement", NAV["achievement"], urls.kind_list("achievement"), "achievement", section="三大中心"
    ),
    NavItem("capability", NAV["capability"], urls.capability(), "capability", section="三大中心"),
    NavItem("deals", NAV["deals"], urls.deals(), "deals", section="撮合与分析"),
    NavItem("bookings", NAV["bookings"], urls.my_bookings(), "bookings", section="撮合与分析"),
    NavItem("dashboard", NAV["dashboard"], urls.dashboard(), "dashboard", section="撮合与分析"),
    NavItem("report", NAV["report"], urls.monthly_report(), "report", ADMINS, section="撮合与分析"),
    NavItem("import", NAV["import"], urls.import_upload(), "import", ADMINS, section="数据与管理"),
    NavItem("jobs", NAV["jobs"], urls.jobs(), "jobs", section="数据与管理"),
    NavItem(
        "notifications", NAV["notifications"], urls.notifications(), "notifications", section="数据与管理"
    ),
    NavItem("chains", NAV["chains"], urls.chains(), "chains", ADMINS, section="数据与管理"),
    NavItem(
        "zone_settings",
        NAV["zone_settings"],
        urls.zone_settings(),
        "zone_settings",
        ADMINS,
        section="数据与管理",
    ),
    NavItem("admin", NAV["admin"], urls.admin_users(), "admin", ADMINS, section="数据与管理"),
    NavItem("account", NAV["account"], urls.account(), "account", section="数据与管理"),
]


def nav_for(role: str) -> list[NavItem]:
    return [item for item in NAV_ITEMS if item.visible_to(role)]
