"""``techbridge zones``: load the national high-tech zone registry and count it against the article."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..config import get_settings
from ..domain.geography import CIRCLE_LABELS_ZH, REGION_LABELS_ZH
from ..domain.records import Zone
from ..services.zone_registry import (
    DOCUMENT_CIRCLE_SHARE,
    DOCUMENT_TOTAL,
    load_registry,
    read_registry,
    registry_path,
    registry_stats,
)
from ..store.db import init_db, session_scope
from ..store.zone_registry import list_zones, upsert_zones
from . import app

zones_app = typer.Typer(help="国家高新区登记表: 导入与统计", no_args_is_help=True)
app.add_typer(zones_app, name="zones")


@zones_app.command("add")
def add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. suzhou-sip")],
    name: Annotated[str, typer.Argument(help="Full name, e.g. 苏州工业园区")],
    province: Annotated[str, typer.Option(help="Province, e.g. 江苏省")],
    city: Annotated[str | None, typer.Option(help="City")] = None,
    national: Annotated[bool, typer.Option(help="A national high-tech zone (default: a local park)")] = False,
) -> None:
    """Add or update a zone that uses the platform, such as a local park outside the national registry."""
    url = get_settings().resolved_database_url
    init_db(url)
    zone = Zone(code=code, name=name, province=province, city=city, kind="national" if national else "local")
    with session_scope(url) as session:
        counts = upsert_zones(session, [zone])
    verb = "已新增" if counts.inserted else "已更新" if counts.updated else "未变化:"
    Console().print(f"{verb}园区 {zone.code} {zone.name} ({zone.kind.value})")


@zones_app.command("list")
def list_command() -> None:
    """List the zones in the database (registry and local parks)."""
    url = get_settings().resolved_database_url
    init_db(url)
    with session_scope(url) as session:
        zones = list_zones(session)
    table = Table("代码", "名称", "省份", "城市", "类型", title=f"园区 ({len(zones)})")
    for z in zones:
        table.add_row(
            z.code, z.name, z.province, z.city or "", "国家级" if z.kind == "national" else "地方园区"
        )
    Console().print(table)


@zones_app.command("load")
def load() -> None:
    """Load the shipped registry into the zones table (safe to run again)."""
    url = get_settings().resolved_database_url
    init_db(url)
    counts = load_registry(url)
    typer.echo(f"园区登记表已导入: 新增 {counts.inserted}, 更新 {counts.updated}, 未变 {counts.unchanged}")


def _counts_table(title: str, rows: list[tuple[str, int]], total: int) -> Table:
    table = Table(title=title)
    table.add_column("类别")
    table.add_column("数量", justify="right")
    table.add_column("占比", justify="right")
    for label, n in rows:
        table.add_row(label, str(n), f"{n / total:.1%}")
    return table


@zones_app.command("stats")
def stats() -> None:
    """Count the registry by province, region and economic circle, and compare with the article."""
    result = registry_stats(read_registry())
    console = Console(width=120)
    console.print(f"登记表: {registry_path().name}, 共 {result.total} 家 (文中总数 {DOCUMENT_TOTAL} 家)")
    console.print(
        f"数据截至: 最新批准 {result.latest_approval}; 来源: "
        + ", ".join(f"{name} {n} 家" for name, n in result.sources.items())
    )
    console.print(f"有国家高新区的省份: {result.provinces_with_zones} 个")
    console.print(_counts_table("按省份", list(result.by_province.items()), result.total))
    console.print(
        _counts_table(
            "按区域 (国家统计局四大区域)",
            [(REGION_LABELS_ZH[r], n) for r, n in result.by_region.items()],
            result.total,
        )
    )
    circle_rows = [(CIRCLE_LABELS_ZH[c], n) for c, n in result.by_circle.items()]
    console.print(
        _counts_table("按三大经济圈", [*circle_rows, ("三大经济圈合计", result.in_circles)], result.total)
    )
    console.print(
        f"三大经济圈合计 {result.in_circles}/{result.total} = {result.in_circles / result.total:.1%} "
        f"(文中: {DOCUMENT_CIRCLE_SHARE}; 此处京津冀、长三角按整省, 珠三角按 9 市计)"
    )
    console.print("与原文一致: " + "; ".join(result.agreements))
    if not result.differences:
        console.print("与文中数字一致。")
        return
    diff = Table(title="与原文 (科创云图) 数字的差异")
    for column in ("项目", "原文", "登记表", "缺少", "说明"):
        diff.add_column(column)
    for d in result.differences:
        diff.add_row(d.subject, d.document, d.registry, str(d.missing), d.note)
    console.print(diff)
