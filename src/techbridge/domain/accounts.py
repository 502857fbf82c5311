"""Users, roles and the pure permission rules of who may see and edit which record.

Zone isolation itself (``Scope``) lives in ``access.py``; this module adds the per-role rules on top:
organisations edit only their own records, expert contacts stay inside their zone.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .access import Scope
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


def deal_enterprise(user: User) -> str | None:
    """The enterprise an organisation user's deals are limited to; None for officers, who see the zone.

    API and web pages both pass this to ``services.deals``, so a user starts and sees the same deals
    through either door.
    """
    return None if user.is_admin else (user.organization or "")


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
