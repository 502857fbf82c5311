"""``techbridge demo``: load the demo data set, and optionally serve the app on it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from . import app
from .records import console, database_url


@app.command("demo")
def demo_command(
    serve: Annotated[bool, typer.Option(help="Start the web app after loading")] = False,
    host: Annotated[str, typer.Option(help="Address to serve on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8000,
) -> None:
    """Load the demo data (real patents and papers, sample demands and capabilities)."""
    from ..services.demo import SAMPLE_NOTICE, load_demo

    url = database_url()
    result = load_demo(url, progress=console.is_terminal)
    table = Table("类型", "文件", "总行数", "新增", "更新", "未变", title="演示数据")
    for r in result.reports:
        table.add_row(r.kind, r.file, *(str(n) for n in (r.total_rows, r.inserted, r.updated, r.unchanged)))
    console.print(table)
    console.print(f"[yellow]{SAMPLE_NOTICE}[/yellow]")
    console.print(f"数据库: {url}")
    if serve:
        console.print("[red]网页服务尚未包含在此版本中。[/red]")
