"""``techbridge chains``: the industry-chain catalogue a zone tags its records with."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..domain.records import IndustryChain
from ..store.catalogue import list_chains, remove_chain, save_chain
from ..store.db import init_db, session_scope
from . import app
from .records import console, database_url

chains_app = typer.Typer(
    help="Industry-chain catalogue (产业链目录): defaults plus each zone's own.", no_args_is_help=True
)
app.add_typer(chains_app, name="chains")


@chains_app.command("list")
def list_command(
    zone: Annotated[str | None, typer.Option(help="Show the catalogue as this zone sees it")] = None,
) -> None:
    """List the industry chains."""
    url = database_url()
    init_db(url)
    with session_scope(url) as session:
        chains = list_chains(session, zone_code=zone)
    table = Table("代码", "名称", "关键词", "来源", title="产业链目录")
    for c in chains:
        table.add_row(c.code, c.name, "、".join(c.keywords), c.zone_code or "默认")
    console.print(table)


@chains_app.command("set")
def set_command(
    code: str,
    name: str,
    zone: Annotated[str, typer.Option(help="Zone that owns the entry")],
    keywords: Annotated[str, typer.Option(help="Keywords separated by ; or 、")] = "",
) -> None:
    """Add a chain to a zone's catalogue, or rename one (a default with the same code is overridden)."""
    url = database_url()
    init_db(url)
    chain = IndustryChain(code=code, name=name, keywords=keywords, zone_code=zone)
    with session_scope(url) as session:
        save_chain(session, chain)
    console.print(f"已保存 {zone} 的产业链 {code} {name}")


@chains_app.command("remove")
def remove_command(code: str, zone: Annotated[str, typer.Option(help="Zone that owns the entry")]) -> None:
    """Remove a zone's own entry."""
    url = database_url()
    init_db(url)
    with session_scope(url) as session:
        remove_chain(session, zone_code=zone, code=code)
    console.print(f"已删除 {zone} 的产业链 {code}")
