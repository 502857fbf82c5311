"""Who may do what with a deal: the rules the API and the pages both ask, so a button is shown exactly
when the action behind it will be allowed.

- Parties of a deal are its enterprise (the demand's organisation) and the organisations owning its
  resources; their accounts see the deal, post notes and files, and see each other's contacts.
- Zone officers of the deal's zone advance and drop it; officers of a zone that supplied a resource
  see it and take part (notes, files), but do not move it.
- A deal is started in the demand's zone by its officers, by the demand's enterprise, or by the owner
  of one of the resources (a university offering its patent to a demand).
"""

from __future__ import annotations

from collections.abc import Iterable

from .accounts import User
from .deals import Deal


def is_party(deal: Deal, organization: str | None) -> bool:
    """Whether the organisation is the deal's enterprise or owns one of its resources."""
    return bool(organization) and (
        deal.enterprise == organization or any(r.owner == organization for r in deal.resources)
    )


def party_of(user: User) -> str | None:
    """The organisation whose deals an organisation user sees; None for officers, who see the zone's."""
    return None if user.is_admin else (user.organization or "")


def can_advance(user: User, deal: Deal) -> bool:
    return user.is_admin and user.scope.can_edit(zone_code=deal.zone_code) and not deal.is_closed


def can_take_part(user: User, deal: Deal) -> bool:
    """Post notes and files: the deal's officers (own or supplying zone) and its parties."""
    if user.is_admin:
        zones = {deal.zone_code, *deal.supplier_zones}
        return user.scope.zone_code is None or user.scope.zone_code in zones
    return is_party(deal, user.organization)


def can_start_deal(
    user: User, *, demand_zone: str, demand_org: str | None, resource_owners: Iterable[str | None]
) -> bool:
    """Whether starting a deal on this demand with these resources would be allowed."""
    if not user.scope.can_edit(zone_code=demand_zone):
        return False
    if user.is_admin:
        return True
    org = user.organization
    return bool(org) and (org == demand_org or org in set(resource_owners))
