"""The shipped zone registry: derived region and circle, idempotent load, and stats against the article."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from techbridge.cli import _register, app
from techbridge.domain.geography import Circle, Region, circle_of, province_short, region_of
from techbridge.services.zone_registry import load_registry, read_registry, registry_path, registry_stats
from techbridge.store.db import session_scope
from techbridge.store.tables import ZoneRow

ENTRIES = read_registry()


def test_region_derived_in_code_agrees_with_the_csv_column() -> None:
    with registry_path().open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(ENTRIES) == 162
    assert [e.region.value for e in ENTRIES] == [r["region"] for r in rows]


@pytest.mark.parametrize(
    ("province", "city", "region", "circle"),
    [
        ("河北省", "雄安新区", Region.EAST, Circle.JING_JIN_JI),
        ("安徽省", "滁州", Region.CENTRAL, Circle.YANGTZE_DELTA),
        ("广东省", "东莞松山湖", Region.EAST, Circle.PEARL_DELTA),
        ("广东省", "中山火炬高技术", Region.EAST, Circle.PEARL_DELTA),
        ("广东省", "汕头", Region.EAST, None),  # Guangdong, but not one of the nine PRD cities
        ("广东省", "源城", Region.EAST, None),  # 源城 is in 河源
        ("内蒙古", "包头稀土", Region.WEST, None),  # short province names are accepted
        ("黑龙江省", "大庆", Region.NORTHEAST, None),
    ],
)
def test_region_and_circle(province: str, city: str, region: Region, circle: Circle | None) -> None:
    assert region_of(province) is region
    assert circle_of(province, city) is circle


def test_province_short_names_match_map_names() -> None:
    assert [province_short(p) for p in ("新疆维吾尔自治区", "广西壮族自治区", "北京市", "江苏省")] == [
        "新疆",
        "广西",
        "北京",
        "江苏",
    ]


def test_zone_codes_are_unique_pinyin_with_a_province_on_clashes() -> None:
    codes = {e.zone.city: e.zone.code for e in ENTRIES}
    assert (codes["无锡"], codes["成都"], codes["厦门火炬高技术"]) == ("wuxi", "chengdu", "xiamen")
    assert len({e.zone.code for e in ENTRIES}) == 162
    by_name = {e.zone.name[:2]: e.zone.code for e in ENTRIES}
    assert (by_name["福州"], by_name["抚州"]) == ("fuzhou", "fuzhou-jiangxi")


def test_load_is_idempotent(db_url: str) -> None:
    first = load_registry(db_url)
    second = load_registry(db_url)
    assert (first.inserted, first.updated, first.unchanged) == (162, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 162)
    with session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(ZoneRow)) == 162
        row = s.scalar(select(ZoneRow).where(ZoneRow.code == "wuxi"))
        assert row is not None and (row.province, row.approved_date) == ("江苏省", "1992.11")


def test_stats_reproduce_what_the_registry_can_and_name_what_it_lacks() -> None:
    stats = registry_stats(ENTRIES)
    rows = list(csv.DictReader(registry_path().open(encoding="utf-8")))
    # Independent count straight from the CSV column, not through the code under test.
    assert stats.by_province == dict(Counter(r["province"] for r in rows))
    assert stats.by_province["山东省"] == 13  # the one named figure the registry reproduces
    assert (
        max(n for p, n in stats.by_province.items() if p not in {"江苏省", "广东省", "山东省", "湖北省"}) < 10
    )
    # 68 east + 39 central + 39 west + 16 northeast = 162
    assert stats.by_region == {Region.EAST: 68, Region.CENTRAL: 39, Region.WEST: 39, Region.NORTHEAST: 16}
    # 京津冀 = 北京 1 + 天津 1 + 河北 6 = 8; 长三角 = 上海 2 + 江苏 17 + 浙江 8 + 安徽 6 = 33;
    # 珠三角 = 12 Guangdong zones minus 汕头, 清远, 河源(源城) = 9
    assert stats.by_circle == {Circle.JING_JIN_JI: 8, Circle.YANGTZE_DELTA: 33, Circle.PEARL_DELTA: 9}
    missing = {d.subject: (d.document, d.registry, d.missing) for d in stats.differences}
    assert missing == {
        "有国家高新区的省份数": ("31", "30", 1),
        "江苏省": ("18", "17", 1),
        "广东省": ("14", "12", 2),
        "湖北省": ("12", "9", 3),
        "总数": ("179", "162", 17),
    }
    assert "西藏自治区" in stats.differences[0].note
    # 17 missing - (1 Tibet + 1 Jiangsu + 2 Guangdong + 3 Hubei) = 10 unaccounted for
    assert "其余 10 家" in stats.differences[-1].note
    assert stats.latest_approval == "2026.02"


def test_zones_stats_command_prints_counts_date_and_differences() -> None:
    _register()
    result = CliRunner().invoke(app, ["zones", "stats"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "共 162 家 (文中总数 179 家)" in out
    assert "最新批准 2026.02" in out and "NDRC2018 156 家" in out
    assert "有国家高新区的省份: 30 个" in out
    assert "与原文一致: 山东省 13 家; 其余省份均少于 10 家" in out
    assert "西藏自治区 (拉萨高新技术产业开发区)" in out
    for label in ("东部", "中部", "西部", "东北", "京津冀", "长三角", "珠三角"):
        assert label in out


def test_a_local_park_joins_beside_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from techbridge.config import get_settings

    monkeypatch.setenv("TECHBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path}/zones.sqlite3")
    get_settings.cache_clear()
    _register()
    runner = CliRunner()
    assert runner.invoke(app, ["zones", "load"]).exit_code == 0
    args = ["zones", "add", "suzhou-sip", "苏州工业园区", "--province", "江苏省", "--city", "苏州"]
    first, second = runner.invoke(app, args), runner.invoke(app, args)
    assert "已新增园区 suzhou-sip 苏州工业园区 (local)" in first.output
    assert "未变化" in second.output
    listing = runner.invoke(app, ["zones", "list"], env={"COLUMNS": "200"}).output
    assert "园区 (163)" in listing and "苏州工业园区" in listing and "地方园区" in listing
    bad = runner.invoke(app, ["zones", "add", "Bad Code", "某园区", "--province", "江苏省"])
    assert bad.exit_code != 0
    get_settings.cache_clear()
