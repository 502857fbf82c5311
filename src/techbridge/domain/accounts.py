"""Users, roles and the pure permission rules of who may see and edit which record, deal and booking.

Zone isolation itself (``Scope``) lives in ``access.py``; this module adds the per-role rules on top:
organisations edit only their own records and see only the deals they are party to, expert contacts and
who booked an instrument stay inside their zone, and a deal shows another zone's record only to a reader
who may read that record. Every service applies these functions; nothing else decides who reads what.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .access import Scope
from .deals import HIDDEN_RECORD_ZH, Deal
from .records import Expert, Record


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    ZONE_ADMIN = "zone_admin"
    ENTERPRISE = "enterprise"
    UNIVERSITY = "university"
    EXPERT = "expert"


ROLE_LABELS_ZH: dict[Role, str] = {
    Role.PLATFORM_ADMIN: "平台管理员",
    Role.ZONE_ADMIN: "园区管理员",
    Role.ENTERPRISE: "企业用户",
    Role.UNIVERSITY: "高校/院所用户",
    Role.EXPERT: "专家",
}

ADMIN_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.ZONE_ADMIN})
ORGANIZATION_ROLES = frozenset({Role.ENTERPRISE, Role.UNIVERSITY, Role.EXPERT})

OWNER_FIELDS: dict[str, str] = {
    "organization": "name",
    "demand": "organization",
    "achievement": "owner",
    "expert": "organization",
    "instrument": "owner",
    "pilot_platform": "operator",
}
"""The field naming the organisation that owns a record of each kind."""


class User(BaseModel):
    """An account as the rest of the system sees it (never with its password hash)."""

    model_config = ConfigDict(frozen=True)

    id: int
    username: str = Field(..., min_length=3, max_length=50)
    display_name: str = Field("", max_length=100)
    role: Role
    zone_code: str | None = Field(None, max_length=32)
    organization: str | None = Field(None, max_length=200)
    is_active: bool = True

    @model_validator(mode="after")
    def _role_shape(self) -> User:
        check_role_shape(role=self.role, zone_code=self.zone_code, organization=self.organization)
        return self

    @property
    def scope(self) -> Scope:
        return Scope(zone_code=None if self.role == Role.PLATFORM_ADMIN else self.zone_code)

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def role_label(self) -> str:
        return ROLE_LABELS_ZH[self.role]


def username_key(username: str) -> str:
    """The form a username is unique and looked up in: ``Admin``, ``ADMIN`` and ``ａｄｍｉｎ`` are one.

    NFKC folds full-width and compatibility characters, ``casefold`` folds case beyond ASCII.
    """
    return unicodedata.normalize("NFKC", username.strip()).casefold()


def check_role_shape(*, role: Role, zone_code: str | None, organization: str | None) -> None:
    """A platform admin has no zone; everyone else has one; organisation users name their organisation."""
    if role == Role.PLATFORM_ADMIN and zone_code:
        raise ValueError("平台管理员不属于任何园区, 请不要填写园区")
    if role != Role.PLATFORM_ADMIN and not zone_code:
        raise ValueError(f"{ROLE_LABELS_ZH[role]}必须属于一个园区")
    if role in ORGANIZATION_ROLES and not organization:
        raise ValueError(f"{ROLE_LABELS_ZH[role]}必须填写所属单位")


def owner_of(kind: str, record: Record) -> str | None:
    value = getattr(record, OWNER_FIELDS[kind], None)
    return str(value) if value else None


def officer(zone_code: str | None) -> User:
    """A reader with a zone officer's rights (the platform's when ``zone_code`` is None).

    For code that runs on the server itself, with no signed-in user: the CLI, the demo loader.
    """
    if zone_code is None:
        return User(id=0, username="operator", role=Role.PLATFORM_ADMIN, display_name="平台运维")
    return User(id=0, username="operator", role=Role.ZONE_ADMIN, zone_code=zone_code)


def deal_enterprise(user: User) -> str | None:
    """The enterprise an organisation user may start deals for; None for officers, who act for the zone."""
    return None if user.is_admin else (user.organization or "")


def can_read(user: User, record: Record) -> bool:
    """A record of the user's zone, a shared record, or any record for the platform admin."""
    return user.scope.can_see(zone_code=record.zone_code, visibility=record.visibility)


def can_write(user: User, kind: str, record: Record) -> bool:
    """Create, update and archive: admins within their zone, organisations only their own records.

    For an update, ask twice: for the record as stored and as it would be after the change.
    """
    if not user.scope.can_edit(zone_code=record.zone_code):
        return False
    if user.is_admin:
        return True
    if user.role == Role.EXPERT:
        # An expert's own profile: their name at their organisation in their zone.
        return (
            kind == "expert"
            and isinstance(record, Expert)
            and record.name == user.display_name
            and owner_of(kind, record) == user.organization
        )
    return owner_of(kind, record) == user.organization


LinkedRecords = Mapping[tuple[str, int], Record]
"""The records a deal links (its demand and resources), by (kind, id), as stored: no zone filter."""


def is_deal_party(user: User, deal: Deal, linked: LinkedRecords) -> bool:
    """Officers see every deal of their zone; an organisation only those it is party to.

    Party: the deal is for its enterprise (its demand), or one of the deal's resources is a record it
    owns (a university's patent, an expert's own profile), by the same rule as editing that record.
    """
    if user.is_admin:
        return True
    if deal.enterprise == user.organization and deal.zone_code == user.zone_code:
        return True
    for resource in deal.resources:
        if resource.owner and resource.owner == user.organization and resource.zone_code == user.zone_code:
            return True  # the organisation that owned the resource when the deal was made (daily01)
        record = linked.get((resource.kind, resource.record_id)) if resource.record_id else None
        if record is not None and can_write(user, resource.kind, record):
            return True
    return False


def deal_view(user: User, deal: Deal, linked: LinkedRecords) -> Deal | None:
    """The deal as ``user`` may read it, or None when the user may not see it at all.

    A zone that only supplied a resource sees the deal's stages and dates, and its own and shared records;
    the owner zone's private side stays there: a private demand's title and enterprise, other zones'
    private records, who did what, notes, attachments and money (all redacted, ``is_redacted``).
    """
    zones = [r.zone_code for r in deal.resources]
    if not user.scope.can_see_deal(zone_code=deal.zone_code, resource_zones=zones):
        return None
    if not is_deal_party(user, deal, linked):
        return None
    inside = user.scope.can_edit(zone_code=deal.zone_code)

    def readable(kind: str, record_id: int | None) -> bool:
        record = linked.get((kind, record_id)) if record_id is not None else None
        return inside if record is None else can_read(user, record)

    changes: dict[str, object] = {}
    resources = [
        r
        if readable(r.kind, r.record_id)
        else r.model_copy(update={"record_id": None, "title": HIDDEN_RECORD_ZH, "owner": ""})
        for r in deal.resources
    ]
    if resources != deal.resources:
        changes["resources"] = resources
    if not inside:
        changes |= {
            "contract_value": None,
            "funding_amount": None,
            "drop_reason": "",
            "created_by": "",
            "events": [
                e.model_copy(
                    update={
                        "actor": "",
                        "note": "",
                        "attachments": [],
                        "contract_value": None,
                        "funding_amount": None,
                    }
                )
                for e in deal.events
            ],
        }
        if deal.demand_id is None or not readable("demand", deal.demand_id):
            changes |= {"title": HIDDEN_RECORD_ZH, "enterprise": "", "demand_id": None}
    return deal.model_copy(update={**changes, "is_redacted": True}) if changes else deal


def can_see_bookers(user: User, instrument: Record) -> bool:
    """Who booked an instrument and why stays with the instrument's zone; other zones see busy slots."""
    return user.scope.can_edit(zone_code=instrument.zone_code)


def can_see_contact(user: User, expert: Expert) -> bool:
    """An expert's contact is private to the expert's zone (the platform admin sees every zone)."""
    return user.scope.zone_code is None or expert.zone_code == user.scope.zone_code


def redact(user: User, record: Record) -> Record:
    """The record as this user may read it: private fields of other zones blanked."""
    if isinstance(record, Expert) and record.contact and not can_see_contact(user, record):
        return record.model_copy(update={"contact": None})
    return record


def fill_ownership(user: User, kind: str, values: dict[str, object]) -> dict[str, object]:
    """Defaults for a new record: the user's zone and, for organisation users, their organisation."""
    filled = dict(values)
    if not filled.get("zone_code") and user.zone_code:
        filled["zone_code"] = user.zone_code
    owner_field = OWNER_FIELDS[kind]
    if user.role in ORGANIZATION_ROLES and not filled.get(owner_field):
        filled[owner_field] = user.organization
    if user.role == Role.EXPERT and kind == "expert" and not filled.get("name"):
        filled["name"] = user.display_name
    return filled
