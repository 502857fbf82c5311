"""Write records back to CSV or XLSX with the same Chinese headers the importer reads.

An exported file imports back with no changes, which makes export a safe round trip for zone staff
who edit records in Excel. Text a spreadsheet would run as a formula stays text (``domain.spreadsheet``):
in CSV behind a single quote, which the importer removes again; in XLSX as a string cell carrying Excel's
own quote-prefix flag, so it shows as typed and stays text when edited.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..domain.access import Scope
from ..domain.enums import label_zh
from ..domain.records import RECORD_TYPES, Record
from ..domain.spreadsheet import escape_formula, is_formula_like
from ..store.db import session_scope
from ..store.records import iter_records
from .columns import export_header

EXPORT_FORMATS = ("csv", "xlsx")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, StrEnum):
        return label_zh(value)
    if isinstance(value, list):
        return ";".join(str(_cell(v)) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def export_rows(kind: str, records: Iterator[Record]) -> Iterator[list[Any]]:
    """Header row, then one row per record."""
    fields = list(RECORD_TYPES[kind].model_fields)
    yield [export_header(kind, f) for f in fields]
    for record in records:
        yield [_cell(getattr(record, f)) for f in fields]


def export_records(
    url: str,
    kind: str,
    path: Path,
    *,
    scope: Scope,
    fmt: str | None = None,
    redact: Callable[[Record], Record] | None = None,
) -> int:
    """Export every record of ``kind`` the scope may see; returns the number of records written.

    ``redact`` blanks fields the reader may not see (an expert's contact outside their zone).
    """
    path = Path(path)
    fmt = fmt or path.suffix.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"不支持的导出格式 {fmt!r}, 可选: {', '.join(EXPORT_FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with session_scope(url) as session:
        records = (
            redact(stored.record) if redact else stored.record
            for stored in iter_records(session, kind, scope=scope)
        )
        rows = export_rows(kind, records)
        if fmt == "csv":
            # UTF-8 with BOM: what Excel needs to open Chinese text correctly.
            with path.open("w", encoding="utf-8-sig", newline="") as f:
                writer = csv.writer(f)
                for row in rows:
                    writer.writerow([escape_formula(v) if isinstance(v, str) else v for v in row])
                    count += 1
        else:
            from openpyxl import Workbook

            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet(kind)
            for row in rows:
                sheet.append([text_cell(sheet, v) if isinstance(v, str) else v for v in row])
                count += 1
            workbook.save(path)
    return count - 1


def text_cell(sheet: Any, value: str) -> Any:
    """A write-only XLSX cell that holds ``value`` as text, never as a formula."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # XLSX cannot hold control characters that a CSV or an API client may have let in.
    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    cell.quotePrefix = is_formula_like(value)
    return cell
