"""Request and response models: one Create/Update/Public family per record kind, built from the domain.

Deriving them from ``domain.records`` keeps one definition of every field and its validation; the API
only adds what is HTTP-specific (ids, timestamps, optional owner fields filled from the user).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator
from pydantic.fields import FieldInfo
from sqlalchemy import JSON

from ..domain.accounts import OWNER_FIELDS, Role
from ..domain.records import RECORD_TYPES
from ..store.records import KIND_LABELS_ZH, filterable_fields, table_for

KIND_PATHS: dict[str, str] = {
    "organization": "organizations",
    "demand": "demands",
    "achievement": "achievements",
    "expert": "experts",
    "instrument": "instruments",
    "pilot_platform": "pilot-platforms",
}
KINDS_BY_PATH = {path: kind for kind, path in KIND_PATHS.items()}
KindPath = Literal["organizations", "demands", "achievements", "experts", "instruments", "pilot-platforms"]
KindName = Literal["organization", "demand", "achievement", "expert", "instrument", "pilot_platform"]
MAX_ID = 2**31 - 1
"""Ids fit a 32-bit integer on every database; larger path ids are rejected before any query."""
PageNumber = Annotated[int, Field(ge=1, le=100_000, description="页码, 从 1 开始")]
PerPage = Annotated[int, Field(ge=1, le=200, description="每页条数, 最多 200")]


class RecordMeta(BaseModel):
    id: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None

    @field_validator("created_at", "updated_at", "archived_at")
    @classmethod
    def _utc(cls, moment: datetime | None) -> datetime | None:
        # SQLite returns the stored UTC timestamps without their zone.
        return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@dataclass(frozen=True)
class KindSchemas:
    kind: str
    path: str
    create: type[BaseModel]
    update: type[BaseModel]
    public: type[BaseModel]
    page: type[BaseModel]
    list_query: type[BaseModel]


def _name(kind: str) -> str:
    return RECORD_TYPES[kind].__name__


def _optional(info: FieldInfo) -> tuple[Any, Any]:
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]  # keep constraints and lenient parsers
    return annotation | None, Field(None, description=info.description)


def _create_model(kind: str) -> type[BaseModel]:
    """The domain record with zone and owner optional: the service fills them from the user."""
    base = RECORD_TYPES[kind]
    optional = {
        name: _optional(base.model_fields[name])
        for name in ("zone_code", OWNER_FIELDS[kind], *(("name",) if kind == "expert" else ()))
    }
    return create_model(f"{_name(kind)}Create", __base__=base, **optional)  # type: ignore[call-overload,no-any-return]


def _update_model(kind: str) -> type[BaseModel]:
    fields = {name: _optional(info) for name, info in RECORD_TYPES[kind].model_fields.items()}
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{_name(kind)}Update", __config__=ConfigDict(extra="forbid", str_strip_whitespace=True), **fields
    )


def _sort_choices(kind: str) -> Any:
    columns = [
        c.name
        for c in table_for(kind).__table__.columns  # type: ignore[attr-defined]
        if not isinstance(c.type, JSON) and c.name not in ("natural_key", "content_hash")
    ]
    return Literal[tuple(p + c for c in columns for p in ("", "-"))]


def _list_query_model(kind: str) -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (str | None, Field(None, max_length=200, description=f"按 {name} 精确筛选"))
        for name in filterable_fields(kind)
        if name not in ("ipc", "trl_min")
    }
    if kind == "achievement":
        fields["ipc"] = (str | None, Field(None, max_length=20, description="IPC 前缀, 如 H01M"))
        fields["trl_min"] = (int | None, Field(None, ge=1, le=9, description="最低技术成熟度"))
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{_name(kind)}ListQuery",
        __config__=ConfigDict(extra="forbid"),
        q=(str | None, Field(None, max_length=100, description="关键词 (标题、描述、单位)")),
        sort=(_sort_choices(kind), Field("-updated_at", description="排序字段, 前缀 - 表示倒序")),
        page=(PageNumber, 1),
        per_page=(PerPage, 20),
        include_archived=(bool, False),
        **fields,
    )


def build_schemas(kind: str) -> KindSchemas:
    public = create_model(f"{_name(kind)}Public", __base__=(RECORD_TYPES[kind], RecordMeta))
    page = create_model(
        f"{_name(kind)}sPublic",
        __doc__=f"一页{KIND_LABELS_ZH[kind]}",
        data=(list[public], ...),  # type: ignore[valid-type]
        count=(int, ...),
        page=(int, ...),
        per_page=(int, ...),
    )
    return KindSchemas(
        kind=kind,
        path=KIND_PATHS[kind],
        create=_create_model(kind),
        update=_update_model(kind),
        public=public,
        page=page,
        list_query=_list_query_model(kind),
    )


SCHEMAS: dict[str, KindSchemas] = {kind: build_schemas(kind) for kind in RECORD_TYPES}


class MatchReason(BaseModel):
    """One reason as batch matching stores it (the engine's ``Reason``)."""

    code: str = Field(
        description="Stable for programs: terms, title_terms, related_terms, missing_terms, absent_terms, "
        "dense, ipc, chain, zone …"
    )
    text: str = Field(description="For people, in Chinese")
    terms: list[str] = Field(
        default_factory=list,
        description="The words source and target share, if any (for missing_terms: the demand's title "
        "words the target lacks; for absent_terms: those no record the demand is matched with holds)",
    )


class MatchPublic(BaseModel):
    target_kind: KindName
    target_id: int
    target_title: str
    target_owner: str | None = Field(description="Owning organisation: university, operator or company")
    rank: int
    score: float
    reasons: list[MatchReason]
    source_zone: str
    target_zone: str
    is_cross_zone: bool = Field(description="跨园区匹配 (云端来配): 两个园区都显示")


class MatchesPublic(BaseModel):
    source_kind: KindName
    source_id: int
    data: list[MatchPublic]
    count: int


class JobPublic(BaseModel):
    """A background job as its status URL shows it; poll until ``finished``."""

    id: int
    kind: str
    title: str
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    state_label: str
    finished: bool
    done: int
    total: int | None
    percent: int | None
    note: str
    cancelling: bool
    error: str | None
    result: dict[str, Any] | None


class MatchingQueued(BaseModel):
    """Run-matching accepted as a worker job (202): where to follow it and where its results appear."""

    detail: str
    job: JobPublic
    job_url: str = Field(..., description="GET it until the job is finished (also the Location header)")
    matches_url: str = Field(..., description="The stored matches, recomputed once the job has succeeded")


class LoginRequest(BaseModel):
    username: str = Field(..., min_length=1, max_length=50)
    password: str = Field(..., min_length=1, max_length=200)


class TokenCreate(BaseModel):
    name: str = Field(..., min_length=1, max_length=100, description="What the token is for, e.g. ERP 对接")
    expires_in_days: int | None = Field(None, ge=1, le=3650, description="Empty: valid until revoked")


class TokenPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="First characters, to recognise the token")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenIssued(BaseModel):
    access_token: str = Field(description="Shown only once; send as 'Authorization: Bearer <token>'")
    token_type: Literal["bearer"] = "bearer"
    token: TokenPublic


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    role_label: str
    zone_code: str | None
    organization: str | None
    is_active: bool


class UserCreate(BaseModel):
    username: str = Field(..., min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(..., min_length=8, max_length=200)
    role: Role
    zone_code: str | None = Field(None, max_length=32, description="Zone admins: defaults to their own zone")
    organization: str | None = Field(None, max_length=200)
    display_name: str = Field("", max_length=100)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_active: bool


class PasswordChange(BaseModel):
    current_password: str = Field(..., min_length=1, max_length=200)
    new_password: str = Field(..., min_length=8, max_length=200)


class RowErrorPublic(BaseModel):
    file: str
    row: int
    field: str
    reason: str
    value: str


class ImportReportPublic(BaseModel):
    file: str
    kind: KindName
    dry_run: bool
    total_rows: int
    inserted: int
    updated: int
    unchanged: int
    skipped: int
    error_count: int
    errors: list[RowErrorPublic]
    warnings: list[str]


class ErrorResponse(BaseModel):
    detail: str = Field(description="What is wrong, in Chinese (with English where useful)")
    errors: list[dict[str, Any]] = Field(default_factory=list, description="Per-field or per-row problems")
