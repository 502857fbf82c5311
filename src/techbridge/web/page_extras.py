"""What the layout shows on every page beyond ``render``'s basics: the unread count of 站内信 and, for
the platform administrator, the zone picker (instead of typing ``?zone=`` into the address bar)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request

from ..domain.accounts import Role, User
from ..errors import TechBridgeError
from ..request_context import database_url
from ..services import notifications
from ..store.db import session_scope
from ..store.zone_registry import list_zones
from ..store.zone_settings import zones_in_use

ZONE_PICKER_PATHS = frozenset(
    {
        "/dashboard",
        "/dashboard/funnel",
        "/reports/monthly",
        "/import",
        "/jobs",
        "/settings/zone",
        "/settings/chains",
    }
)
"""Pages that act on one zone chosen by ``?zone=``: the platform admin picks it from a select there."""
_ZONES_TTL = 60.0
_zone_cache: dict[str, tuple[float, list[tuple[str, list[tuple[str, str]]]]]] = {}


def zone_groups(db: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Zones as (group label, [(code, name)]): zones with accounts first, then the rest of the registry.
    Cached for a minute per database: the registry changes rarely and every admin page shows it."""
    cached = _zone_cache.get(db)
    if cached is not None and time.monotonic() - cached[0] < _ZONES_TTL:
        return cached[1]
    with session_scope(db) as session:
        zones = list_zones(session)
        used = zones_in_use(session)
    active = [(z.code, z.name) for z in zones if z.code in used]
    rest = [(z.code, f"{z.name} ({z.province})") for z in zones if z.code not in used]
    groups = [("已开通的园区", active), ("其他国家高新区", rest)]
    groups = [(label, items) for label, items in groups if items]
    _zone_cache[db] = (time.monotonic(), groups)
    return groups


def page_extras(request: Request) -> dict[str, Any]:
    viewer = getattr(request.state, "viewer", None)
    if not isinstance(viewer, User):
        return {}
    db = database_url(request)
    try:
        with session_scope(db) as session:
            unread = notifications.unread_count(session, user=viewer)
    except TechBridgeError:
        unread = 0
    extras: dict[str, Any] = {"unread_count": unread, "zone_groups": [], "zone_picker": False}
    if viewer.role == Role.PLATFORM_ADMIN:
        extras["zone_groups"] = zone_groups(db)
        extras["zone_picker"] = request.url.path in ZONE_PICKER_PATHS
        extras["picked_zone"] = request.query_params.get("zone", "")
    return extras
