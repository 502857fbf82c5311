"""Who may see what: the zone-isolation rule in one place ("cloud matching" shares, never leaks)."""

from __future__ import annotations

from dataclasses import dataclass

from .enums import Visibility


@dataclass(frozen=True)
class Scope:
    """The zone a reader acts for. ``zone_code=None`` is the platform administrator, who sees all."""

    zone_code: str | None

    @classmethod
    def platform(cls) -> Scope:
        return cls(zone_code=None)

    def can_see(self, *, zone_code: str, visibility: str) -> bool:
        return self.zone_code is None or zone_code == self.zone_code or visibility == Visibility.SHARED

    def can_edit(self, *, zone_code: str) -> bool:
        return self.zone_code is None or zone_code == self.zone_code
