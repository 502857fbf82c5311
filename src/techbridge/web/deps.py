"""Request-level dependencies of the pages: who is looking, and which database they look at.

The viewer comes from the accounts layer; pages only ever see a ``Viewer`` and its ``Scope``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ..config import Settings, get_settings
from ..domain.access import Scope


class LoginRequired(Exception):
    """Raised by ``get_viewer`` when nobody is logged in; the page router turns it into a redirect."""


@dataclass(frozen=True)
class Viewer:
    id: int
    username: str
    display_name: str
    role: str
    zone_code: str | None
    organization: str | None = None

    @property
    def scope(self) -> Scope:
        return Scope(zone_code=None if self.role == "platform_admin" else self.zone_code)

    @property
    def is_admin(self) -> bool:
        return self.role in ("platform_admin", "zone_admin")

    def can_edit(self, record: object, owner_field: str | None) -> bool:
        """Admins edit their zone's records; enterprises and universities only their own organisation's."""
        if not self.scope.can_edit(zone_code=str(getattr(record, "zone_code", ""))):
            return False
        if self.is_admin:
            return True
        owner = getattr(record, owner_field, None) if owner_field else None
        return owner is not None and owner == self.organization


def get_web_settings(request: Request) -> Settings:
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def get_db_url(request: Request) -> str:
    return get_web_settings(request).resolved_database_url


def get_viewer(request: Request) -> Viewer:
    viewer = getattr(request.state, "viewer", None)
    if not isinstance(viewer, Viewer):
        raise LoginRequired
    return viewer


DbUrl = Annotated[str, Depends(get_db_url)]
CurrentViewer = Annotated[Viewer, Depends(get_viewer)]
