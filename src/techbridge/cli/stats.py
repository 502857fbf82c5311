"""``techbridge stats``: every analytics metric as a table in the terminal, or exported to CSV/XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..analytics.models import TableData
from ..config import get_settings
from ..domain.accounts import officer
from ..services import analytics
from ..store.db import session_scope
from . import app

stats_app = typer.Typer(
    help="统计分析 (科创云图): 漏斗、覆盖率、产业链、高校、省份、跨园区", no_args_is_help=True
)
app.add_typer(stats_app, name="stats")

ZoneOption = Annotated[
    str | None,
    typer.Option("--zone", envvar="TECHBRIDGE_ZONE", help="Zone code; omit for the whole platform"),
]
ThresholdOption = Annotated[
    float, typer.Option("--threshold", help="Score a stored match needs to count for coverage")
]
ExportOption = Annotated[
    Path | None, typer.Option("--export", help="Also write the table to this .csv or .xlsx file")
]


def print_table(data: TableData) -> None:
    table = Table(title=data.title)
    for column in data.columns:
        table.add_column(column)
    for row in data.rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console(width=140).print(table)


def _command(name: str, metric: analytics.Metric) -> None:
    def run(
        zone: ZoneOption = None,
        threshold: ThresholdOption = analytics.DEFAULT_THRESHOLD,
        export: ExportOption = None,
    ) -> None:
        settings = get_settings()
        # The command line runs on the server itself: the operator reads as the platform admin.
        viewer = officer(None)
        with session_scope(settings.resolved_database_url) as session:
            result = analytics.compute(
                session, name, user=viewer, zone=zone, threshold=threshold, tz=settings.tz
            )
            print_table(result.table())
            if export is not None:
                file = analytics.export(
                    session,
                    name,
                    user=viewer,
                    zone=zone,
                    fmt=export.suffix.lstrip(".").lower(),
                    threshold=threshold,
                    tz=settings.tz,
                )
                export.write_bytes(file.content)
                typer.echo(f"已导出到 {export}")

    run.__doc__ = f"Print {name}: {metric.title}."
    stats_app.command(name)(run)


for _name, _metric in analytics.METRICS.items():
    _command(_name, _metric)
