"""Typed records of the four centres (需求, 成果, 能力) and the zones that own them.

These models validate what enters the platform from any door (import, API, form). They hold no I/O.
Money is in 万元 (10,000 yuan), as zone spreadsheets state it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from .calendar import parse_opening_hours
from .enums import (
    PATENT_KINDS,
    AchievementKind,
    DemandStatus,
    LegalStatus,
    OrgKind,
    TransferMode,
    Visibility,
    ZoneKind,
    parse_enum,
)
from .identifiers import (
    looks_like_publication_number,
    parse_application_number,
    parse_credit_code,
    parse_ipc,
    parse_publication_number,
)

_LIST_SEPARATORS = re.compile(r"[;；,，、|\n]+")


def _split_list(value: Any) -> list[str]:
    """Spreadsheets keep lists in one cell: '锂电池;储能' or '张三、李四'."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = _LIST_SEPARATORS.split(value)
    else:
        items = [str(v) for v in value]
    seen: dict[str, None] = {}
    for item in items:
        item = item.strip()
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


TextList = Annotated[list[str], BeforeValidator(_split_list)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]
OptionalFloat = Annotated[float | None, BeforeValidator(_blank_to_none)]
OptionalInt = Annotated[int | None, BeforeValidator(_blank_to_none)]
OptionalDate = Annotated[date | None, BeforeValidator(_blank_to_none)]


_NOT_WORD = re.compile(r"[\W_]+")
# What stands between two digits tells model numbers apart: 1-12, 11-2, 11.2 and 112 are four numbers.
_DIGIT_GAP = re.compile(r"(?<=\d)([\W_]+)(?=\d)")


def _digit_gap(run: str) -> str:
    """The separator between two digits, spelled one way: spaces dropped around it, any dash as '-'."""
    marks = "".join(
        "-" if unicodedata.category(c) == "Pd" else c for c in run if not c.isspace() and c != "_"
    )
    return marks or " "


def normalise_key_text(text: str) -> str:
    """Fold width, case and punctuation so '锂电池  隔膜' and '锂电池隔膜' give the same key.

    Separators between digits are kept (in one spelling), so different model numbers stay different:

    >>> normalise_key_text("型号 1 - 12, 测试") == normalise_key_text("型号１－１２测试")
    True
    >>> normalise_key_text("型号 1-12") == normalise_key_text("型号 11-2")
    False
    """
    parts = _DIGIT_GAP.split(unicodedata.normalize("NFKC", text).lower())
    # re.split with one group alternates text, separator, text, …: odd items are the digit gaps.
    return "".join(_digit_gap(part) if i % 2 else _NOT_WORD.sub("", part) for i, part in enumerate(parts))


def content_key(*parts: str | None) -> str:
    """Stable natural key for records without an identifier (sqlite-utils ``hash_record`` idea)."""
    joined = "\x1f".join(normalise_key_text(p or "") for p in parts)
    return "h:" + hashlib.sha1(joined.encode("utf-8")).hexdigest()[:20]


def near_duplicate_key(owner: str | None, title: str) -> str:
    """Same for titles that differ only in width, case, punctuation, spacing or a leading 一种, per owner."""
    folded = f"{normalise_key_text(owner or '')}\x1f{normalise_key_text(title).removeprefix('一种')}"
    return hashlib.blake2b(folded.encode(), digest_size=10).hexdigest()


def _enum_validator(enum_type: type) -> Any:
    return BeforeValidator(lambda v: parse_enum(enum_type, v) if v not in (None, "") else v)


class Record(BaseModel):
    """Fields every record has: the zone that owns it and whether other zones may see it."""

    model_config = ConfigDict(str_strip_whitespace=True, use_enum_values=False)

    external_id: OptionalText = Field(None, max_length=64, description="Identifier in the source system")
    zone_code: str = Field(..., min_length=1, max_length=32, description="Owning zone")
    visibility: Annotated[Visibility, _enum_validator(Visibility)] = Visibility.PRIVATE

    def natural_key(self) -> str:
        raise NotImplementedError

    def duplicate_key(self) -> str | None:
        """Key shared by near-duplicate records of one organisation; None where titles do not apply."""
        return None


class Zone(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(..., min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(..., min_length=2, max_length=100)
    province: str = Field(..., min_length=2, max_length=20)
    city: OptionalText = Field(None, max_length=50)
    kind: Annotated[ZoneKind, _enum_validator(ZoneKind)] = ZoneKind.NATIONAL
    approved_date: OptionalText = Field(None, pattern=r"^\d{4}(\.\d{2})?$", description="YYYY.MM")
    leading_industries: TextList = []


class IndustryChain(BaseModel):
    code: str = Field(..., min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(..., min_length=2, max_length=50)
    keywords: TextList = []
    zone_code: OptionalText = Field(
        None, max_length=32, description="Empty for the platform-wide default catalogue"
    )


class Organization(Record):
    name: str = Field(..., min_length=2, max_length=200)
    kind: Annotated[OrgKind, _enum_validator(OrgKind)] = OrgKind.ENTERPRISE
    credit_code: OptionalText = Field(None, description="统一社会信用代码, checked when given")
    province: OptionalText = Field(None, max_length=20)
    city: OptionalText = Field(None, max_length=50)

    @field_validator("credit_code")
    @classmethod
    def _check_credit_code(cls, v: str | None) -> str | None:
        return parse_credit_code(v) if v else None

    def natural_key(self) -> str:
        if self.credit_code:
            return f"uscc:{self.credit_code}"
        return content_key(self.name)


class Demand(Record):
    title: str = Field(..., min_length=4, max_length=200)
    description: str = Field("", max_length=20000)
    industry_chain: OptionalText = Field(None, max_length=50)
    keywords: TextList = []
    budget_min: OptionalFloat = Field(None, ge=0, description="万元")
    budget_max: OptionalFloat = Field(None, ge=0, description="万元")
    deadline: OptionalDate = None
    organization: str = Field(..., min_length=2, max_length=200, description="Owner enterprise name")
    status: Annotated[DemandStatus, _enum_validator(DemandStatus)] = DemandStatus.OPEN

    @model_validator(mode="after")
    def _budget_order(self) -> Demand:
        if self.budget_min is not None and self.budget_max is not None and self.budget_min > self.budget_max:
            raise ValueError("预算下限不能高于上限")
        return self

    def natural_key(self) -> str:
        if self.external_id:
            return f"ext:{self.zone_code}:{self.external_id}"
        return content_key(self.zone_code, self.organization, self.title)

    def duplicate_key(self) -> str | None:
        return near_duplicate_key(self.organization, self.title)


class Achievement(Record):
    kind: Annotated[AchievementKind, _enum_validator(AchievementKind)] = AchievementKind.INVENTION
    application_number: OptionalText = None
    publication_number: OptionalText = None
    title: str = Field(..., min_length=2, max_length=300)
    abstract: str = Field("", max_length=20000)
    claims: str = Field("", max_length=100000)
    ipc_codes: TextList = []
    applicants: TextList = []
    inventors: TextList = []
    legal_status: Annotated[LegalStatus, _enum_validator(LegalStatus)] = LegalStatus.UNKNOWN
    trl: OptionalInt = Field(None, ge=1, le=9, description="Technology readiness level 1–9")
    transfer_modes: Annotated[
        list[TransferMode], BeforeValidator(lambda v: [parse_enum(TransferMode, x) for x in _split_list(v)])
    ] = []
    asking_price: OptionalFloat = Field(None, ge=0, description="万元")
    owner: OptionalText = Field(None, max_length=200, description="Owning university or institute")
    discipline: OptionalText = Field(None, max_length=50)
    keywords: TextList = []
    industry_chain: OptionalText = Field(None, max_length=50)

    @field_validator("application_number")
    @classmethod
    def _check_application(cls, v: str | None) -> str | None:
        if v and looks_like_publication_number(v):
            raise ValueError("这是公开号, 请填入公开号字段")
        return parse_application_number(v) if v else None

    @field_validator("publication_number")
    @classmethod
    def _check_publication(cls, v: str | None) -> str | None:
        return parse_publication_number(v) if v else None

    @field_validator("ipc_codes")
    @classmethod
    def _check_ipc(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(parse_ipc(code) for code in v))

    @model_validator(mode="after")
    def _owner_defaults(self) -> Achievement:
        if not self.owner and self.applicants:
            self.owner = self.applicants[0]
        if self.kind not in PATENT_KINDS and (self.application_number or self.publication_number):
            raise ValueError("只有专利才有申请号/公开号")
        return self

    @property
    def ipc_subclasses(self) -> list[str]:
        return list(dict.fromkeys(code[:4] for code in self.ipc_codes))

    def natural_key(self) -> str:
        if self.publication_number:
            return f"pub:{self.publication_number}"
        if self.application_number:
            return f"app:{self.application_number}"
        if self.external_id:
            return f"ext:{self.zone_code}:{self.external_id}"
        return content_key(self.zone_code, self.owner, self.title)

    def duplicate_key(self) -> str | None:
        return near_duplicate_key(self.owner, self.title)


class Expert(Record):
    name: str = Field(..., min_length=2, max_length=50)
    organization: OptionalText = Field(None, max_length=200)
    title: OptionalText = Field(None, max_length=50, description="职称, e.g. 教授")
    fields: TextList = []
    keywords: TextList = []
    bio: str = Field("", max_length=5000)
    contact: OptionalText = Field(None, max_length=200, description="Private unless the expert shares it")
    max_active_deals: int = Field(5, ge=0, le=100)

    def natural_key(self) -> str:
        if self.external_id:
            return f"ext:{self.zone_code}:{self.external_id}"
        return content_key(self.zone_code, self.name, self.organization)


class Instrument(Record):
    name: str = Field(..., min_length=2, max_length=200)
    model: OptionalText = Field(None, max_length=100)
    category: OptionalText = Field(None, max_length=100)
    owner: OptionalText = Field(None, max_length=200)
    location: OptionalText = Field(None, max_length=200)
    hourly_fee: OptionalFloat = Field(None, ge=0, description="元/小时")
    description: str = Field("", max_length=5000)
    bookable: bool = True
    opening_hours: OptionalText = Field(
        None, max_length=200, description="开放时间, e.g. 周一至周五 08:30-17:30; empty: 每天 08:00-20:00"
    )

    @field_validator("opening_hours")
    @classmethod
    def _check_opening_hours(cls, v: str | None) -> str | None:
        # Stored in one normal form, so the calendar and the import read the same hours.
        return parse_opening_hours(v).describe() if v else None

    def natural_key(self) -> str:
        if self.external_id:
            return f"ext:{self.zone_code}:{self.external_id}"
        return content_key(self.zone_code, self.owner, self.name, self.model)


class PilotPlatform(Record):
    name: str = Field(..., min_length=2, max_length=200)
    operator: OptionalText = Field(None, max_length=200)
    industry_chains: TextList = []
    capabilities: str = Field("", max_length=5000)
    capacity: OptionalText = Field(None, max_length=200, description="e.g. 年中试 50 项")

    def natural_key(self) -> str:
        if self.external_id:
            return f"ext:{self.zone_code}:{self.external_id}"
        return content_key(self.zone_code, self.operator, self.name)


RECORD_TYPES: dict[str, type[Record]] = {
    "organization": Organization,
    "demand": Demand,
    "achievement": Achievement,
    "expert": Expert,
    "instrument": Instrument,
    "pilot_platform": PilotPlatform,
}
