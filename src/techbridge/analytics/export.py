"""Any analytics table to CSV (UTF-8 with BOM, so Excel opens Chinese correctly) or XLSX.

Titles, notes and names in a table come from users: text a spreadsheet would run as a formula is
quoted in CSV and written as a quote-prefixed string cell in XLSX (``domain.spreadsheet``).
"""

from __future__ import annotations

import csv
import io
import re

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from ..domain.spreadsheet import escape_formula, is_formula_like
from .models import Cell, TableData

EXPORT_FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def to_csv(table: TableData) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape_formula(c) for c in table.columns])
    writer.writerows(["" if cell is None else _csv_safe(cell) for cell in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8-sig")


def _csv_safe(value: Cell) -> Cell:
    return escape_formula(value) if isinstance(value, str) else value


def _xlsx_safe(value: object) -> object:
    # XLSX cannot hold control characters that imported records or request values may carry.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _keep_text(sheet: Worksheet) -> None:
    """Every text cell as a string, never a formula (openpyxl reads a leading '=' as one)."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" or (isinstance(cell.value, str) and is_formula_like(cell.value)):
                cell.data_type = "s"
                cell.quotePrefix = True


def to_xlsx(table: TableData) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", str(_xlsx_safe(table.title)))[:31]  # Excel's sheet-name rules
    sheet.append([_xlsx_safe(c) for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_xlsx_safe(cell) for cell in row])
    _keep_text(sheet)
    for index, column in enumerate(table.columns, start=1):
        width = max([len(str(column))] + [len(str(r[index - 1] or "")) for r in table.rows])
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(60, 4 + 2 * width)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_table(table: TableData, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(table)
    if fmt == "xlsx":
        return to_xlsx(table)
    raise ValueError(f"unknown export format {fmt!r}; choose from {list(EXPORT_FORMATS)}")
