"""Who may do what with a deal: the rules the API and the pages both ask, so a button is shown exactly
when the action behind it will be allowed.

- Parties of a deal are its enterprise (the demand's organisation) and the organisations owning its
  resources; their accounts see the deal, post notes and files, and see each other's contacts.
- Zone officers of the deal's zone advance and drop it; a zone that supplied a resource sees the deal
  redacted (stages and dates, its own and shared records) and neither moves it nor takes part.
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


def is_officer(user: User, deal: Deal) -> bool:
    """An officer (admin) of the deal's own zone, or the platform admin: who moves and drops it."""
    return user.is_admin and user.scope.can_edit(zone_code=deal.zone_code)


def can_advance(user: User, deal: Deal) -> bool:
    return is_officer(user, deal) and not deal.is_closed


def can_take_part(user: User, deal: Deal) -> bool:
    """Post notes and files, see the parties' contacts: the officers of the deal's own zone and its
    parties there. A zone that only supplied a resource sees the deal redacted (``accounts.deal_view``:
    no notes, files or people), so it does not take part either."""
    if not user.scope.can_edit(zone_code=deal.zone_code):
        return False
    return user.is_admin or is_party(deal, user.organization)


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
