"""``techbridge demo``: load the demo data set, and optionally serve the app on it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from . import app
from .records import console, database_url, progress_bar


@app.command("demo")
def demo_command(
    serve: Annotated[
        bool, typer.Option(help="Start the web app (and a background-job worker beside it) after loading")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to serve on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8000,
) -> None:
    """Load the demo data (real patents and papers, sample demands and capabilities)."""
    from ..config import get_settings
    from ..services.demo import SAMPLE_NOTICE, load_demo

    url = database_url()
    with progress_bar("导入与撮合匹配") as progress:
        result = load_demo(url, settings=get_settings(), progress=progress)
    table = Table("类型", "文件", "总行数", "新增", "更新", "未变", title="演示数据")
    for r in result.reports:
        table.add_row(r.kind, r.file, *(str(n) for n in (r.total_rows, r.inserted, r.updated, r.unchanged)))
    console.print(table)
    accounts = Table(
        "用户名", "角色", "园区", "机构", title=f"演示账户 (密码均为 {result.accounts[0].password})"
    )
    for a in result.accounts:
        accounts.add_row(a.username, a.role_label, a.zone_code or "全部", a.organization or "")
    console.print(accounts)
    m = result.matching
    console.print(f"撮合匹配: 匹配 {m.sources} 个来源, 保存 {m.stored} 条结果, 用时 {m.seconds:.1f} 秒")
    if result.sample_deals:
        console.print(f"示例撮合项目: {result.sample_deals} 个 (阶段与金额为示例数据)")
    console.print(f"[yellow]{SAMPLE_NOTICE}[/yellow]")
    console.print(f"数据库: {url}")
    if serve:
        from .users import serve_command
        from .worker import start_worker_process

        worker = start_worker_process()
        try:
            serve_command(host=host, port=port, reload=False)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
