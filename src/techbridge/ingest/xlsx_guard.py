"""Look inside an XLSX before openpyxl does, so a small file cannot make it read gigabytes.

An XLSX is a zip of XML parts. openpyxl's read-only mode streams worksheet rows, but reads some parts
whole (the shared strings above all: one 300 MB string in a 300 KB file), builds each row as an element
tree (a 1M-column header), pads rows to the sheet's declared size, and scans any sheet without a
``<dimension>`` to its end. So, before it opens the file:

- every part read whole must be at most ``max_part_bytes`` uncompressed (the zip's declared size, which
  Python's zipfile enforces while reading);
- the first worksheet is scanned once with expat (no tree is built): rows with cells, the last column,
  and the bytes of each row are checked against the limits, stopping at the first one exceeded;
- any other large worksheet must declare its ``<dimension>`` early, so openpyxl stops reading it there.

The scan returns the sheet's real extent, which the reader passes to openpyxl instead of trusting
``<dimension>`` (which can claim XFD1048576, or fewer rows than the sheet holds).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

from .limits import (
    EXCEL_MAX_COLUMNS,
    EXCEL_MAX_ROWS,
    MAX_ROW_XML_BYTES,
    LimitExceeded,
    ReadLimits,
    TooManyRows,
    UnreadableFile,
    megabytes,
)

_WORKBOOK_TYPES = (
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
)
_SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_CONTENT_TYPES = "[Content_Types].xml"
_STYLES = "xl/styles.xml"
_PEEK_BYTES = 64 * 1024
# Inside a row only these elements occur (cell, value, formula, inline and rich text).
_ROW_CONTENT = frozenset({"c", "v", "f", "is", "t", "r", "rPr", "rPh", "phoneticPr", "extLst", "ext"})


@dataclass(frozen=True)
class SheetExtent:
    """The first worksheet as it really is: its part name, last row number and last column number."""

    part: str
    last_row: int
    last_column: int


def inspect_xlsx(path: Path, limits: ReadLimits) -> SheetExtent:
    """Check ``path`` against ``limits`` without building anything big; raise a clear error if it fails."""
    from openpyxl.reader.excel import ExcelReader

    try:
        reader = ExcelReader(str(path), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise UnreadableFile(f"{path.name}: 不是有效的 XLSX 文件 ({exc})") from exc
    archive = reader.archive
    try:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
        check = _PartCheck(path.name, sizes, limits.max_part_bytes)
        check.whole(_CONTENT_TYPES)
        reader.read_manifest()
        workbook = _workbook_part(reader.package)
        check.whole(workbook)
        check.whole(_rels_of(workbook))
        reader.read_workbook()
        sheets = [rel.target for _sheet, rel in reader.parser.find_sheets() if rel.target in sizes]
        if not sheets:
            raise UnreadableFile(f"{path.name}: 工作表为空")
        whole = {_CONTENT_TYPES, _STYLES, workbook}
        whole.update(p.PartName.lstrip("/") for p in reader.package.findall(_SHARED_STRINGS_TYPE))
        for part, size in sizes.items():
            if size > limits.max_part_bytes and (part in whole or part not in sheets):
                check.refuse(part, size)
        for part in sheets[1:]:
            if sizes[part] > limits.max_part_bytes and not _declares_dimension(archive, part):
                check.refuse(part, sizes[part])
        return _scan_sheet(archive, sheets[0], limits, path.name)
    except (UnreadableFile, LimitExceeded):
        raise
    except Exception as exc:  # a damaged manifest or workbook part
        raise UnreadableFile(f"{path.name}: 不是有效的 XLSX 文件 ({exc})") from exc
    finally:
        archive.close()


@dataclass(frozen=True)
class _PartCheck:
    file_name: str
    sizes: dict[str, int]
    limit: int

    def whole(self, part: str) -> None:
        if self.sizes.get(part, 0) > self.limit:
            self.refuse(part, self.sizes[part])

    def refuse(self, part: str, size: int) -> None:
        raise LimitExceeded(
            f"{self.file_name}: XLSX 内部的 {part} 解压后 {megabytes(size)}, 超过上限 "
            f"{megabytes(self.limit)} (TECHBRIDGE_IMPORT_MAX_PART_MB); 请另存为 CSV 后导入"
        )


def _workbook_part(package: Any) -> str:
    for content_type in _WORKBOOK_TYPES:
        part = package.find(content_type)
        if part:
            return str(part.PartName).lstrip("/")
    return "xl/workbook.xml"


def _rels_of(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _column_number(letters: str) -> int:
    """AB -> 28; anything that is not a column name counts past Excel's last column (refused)."""
    if not letters.isascii() or not letters.isalpha() or len(letters) > 3:
        return EXCEL_MAX_COLUMNS + 1
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def _declares_dimension(archive: zipfile.ZipFile, part: str) -> bool:
    """Whether a worksheet names its size before its rows (openpyxl then stops reading it there)."""
    with archive.open(part) as source:
        head = source.read(_PEEK_BYTES)
    dimension, data = head.find(b"dimension "), head.find(b"sheetData")
    return dimension != -1 and (data == -1 or dimension < data)


class _SheetScan:
    """Expat handlers that count what openpyxl would build, raising as soon as a limit is crossed."""

    def __init__(self, parser: Any, limits: ReadLimits, file_name: str) -> None:
        self.parser = parser
        self.limits = limits
        self.file_name = file_name
        self.row = self.column = 0
        self.last_row = self.last_column = 0
        self.rows_with_cells = 0
        self.row_has_cells = False
        self.row_start: int | None = None
        max_rows = EXCEL_MAX_ROWS if limits.max_rows is None else limits.max_rows + 1  # plus the header
        self.max_rows = max_rows
        self.max_columns = min(limits.max_columns, EXCEL_MAX_COLUMNS)
        self.columns: dict[str, int] = {}  # column letters seen, as numbers

    def start(self, name: str, attrs: dict[str, str]) -> None:
        # Called for every element of the sheet (millions): the common names are tested first.
        if name == "c":
            self.cell(attrs)
        elif name == "row":
            self.new_row(attrs)
        elif name not in _ROW_CONTENT:
            if ":" in name:  # a prefixed namespace (x:row): dispatch on the local name
                self.start(_local(name), attrs)
            else:
                self.row_start = None

    def new_row(self, attrs: dict[str, str]) -> None:
        reference = attrs.get("r", "")
        self.row = int(reference) if reference.isdigit() else self.row + 1
        if self.row > EXCEL_MAX_ROWS:
            raise UnreadableFile(
                f"{self.file_name}: 行号 {self.row:,} 超出 Excel 工作表的上限 ({EXCEL_MAX_ROWS:,} 行); "
                "请拆分文件或另存为 CSV"
            )
        self.column, self.row_has_cells = 0, False
        self.row_start = self.parser.CurrentByteIndex

    def cell(self, attrs: dict[str, str]) -> None:
        letters = attrs.get("r", "").rstrip("0123456789")
        if letters:
            column = self.columns.get(letters)
            if column is None:
                column = self.columns[letters] = _column_number(letters)
            self.column = column
        else:
            self.column += 1
        if self.column > self.max_columns:
            raise LimitExceeded(
                f"{self.file_name}: 第 {self.row} 行有第 {self.column:,} 列, 超过 "
                f"{self.max_columns:,} 列的上限 (TECHBRIDGE_IMPORT_MAX_COLUMNS)"
            )
        if not self.row_has_cells:
            self.row_has_cells = True
            self.rows_with_cells += 1
            if self.rows_with_cells > self.max_rows:
                raise TooManyRows(self.file_name, self.max_rows - 1)
            if self.row > self.last_row:
                self.last_row = self.row
        if self.column > self.last_column:
            self.last_column = self.column
        self.check_row_size(self.parser.CurrentByteIndex)

    def check_row_size(self, position: int) -> None:
        if self.row_start is not None and position - self.row_start > MAX_ROW_XML_BYTES:
            raise LimitExceeded(
                f"{self.file_name}: 第 {self.row} 行的内容超过 {megabytes(MAX_ROW_XML_BYTES)} "
                f"(单元格最多 {self.limits.max_cell_chars:,} 个字符)"
            )

    def refuse_doctype(self, *_args: object) -> None:
        raise UnreadableFile(f"{self.file_name}: XLSX 工作表不应含有 DOCTYPE 声明")


def _scan_sheet(archive: zipfile.ZipFile, part: str, limits: ReadLimits, file_name: str) -> SheetExtent:
    parser = expat.ParserCreate()
    scan = _SheetScan(parser, limits, file_name)
    parser.StartElementHandler = scan.start
    parser.StartDoctypeDeclHandler = scan.refuse_doctype
    fed = 0
    try:
        with archive.open(part) as source:
            while chunk := source.read(1 << 20):
                parser.Parse(chunk, False)
                fed += len(chunk)
                scan.check_row_size(fed)  # one huge text node raises no event to check it by
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise UnreadableFile(f"{file_name}: 工作表 XML 格式错误 ({exc})") from exc
    return SheetExtent(part=part, last_row=scan.last_row, last_column=scan.last_column)
