"""Read rows from the files people already have: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030), XLSX, JSON, JSONL.

Rows stream one at a time so a million-row file never sits in memory. Each row carries the number a
user would see: for CSV and XLSX the spreadsheet row (header is row 1), for JSONL the line.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import RowError, TechBridgeError

FORMATS = ("csv", "xlsx", "json", "jsonl")
_SAMPLE_BYTES = 1 << 20


class UnreadableFile(TechBridgeError):
    status = 422


@dataclass(frozen=True)
class SourceRow:
    """One row as read; ``error`` is set when the row could not be read at all."""

    number: int
    values: dict[str, Any]
    error: RowError | None = None


@dataclass
class RowSource:
    """An opened file: its header, its rows, and how far through it we are (for progress bars)."""

    path: Path
    format: str
    encoding: str | None
    headers: list[str]
    rows: Iterator[SourceRow]
    total_bytes: int
    bytes_read: Callable[[], int]


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix == "json":
        return "json"
    if suffix in ("csv", "tsv", "txt"):
        return "csv"
    raise UnreadableFile(f"{path.name}: 不支持的文件类型 .{suffix}, 支持 CSV、XLSX、JSON、JSONL")


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as UTF-8, else GB18030 (a superset of GBK).

    Chinese Excel saves CSV as GBK; decoding the whole file once is cheap next to parsing it and avoids
    guessing from a sample that happens to be ASCII.
    """
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(_SAMPLE_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        f.seek(0)
        try:
            codecs.getincrementaldecoder("gb18030")().decode(f.read(_SAMPLE_BYTES))
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"{path.name}: 无法识别文件编码 (既不是 UTF-8 也不是 GBK)") from exc
        return "gb18030"


def _clean_header(name: object) -> str:
    return str(name or "").strip().lstrip("\ufeff")


def _open_csv(path: Path) -> RowSource:
    encoding = detect_encoding(path)
    binary: IO[bytes] = path.open("rb")
    text = codecs.getreader(encoding)(binary, errors="strict")
    with path.open("rb") as f:
        sample = f.read(8192).decode(encoding, errors="ignore")
    delimiter = "\t" if path.suffix.lower() == ".tsv" or sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(text, delimiter=delimiter)
    try:
        headers = [_clean_header(h) for h in next(reader)]
    except StopIteration:
        binary.close()
        raise UnreadableFile(f"{path.name}: 文件为空") from None

    def rows() -> Iterator[SourceRow]:
        try:
            for number, cells in enumerate(reader, start=2):
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) > len(headers):
                    extra = [c for c in cells[len(headers) :] if c.strip()]
                    if extra:
                        yield SourceRow(number, {}, RowError(path.name, number, "(整行)", "数据列多于表头列"))
                        continue
                yield SourceRow(number, dict(zip(headers, cells, strict=False)))
        finally:
            binary.close()

    return RowSource(path, "csv", encoding, headers, rows(), path.stat().st_size, binary.tell)


def _open_xlsx(path: Path) -> RowSource:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise UnreadableFile(f"{path.name}: 不是有效的 XLSX 文件 ({exc})") from exc
    sheet = workbook.worksheets[0]
    cells = sheet.iter_rows(values_only=True)
    headers: list[str] = []
    header_row = 0
    for values in cells:  # the header is the first non-empty row
        header_row += 1
        if any(v not in (None, "") for v in values):
            headers = [_clean_header(v) for v in values]
            break
    if not headers:
        workbook.close()
        raise UnreadableFile(f"{path.name}: 工作表为空")
    progress = {"rows": 0}
    total = sheet.max_row or 1

    def rows() -> Iterator[SourceRow]:
        try:
            for number, values in enumerate(cells, start=header_row + 1):
                progress["rows"] = number
                if not any(v not in (None, "") for v in values):
                    continue
                yield SourceRow(number, {h: v for h, v in zip(headers, values, strict=False) if h})
        finally:
            workbook.close()

    # openpyxl streams rows, not bytes: report progress as a share of the sheet's rows.
    size = path.stat().st_size
    return RowSource(path, "xlsx", None, headers, rows(), size, lambda: size * progress["rows"] // total)


def _open_json(path: Path, fmt: str) -> RowSource:
    encoding = detect_encoding(path)
    if fmt == "json":
        try:
            data = json.loads(path.read_text(encoding=encoding))
        except json.JSONDecodeError as exc:
            raise UnreadableFile(f"{path.name}: JSON 格式错误, 第 {exc.lineno} 行: {exc.msg}") from exc
        if isinstance(data, dict):
            data = next((v for v in data.values() if isinstance(v, list)), [data])
        if not isinstance(data, list):
            raise UnreadableFile(f"{path.name}: JSON 顶层应为对象数组")
        items: list[Any] = data
        headers = list(dict.fromkeys(k for item in items if isinstance(item, dict) for k in item))
        size = path.stat().st_size

        def rows() -> Iterator[SourceRow]:
            for number, item in enumerate(items, start=1):
                if not isinstance(item, dict):
                    yield SourceRow(number, {}, RowError(path.name, number, "(整行)", "应为 JSON 对象"))
                else:
                    yield SourceRow(number, item)

        return RowSource(path, "json", encoding, headers, rows(), size, lambda: size)

    binary = path.open("rb")
    text = codecs.getreader(encoding)(binary)

    def jsonl_rows() -> Iterator[SourceRow]:
        try:
            for number, line in enumerate(text, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield SourceRow(
                        number, {}, RowError(path.name, number, "(整行)", f"JSON 格式错误: {exc.msg}")
                    )
                    continue
                if not isinstance(item, dict):
                    yield SourceRow(number, {}, RowError(path.name, number, "(整行)", "应为 JSON 对象"))
                    continue
                yield SourceRow(number, item)
        finally:
            binary.close()

    # JSONL has no header row: the first object's keys stand in for one.
    with path.open("rb") as f:
        first = f.readline().decode(encoding, errors="ignore").lstrip("\ufeff")
    try:
        headers = list(json.loads(first)) if first.strip() else []
    except (json.JSONDecodeError, TypeError):
        headers = []
    return RowSource(path, "jsonl", encoding, headers, jsonl_rows(), path.stat().st_size, binary.tell)


def open_rows(path: Path) -> RowSource:
    if not path.exists():
        raise UnreadableFile(f"文件不存在: {path}")
    fmt = detect_format(path)
    if fmt == "csv":
        return _open_csv(path)
    if fmt == "xlsx":
        return _open_xlsx(path)
    return _open_json(path, fmt)
