"""Commands for the records themselves: database set-up, import and export."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..config import get_settings
from ..domain.access import Scope
from ..domain.records import RECORD_TYPES
from ..errors import ImportFailed
from . import app

console = Console()
KIND_HELP = f"Record kind: {', '.join(RECORD_TYPES)}"


def database_url() -> str:
    return get_settings().resolved_database_url


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar; yields the ``(done, total)`` callback long-running services accept."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _check_kind(kind: str) -> str:
    kind = kind.replace("-", "_")
    if kind not in RECORD_TYPES:
        raise typer.BadParameter(f"未知的记录类型 {kind!r}, 可选: {', '.join(RECORD_TYPES)}")
    return kind


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        header, sep, field = pair.partition("=")
        if not sep or not header or not field:
            raise typer.BadParameter(f"--map 应形如 表头=字段, 收到 {pair!r}")
        mapping[header.strip()] = field.strip()
    return mapping


@app.command("init-db")
def init_db_command() -> None:
    """Create or upgrade the database schema (runs the Alembic migrations)."""
    from sqlalchemy.engine import make_url

    from ..store.db import init_db

    url = database_url()
    init_db(url)
    # Without the password: this line ends up in terminals, CI logs and the systemd journal.
    console.print(f"数据库已就绪: {make_url(url).render_as_string(hide_password=True)}")


@app.command("import")
def import_command(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    file: Annotated[Path, typer.Argument(help="CSV, XLSX, JSON or JSONL file", exists=True, dir_okay=False)],
    zone: Annotated[str, typer.Option(envvar="TECHBRIDGE_ZONE", help="Zone code for rows that name none")],
    map_: Annotated[list[str], typer.Option("--map", help="Column mapping 表头=字段, repeatable")] = [],  # noqa: B006
    skip_invalid: Annotated[bool, typer.Option(help="Import the good rows, report the bad ones")] = False,
    dry_run: Annotated[bool, typer.Option(help="Validate and count, write nothing")] = False,
    report: Annotated[Path | None, typer.Option(help="Where to write the bad-row report (CSV)")] = None,
) -> None:
    """Import records from a file: all-or-nothing by default, idempotent on re-import."""
    from ..ingest.importer import import_file
    from ..services.transfer import cli_limits
    from ..store.db import init_db

    kind = _check_kind(kind)
    url = database_url()
    init_db(url)
    report_path = report or (file.parent / f"{file.stem}.errors.csv" if skip_invalid else None)
    try:
        result = import_file(
            url,
            kind,
            file,
            zone_code=zone,
            mapping=_parse_mapping(map_),
            skip_invalid=skip_invalid,
            dry_run=dry_run,
            progress=console.is_terminal,
            error_report=report_path,
            limits=cli_limits(get_settings()),
        )
    except ImportFailed as exc:
        for error in exc.errors[:20]:
            console.print(f"[red]{error}[/red]")
        if len(exc.errors) > 20:
            console.print(f"… 共 {len(exc.errors)} 处错误")
        console.print(
            "[red]导入失败, 未写入任何记录。[/red] 修正后重试, 或用 --skip-invalid 只导入正确的行。"
        )
        raise typer.Exit(1) from exc
    for warning in result.warnings[:20]:
        console.print(f"[yellow]注意: {warning}[/yellow]")
    table = Table(
        "文件",
        "总行数",
        "新增",
        "更新",
        "未变",
        "跳过",
        title="导入结果" + (" (试运行, 未写入)" if dry_run else ""),
    )
    table.add_row(
        result.file,
        *(
            str(n)
            for n in (result.total_rows, result.inserted, result.updated, result.unchanged, result.skipped)
        ),
    )
    console.print(table)
    if result.errors and report_path:
        console.print(f"错误行报告: {report_path}")


@app.command("export")
def export_command(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    file: Annotated[Path, typer.Argument(help="Output .csv or .xlsx")],
    zone: Annotated[
        str | None, typer.Option(help="Export as this zone sees it (default: everything)")
    ] = None,
) -> None:
    """Export records to CSV or XLSX with the import headers (re-importing it changes nothing)."""
    from ..ingest.export import export_records

    kind = _check_kind(kind)
    count = export_records(database_url(), kind, file, scope=Scope(zone))
    console.print(f"已导出 {count} 条记录到 {file}")
