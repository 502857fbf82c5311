"""A zone's own settings, changed by its administrators in the browser (园区设置).

- ``match_threshold``: a new match whose probability (匹配度 / 100) is at least this tells the demand's
  owner (站内信, e-mail);
- ``auto_match`` and ``match_delay_seconds``: saved records are matched again by a job this long after
  the last edit (edits in between make one run);
- ``import_mapping:<kind>``: the column mapping last used to import that kind, offered again next time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from ..domain.accounts import User
from ..domain.records import RECORD_TYPES
from ..errors import InvalidInput, PermissionDenied, TechBridgeError
from ..store import zone_settings as store


class ZoneOptions(BaseModel):
    """The settings a zone administrator edits, with their defaults and limits."""

    match_threshold: float = Field(0.8, ge=0, le=1, description="新匹配通知的最低匹配度")
    auto_match: bool = Field(True, description="保存或导入记录后自动重新匹配")
    match_delay_seconds: int = Field(30, ge=0, le=3600, description="自动匹配的等待秒数")


_OPTION_NAMES = tuple(ZoneOptions.model_fields)
_MAPPING = "import_mapping:"


@dataclass(frozen=True)
class MappingMemo:
    kind: str
    mapping: dict[str, str]


def get(session: Session, zone_code: str) -> ZoneOptions:
    stored = store.get_settings(session, zone_code)
    return ZoneOptions.model_validate({k: v for k, v in stored.items() if k in _OPTION_NAMES})


def thresholds(session: Session) -> dict[str, float]:
    """Each zone's match threshold, for zones that changed it (others use the default)."""
    return {zone: float(value) for zone, value in store.settings_named(session, "match_threshold").items()}


def check_can_manage(user: User, zone_code: str) -> None:
    if not (user.is_admin and user.scope.can_edit(zone_code=zone_code)):
        raise PermissionDenied("只有本园区管理员可以修改园区设置")


def update(session: Session, *, user: User, zone_code: str, values: dict[str, Any]) -> ZoneOptions:
    """Validate and store the options; a bad value is a 422 with the field's Chinese name."""
    check_can_manage(user, zone_code)
    if not zone_code:
        raise TechBridgeError("请选择园区")
    try:
        options = ZoneOptions.model_validate({**get(session, zone_code).model_dump(), **values})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        label = ZoneOptions.model_fields[name].description if name in ZoneOptions.model_fields else name
        raise InvalidInput(f"{label}: 取值无效") from None
    for name, value in options.model_dump().items():
        store.put_setting(session, zone_code, name, value, updated_by=user.username)
    return options


def remembered_mapping(session: Session, zone_code: str, kind: str) -> dict[str, str]:
    value = store.get_setting(session, zone_code, _MAPPING + kind)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def remember_mapping(
    session: Session, *, zone_code: str, kind: str, mapping: dict[str, str], by: str
) -> None:
    """Keep the headers a user mapped by hand (merged with earlier ones), to offer them next time."""
    if not mapping:
        return
    fields = set(RECORD_TYPES[kind].model_fields)
    merged = {**remembered_mapping(session, zone_code, kind), **mapping}
    clean = {h[:100]: f for h, f in merged.items() if f == "" or f in fields}
    store.put_setting(session, zone_code, _MAPPING + kind, clean, updated_by=by)


def remembered_mappings(session: Session, zone_code: str) -> list[MappingMemo]:
    stored = store.get_settings(session, zone_code)
    return [
        MappingMemo(name.removeprefix(_MAPPING), {str(k): str(v) for k, v in value.items()})
        for name, value in sorted(stored.items())
        if name.startswith(_MAPPING) and isinstance(value, dict) and value
    ]


def forget_mapping(session: Session, *, user: User, zone_code: str, kind: str) -> None:
    check_can_manage(user, zone_code)
    store.remove_setting(session, zone_code, _MAPPING + kind)
