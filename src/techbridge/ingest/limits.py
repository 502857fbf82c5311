"""How much one import file may make us read, and the errors for a file that asks for more.

A web or API request reads a bounded number of rows; the CLI reads any number. Every path bounds what a
single cell, row or whole-read part may cost, so a small hostile file cannot take gigabytes or minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import TechBridgeError

# csv's default field limit, above the longest field any record holds (claims: 100,000 characters).
MAX_CELL_CHARS = 131_072
# Excel's own sheet size: no genuine workbook goes beyond it.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
# One worksheet row's XML; openpyxl builds a row as an element tree of a few times this size.
MAX_ROW_XML_BYTES = 4 << 20


@dataclass(frozen=True)
class ReadLimits:
    """Caps for one file. ``max_rows=None``: any number of data rows (the CLI streams them)."""

    max_rows: int | None = None
    max_columns: int = 1000
    max_part_bytes: int = 100 << 20
    max_cell_chars: int = MAX_CELL_CHARS


class UnreadableFile(TechBridgeError):
    status = 422


class LimitExceeded(TechBridgeError):
    """The file is well-formed but bigger than this path reads (HTTP 413)."""

    status = 413


class TooManyRows(LimitExceeded):
    def __init__(self, file_name: str, limit: int) -> None:
        super().__init__(f"{file_name}: 数据超过 {limit:,} 行")
        self.file_name = file_name
        self.limit = limit


def megabytes(size: int) -> str:
    return f"{size / (1 << 20):,.0f} MB"
