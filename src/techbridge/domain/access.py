"""Who may see what: the zone-isolation rule in one place ("cloud matching" shares, never leaks).

The store mirrors each rule as a SQL condition (``store.records.visible_clause``,
``store.deals.visible_deals``) so lists are filtered in the database; the per-role rules on top are in
``accounts``.
"""

from __future__ import annotations

from collections.abc import Iterable
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

    def can_see_deal(self, *, zone_code: str, resource_zones: Iterable[str]) -> bool:
        """A deal is seen by its demand's zone and by every zone that supplied one of its resources."""
        return self.zone_code is None or self.zone_code == zone_code or self.zone_code in set(resource_zones)

    def can_edit(self, *, zone_code: str) -> bool:
        return self.zone_code is None or zone_code == self.zone_code
