"""Closed vocabularies; values are stable English codes, ``LABELS_ZH`` gives what users read and type."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


class OrgKind(StrEnum):
    ENTERPRISE = "enterprise"
    UNIVERSITY = "university"
    INSTITUTE = "institute"
    OPERATOR = "operator"


class Visibility(StrEnum):
    PRIVATE = "private"
    SHARED = "shared"


class DemandStatus(StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    CLOSED = "closed"
    ARCHIVED = "archived"


class AchievementKind(StrEnum):
    INVENTION = "invention"
    UTILITY_MODEL = "utility_model"
    DESIGN = "design"
    SOFTWARE = "software"
    PAPER = "paper"
    KNOW_HOW = "know_how"


PATENT_KINDS = frozenset({AchievementKind.INVENTION, AchievementKind.UTILITY_MODEL, AchievementKind.DESIGN})


class LegalStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    LAPSED = "lapsed"
    INVALID = "invalid"
    UNKNOWN = "unknown"


class TransferMode(StrEnum):
    ASSIGNMENT = "assignment"
    LICENSE = "license"
    EQUITY = "equity"


class ZoneKind(StrEnum):
    NATIONAL = "national"
    LOCAL = "local"


LABELS_ZH: dict[StrEnum, str] = {
    OrgKind.ENTERPRISE: "企业",
    OrgKind.UNIVERSITY: "高校",
    OrgKind.INSTITUTE: "科研院所",
    OrgKind.OPERATOR: "平台运营方",
    Visibility.PRIVATE: "园区内可见",
    Visibility.SHARED: "跨园区共享",
    DemandStatus.OPEN: "征集中",
    DemandStatus.MATCHED: "已撮合",
    DemandStatus.CLOSED: "已关闭",
    DemandStatus.ARCHIVED: "已归档",
    AchievementKind.INVENTION: "发明专利",
    AchievementKind.UTILITY_MODEL: "实用新型",
    AchievementKind.DESIGN: "外观设计",
    AchievementKind.SOFTWARE: "软件著作权",
    AchievementKind.PAPER: "论文",
    AchievementKind.KNOW_HOW: "技术秘密",
    LegalStatus.PENDING: "审中",
    LegalStatus.GRANTED: "有效",
    LegalStatus.LAPSED: "失效",
    LegalStatus.INVALID: "无效",
    LegalStatus.UNKNOWN: "未知",
    TransferMode.ASSIGNMENT: "转让",
    TransferMode.LICENSE: "许可",
    TransferMode.EQUITY: "作价入股",
    ZoneKind.NATIONAL: "国家级高新区",
    ZoneKind.LOCAL: "地方园区",
}

# Extra spellings found in patent-database exports and zone spreadsheets.
_ALIASES_ZH: dict[str, StrEnum] = {
    "发明": AchievementKind.INVENTION,
    "发明申请": AchievementKind.INVENTION,
    "发明授权": AchievementKind.INVENTION,
    "实用新型专利": AchievementKind.UTILITY_MODEL,
    "外观设计专利": AchievementKind.DESIGN,
    "外观": AchievementKind.DESIGN,
    "软著": AchievementKind.SOFTWARE,
    "计算机软件著作权": AchievementKind.SOFTWARE,
    "专有技术": AchievementKind.KNOW_HOW,
    "授权": LegalStatus.GRANTED,
    "有效专利": LegalStatus.GRANTED,
    "实质审查": LegalStatus.PENDING,
    "公开": LegalStatus.PENDING,
    "审查中": LegalStatus.PENDING,
    "权利终止": LegalStatus.LAPSED,
    "未缴年费": LegalStatus.LAPSED,
    "驳回": LegalStatus.INVALID,
    "撤回": LegalStatus.INVALID,
    "许可使用": TransferMode.LICENSE,
    "普通许可": TransferMode.LICENSE,
    "独占许可": TransferMode.LICENSE,
    "入股": TransferMode.EQUITY,
    "研究院": OrgKind.INSTITUTE,
    "大学": OrgKind.UNIVERSITY,
    "公司": OrgKind.ENTERPRISE,
    "共享": Visibility.SHARED,
    "公开共享": Visibility.SHARED,
    "私有": Visibility.PRIVATE,
}


def label_zh(value: StrEnum) -> str:
    return LABELS_ZH.get(value, str(value))


def parse_enum(enum_type: type[E], value: object) -> E:
    """Accept the code, the Chinese label or a known alias; raise ValueError listing the choices."""
    if isinstance(value, enum_type):
        return value
    text = str(value).strip()
    for member in enum_type:
        if text.lower() == member.value or text == LABELS_ZH.get(member):
            return member
    alias = _ALIASES_ZH.get(text)
    if isinstance(alias, enum_type):
        return alias
    choices = "、".join(LABELS_ZH.get(m, m.value) for m in enum_type)
    raise ValueError(f"{text!r} 不是有效值, 可选: {choices}")
