"""The industry-chain catalogue as a zone administrator edits it in the browser (产业链目录).

Defaults ship with the release; a zone adds its own chains or renames a default by saving the same code.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..domain.accounts import User
from ..domain.records import IndustryChain
from ..errors import PermissionDenied
from ..store import catalogue as store


def chains(session: Session, *, zone_code: str | None) -> list[IndustryChain]:
    """The catalogue as a zone sees it (the defaults alone without a zone)."""
    return store.list_chains(session, zone_code=zone_code)


def _check(user: User, zone_code: str) -> None:
    if not (user.is_admin and zone_code and user.scope.can_edit(zone_code=zone_code)):
        raise PermissionDenied("只有本园区管理员可以修改产业链目录")


def save_chain(
    session: Session, *, user: User, zone_code: str, code: str, name: str, keywords: str
) -> IndustryChain:
    """Add a chain to the zone's catalogue, or rename one (a default with that code is overridden);
    a bad code or name raises pydantic's ``ValidationError`` for the page to show per field."""
    _check(user, zone_code)
    chain = IndustryChain(
        code=code.strip().lower(), name=name.strip(), keywords=keywords, zone_code=zone_code
    )
    return store.save_chain(session, chain)


def remove_chain(session: Session, *, user: User, zone_code: str, code: str) -> None:
    _check(user, zone_code)
    store.remove_chain(session, zone_code=zone_code, code=code)
