"""The national high-tech zone registry shipped with TechBridge: reading it, loading it, and counting it.

The counts are compared with the figures the source article quotes from 科创云图, and every difference
is reported rather than hidden: the shipped registry has 162 of the 179 zones.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pypinyin import lazy_pinyin

from ..domain.geography import (
    PROVINCE_REGIONS,
    Circle,
    Region,
    circle_of,
    province_full,
    province_short,
    region_of,
)
from ..domain.records import Zone
from ..store.db import session_scope
from ..store.records import UpsertCounts
from ..store.zone_registry import upsert_zones

# Figures of the source article (中国工业报, 2026, quoting 科创云图).
DOCUMENT_TOTAL = 179
DOCUMENT_PROVINCES_WITH_ZONES = 31
DOCUMENT_PROVINCE_COUNTS = {"江苏省": 18, "广东省": 14, "山东省": 13, "湖北省": 12}
DOCUMENT_OTHERS_BELOW = 10
DOCUMENT_CIRCLE_SHARE = "约四分之一"
# Zones known to exist but absent from the registry, by province (from the registry's README).
KNOWN_MISSING = {"西藏自治区": "拉萨高新技术产业开发区"}

_GENERIC_CITY_WORDS = re.compile(r"(火炬高技术|新技术开发区|科技园区)$")


@dataclass(frozen=True)
class RegistryZone:
    zone: Zone
    region: Region
    circle: Circle | None
    source: str


@dataclass(frozen=True)
class Difference:
    """One way the registry differs from the article; ``missing`` is how many rows it lacks there."""

    subject: str
    document: str
    registry: str
    missing: int
    note: str = ""


@dataclass
class RegistryStats:
    total: int
    latest_approval: str
    sources: dict[str, int]
    by_province: dict[str, int]
    by_region: dict[Region, int]
    by_circle: dict[Circle, int]
    differences: list[Difference] = field(default_factory=list)

    @property
    def provinces_with_zones(self) -> int:
        return len(self.by_province)

    @property
    def in_circles(self) -> int:
        return sum(self.by_circle.values())

    @property
    def agreements(self) -> list[str]:
        """The article's figures the registry does reproduce."""
        differing = {d.subject for d in self.differences}
        agreed = [f"{p} {n} 家" for p, n in DOCUMENT_PROVINCE_COUNTS.items() if p not in differing]
        if "其余省份" not in differing:
            agreed.append(f"其余省份均少于 {DOCUMENT_OTHERS_BELOW} 家")
        return agreed


def registry_path() -> Path:
    return Path(str(resources.files("techbridge") / "data" / "zones.csv"))


def _code_for(city: str, province: str, taken: set[str]) -> str:
    """A pinyin code from the city ('无锡' → 'wuxi'); a clash adds the province ('fuzhou-jiangxi')."""
    base = _GENERIC_CITY_WORDS.sub("", city.removesuffix("市")).replace("/", "-")
    code = "".join(lazy_pinyin(base)).lower()
    if code in taken:
        code = f"{code}-{''.join(lazy_pinyin(province_short(province))).lower()}"
    return code


def read_registry(path: Path | None = None) -> list[RegistryZone]:
    """Rows of the registry CSV as zones with derived region and circle, in file order."""
    taken: set[str] = set()
    result: list[RegistryZone] = []
    with (path or registry_path()).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code = _code_for(row["city"], row["province"], taken)
            taken.add(code)
            zone = Zone(
                code=code,
                name=row["name"],
                province=province_full(row["province"]),
                city=row["city"],
                approved_date=row["approved_date"],
                leading_industries=row["leading_industries"],
            )
            result.append(
                RegistryZone(
                    zone=zone,
                    region=region_of(zone.province),
                    circle=circle_of(zone.province, zone.city),
                    source=row["source"],
                )
            )
    return result


def load_registry(url: str, *, path: Path | None = None) -> UpsertCounts:
    """Load the registry into the ``zones`` table; loading it again changes nothing."""
    zones = [entry.zone for entry in read_registry(path)]
    with session_scope(url) as session:
        return upsert_zones(session, zones)


def registry_stats(entries: list[RegistryZone]) -> RegistryStats:
    by_province = Counter(e.zone.province for e in entries)
    by_region = Counter(e.region for e in entries)
    by_circle = Counter(e.circle for e in entries if e.circle is not None)
    stats = RegistryStats(
        total=len(entries),
        latest_approval=max(e.zone.approved_date or "" for e in entries),
        sources=dict(Counter(e.source for e in entries).most_common()),
        by_province=dict(sorted(by_province.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_region={r: by_region.get(r, 0) for r in Region},
        by_circle={c: by_circle.get(c, 0) for c in Circle},
    )
    stats.differences = compare_with_document(stats)
    return stats


def compare_with_document(stats: RegistryStats) -> list[Difference]:
    """Every figure of the article the registry does not reproduce, with how many rows are missing where."""
    found: list[Difference] = []
    absent = [p for p in PROVINCE_REGIONS if p not in stats.by_province]
    if stats.provinces_with_zones != DOCUMENT_PROVINCES_WITH_ZONES:
        found.append(
            Difference(
                subject="有国家高新区的省份数",
                document=str(DOCUMENT_PROVINCES_WITH_ZONES),
                registry=str(stats.provinces_with_zones),
                # The article says every province has one, so each absent province lacks at least one row.
                missing=len(absent),
                note="缺少: "
                + "、".join(f"{p} ({KNOWN_MISSING[p]})" if p in KNOWN_MISSING else p for p in absent),
            )
        )
    for province, expected in DOCUMENT_PROVINCE_COUNTS.items():
        actual = stats.by_province.get(province, 0)
        if actual != expected:
            found.append(
                Difference(
                    subject=province, document=str(expected), registry=str(actual), missing=expected - actual
                )
            )
    too_many = [
        p
        for p, n in stats.by_province.items()
        if p not in DOCUMENT_PROVINCE_COUNTS and n >= DOCUMENT_OTHERS_BELOW
    ]
    if too_many:
        found.append(
            Difference(
                subject="其余省份",
                document=f"均少于 {DOCUMENT_OTHERS_BELOW} 家",
                registry="、".join(too_many),
                missing=0,
            )
        )
    if stats.total != DOCUMENT_TOTAL:
        explained = sum(d.missing for d in found)
        found.append(
            Difference(
                subject="总数",
                document=str(DOCUMENT_TOTAL),
                registry=str(stats.total),
                missing=DOCUMENT_TOTAL - stats.total,
                note=f"上列已说明 {explained} 家; 其余 {DOCUMENT_TOTAL - stats.total - explained} 家"
                "缺失于文中未列数字的省份, 无公开名单可补",
            )
        )
    return found
