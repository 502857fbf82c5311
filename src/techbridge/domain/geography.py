"""Where a zone lies: its NBS region and whether it is in one of the three big economic circles.

Region follows the National Bureau of Statistics' four-region division (东部/中部/西部/东北, 2011).
Circles: 京津冀 and 长三角 are taken at province level (长三角 as the 2019 outline's three provinces and
one city); 珠三角 is the nine Guangdong cities of the Pearl River Delta, so it is decided by city.
"""

from __future__ import annotations

from enum import StrEnum


class Region(StrEnum):
    EAST = "east"
    CENTRAL = "central"
    WEST = "west"
    NORTHEAST = "northeast"


class Circle(StrEnum):
    JING_JIN_JI = "jing_jin_ji"
    YANGTZE_DELTA = "yangtze_delta"
    PEARL_DELTA = "pearl_delta"


REGION_LABELS_ZH = {
    Region.EAST: "东部",
    Region.CENTRAL: "中部",
    Region.WEST: "西部",
    Region.NORTHEAST: "东北",
}
CIRCLE_LABELS_ZH = {
    Circle.JING_JIN_JI: "京津冀",
    Circle.YANGTZE_DELTA: "长三角",
    Circle.PEARL_DELTA: "珠三角",
}

# The 31 provincial-level divisions of the mainland, by full name, with their NBS region.
PROVINCE_REGIONS: dict[str, Region] = {
    **dict.fromkeys(
        ("北京市", "天津市", "河北省", "上海市", "江苏省", "浙江省", "福建省", "山东省", "广东省", "海南省"),
        Region.EAST,
    ),
    **dict.fromkeys(("山西省", "安徽省", "江西省", "河南省", "湖北省", "湖南省"), Region.CENTRAL),
    **dict.fromkeys(
        (
            "内蒙古自治区",
            "广西壮族自治区",
            "重庆市",
            "四川省",
            "贵州省",
            "云南省",
            "西藏自治区",
            "陕西省",
            "甘肃省",
            "青海省",
            "宁夏回族自治区",
            "新疆维吾尔自治区",
        ),
        Region.WEST,
    ),
    **dict.fromkeys(("辽宁省", "吉林省", "黑龙江省"), Region.NORTHEAST),
}

_CIRCLE_PROVINCES = {
    Circle.JING_JIN_JI: frozenset({"北京市", "天津市", "河北省"}),
    Circle.YANGTZE_DELTA: frozenset({"上海市", "江苏省", "浙江省", "安徽省"}),
}
PEARL_DELTA_CITIES = ("广州", "深圳", "珠海", "佛山", "惠州", "东莞", "中山", "江门", "肇庆")

_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def province_short(name: str) -> str:
    """'新疆维吾尔自治区' → '新疆', '江苏省' → '江苏' (the names map GeoJSON files use)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name.removesuffix(suffix)
    return name


def province_full(name: str) -> str:
    """Accept a short or full province name and return the full one; raise ValueError if unknown."""
    text = name.strip()
    if text in PROVINCE_REGIONS:
        return text
    for full in PROVINCE_REGIONS:
        if province_short(full) == text:
            return full
    raise ValueError(f"未知省份 {name!r}")


def region_of(province: str) -> Region:
    return PROVINCE_REGIONS[province_full(province)]


def circle_of(province: str, city: str | None) -> Circle | None:
    """The economic circle a zone belongs to, if any; Guangdong zones count only in the nine PRD cities."""
    full = province_full(province)
    for circle, provinces in _CIRCLE_PROVINCES.items():
        if full in provinces:
            return circle
    # City cells are short forms such as '东莞松山湖' or '中山火炬高技术', so match on the prefix.
    if full == "广东省" and city and city.startswith(PEARL_DELTA_CITIES):
        return Circle.PEARL_DELTA
    return None
