"""Column headers as found in patent-database exports and zone spreadsheets, mapped to record fields.

The first alias of each field is the header our exports write, so an export imports back unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..domain.records import RECORD_TYPES
from ..errors import TechBridgeError

_COMMON: dict[str, tuple[str, ...]] = {
    "external_id": ("编号", "ID", "序号ID", "外部编号", "记录编号"),
    "zone_code": ("园区代码", "园区", "所属园区", "zone"),
    "visibility": ("共享范围", "可见性", "是否共享"),
}

ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "organization": {
        "name": ("机构名称", "单位名称", "企业名称", "名称", "组织名称"),
        "kind": ("机构类型", "单位类型", "类型"),
        "credit_code": ("统一社会信用代码", "信用代码", "社会信用代码"),
        "province": ("省份", "省"),
        "city": ("城市", "市"),
    },
    "demand": {
        "title": ("需求名称", "需求标题", "标题", "技术需求", "名称"),
        "description": ("需求描述", "需求详情", "详细描述", "描述", "内容"),
        "industry_chain": ("产业链", "所属产业链", "产业领域", "行业"),
        "keywords": ("关键词", "技术关键词"),
        "budget_min": ("预算下限(万元)", "预算下限", "最低预算"),
        "budget_max": ("预算上限(万元)", "预算上限", "最高预算", "预算(万元)", "预算"),
        "deadline": ("截止日期", "截止时间", "期限"),
        "organization": ("需求单位", "企业名称", "发布单位", "单位名称", "企业"),
        "status": ("状态", "需求状态"),
    },
    "achievement": {
        "title": ("成果名称", "专利名称", "名称", "标题", "发明名称", "patent_title"),
        "kind": ("成果类型", "专利类型", "类型"),
        "application_number": ("申请号", "专利申请号"),
        "publication_number": (
            "公开号",
            "公开(公告)号",
            "公告号",
            "公开公告号",
            "publication_numbers",
            "专利号",
        ),
        "abstract": ("摘要", "成果简介", "简介", "abstract"),
        "claims": ("权利要求", "主权项", "权利要求书"),
        "ipc_codes": ("IPC分类号", "IPC", "主分类号", "分类号", "true_subclasses_all"),
        "applicants": ("申请人", "专利权人", "申请(专利权)人", "权利人"),
        "inventors": ("发明人", "设计人", "完成人"),
        "legal_status": ("法律状态", "当前法律状态", "专利状态"),
        "trl": ("技术成熟度", "成熟度", "TRL"),
        "transfer_modes": ("转化方式", "交易方式", "合作方式"),
        "asking_price": ("意向价格(万元)", "意向价格", "挂牌价格", "价格(万元)", "价格"),
        "owner": ("成果单位", "所属单位", "所属高校", "权利单位", "单位"),
        "discipline": ("学科", "学科领域"),
        "keywords": ("关键词",),
        "industry_chain": ("产业链", "所属产业链", "应用领域"),
    },
    "expert": {
        "name": ("姓名", "专家姓名"),
        "organization": ("工作单位", "单位", "所在单位"),
        "title": ("职称", "职务"),
        "fields": ("研究领域", "专业领域", "领域"),
        "keywords": ("关键词", "研究方向"),
        "bio": ("个人简介", "简介"),
        "contact": ("联系方式", "电话", "邮箱"),
        "max_active_deals": ("最大同时对接数",),
    },
    "instrument": {
        "name": ("仪器名称", "设备名称", "名称"),
        "model": ("规格型号", "型号"),
        "category": ("仪器类别", "类别", "分类"),
        "owner": ("所属单位", "管理单位", "单位"),
        "location": ("安放地点", "所在地", "地址"),
        "hourly_fee": ("收费标准(元/小时)", "收费标准", "机时费"),
        "description": ("主要功能", "功能描述", "技术指标"),
        "bookable": ("可预约", "是否开放共享"),
        "opening_hours": ("开放时间", "开放时段", "服务时间"),
    },
    "pilot_platform": {
        "name": ("平台名称", "名称"),
        "operator": ("运营单位", "依托单位", "建设单位"),
        "industry_chains": ("服务产业链", "产业链"),
        "capabilities": ("中试能力", "服务内容", "能力"),
        "capacity": ("服务能力", "年服务量", "规模"),
    },
}

# Required fields without a sensible default; ``zone_code`` comes from the --zone option if absent.
REQUIRED: dict[str, tuple[str, ...]] = {
    "organization": ("name",),
    "demand": ("title", "organization"),
    "achievement": ("title",),
    "expert": ("name",),
    "instrument": ("name",),
    "pilot_platform": ("name",),
}


class ColumnMappingError(TechBridgeError):
    status = 422


def _fold(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).lower()
    return re.sub(r"[\s()（）_\-:：/]+", "", text)


def field_aliases(kind: str) -> dict[str, tuple[str, ...]]:
    """Every accepted header of each field of a kind, its export header first."""
    return {**_COMMON, **ALIASES[kind]}


def export_header(kind: str, field: str) -> str:
    return field_aliases(kind).get(field, (field,))[0]


@dataclass(frozen=True)
class ColumnPlan:
    """How a file's headers map to fields: ``{header: field}``, the headers left over, and the required
    fields no header provides (the import page shows all three in its column-mapping form)."""

    mapping: dict[str, str]
    unmapped: list[str]
    missing: list[str]


def plan_columns(kind: str, headers: list[str], explicit: dict[str, str] | None = None) -> ColumnPlan:
    """Map each header to a field; an explicit ``{header: field}`` wins over the built-in aliases, and
    the field's own English name is always accepted as a header. An explicit empty field ignores a column.
    """
    if kind not in RECORD_TYPES:
        raise ColumnMappingError(f"未知的记录类型 {kind!r}, 可选: {', '.join(RECORD_TYPES)}")
    fields = set(RECORD_TYPES[kind].model_fields)
    lookup: dict[str, str] = {}
    for field, aliases in field_aliases(kind).items():
        for alias in (*aliases, field):
            lookup.setdefault(_fold(alias), field)
    explicit = explicit or {}
    for header, field in explicit.items():
        if field and field not in fields:
            raise ColumnMappingError(
                f"映射 {header}={field}: 字段 {field} 不存在, 可选: {', '.join(sorted(fields))}"
            )
    mapping: dict[str, str] = {}
    unmapped: list[str] = []
    for header in headers:
        field = explicit[header] if header in explicit else lookup.get(_fold(header))
        if field and field not in mapping.values():
            mapping[header] = field
        elif header:
            unmapped.append(header)
    missing = [f for f in REQUIRED[kind] if f not in mapping.values()]
    return ColumnPlan(mapping=mapping, unmapped=unmapped, missing=missing)


def map_columns(
    kind: str, headers: list[str], explicit: dict[str, str] | None = None, *, file_name: str = ""
) -> tuple[dict[str, str], list[str]]:
    """Return ``{header: field}`` and the headers left unmapped (reported, not fatal); a required field
    no header provides is an error."""
    plan = plan_columns(kind, headers, explicit)
    if plan.missing:
        names = "、".join(f"{f}({export_header(kind, f)})" for f in plan.missing)
        raise ColumnMappingError(
            f"{file_name}: 第 1 行(表头)缺少必填列 {names}; 可用 --map 表头=字段 指定对应关系"
        )
    return plan.mapping, plan.unmapped
