"""Read rows from the files people already have: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16), XLSX,
JSON, JSONL.

Rows stream one at a time so a million-row file never sits in memory. Each row carries the number a
user would see: for CSV and XLSX the spreadsheet row (header is row 1), for JSONL the line. What one
file may cost is bounded by ``ReadLimits`` (rows, columns, cell size, parts read whole); a file that
cannot be read gets an error naming it and the row, never a traceback.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..domain.validation import printable
from ..errors import RowError
from .limits import LimitExceeded, ReadLimits, TooManyRows, UnreadableFile, megabytes

FORMATS = ("csv", "xlsx", "json", "jsonl")
_SAMPLE_BYTES = 1 << 20

__all__ = [
    "FORMATS",
    "LimitExceeded",
    "ReadLimits",
    "RowSource",
    "SourceRow",
    "TooManyRows",
    "UnreadableFile",
]


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
    # Releases the open file even when the rows were never read (a header that fails to map).
    close: Callable[[], None] = lambda: None


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
        if utf16 := _utf16_without_bom(f.read(_SAMPLE_BYTES)):
            return utf16
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


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 that Windows tools save without a BOM: every ASCII character (commas, newlines, digits)
    carries a NUL byte on the same side, which UTF-8 and GBK text never has."""
    if b"\x00" not in sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    encoding = "utf-16-le" if odd > even else "utf-16-be"
    try:
        codecs.getincrementaldecoder(encoding)().decode(sample[: len(sample) // 2 * 2])
    except UnicodeDecodeError:
        return None
    return encoding if min(even, odd) * 4 < max(even, odd) else None


def _clean_header(name: object) -> str:
    return printable(str(name or "").strip().lstrip("\ufeff"))


def _check_columns(path: Path, headers: list[str], limits: ReadLimits) -> None:
    if len(headers) > limits.max_columns:
        raise LimitExceeded(
            f"{path.name}: 有 {len(headers):,} 列, 超过 {limits.max_columns:,} 列的上限 "
            "(TECHBRIDGE_IMPORT_MAX_COLUMNS)"
        )


def _bounded(path: Path, rows: Iterator[SourceRow], limits: ReadLimits) -> Iterator[SourceRow]:
    """Count data rows against ``max_rows`` and turn a row with an oversized cell into a row error."""
    count = 0
    try:
        for row in rows:
            count += 1
            if limits.max_rows is not None and count > limits.max_rows:
                raise TooManyRows(path.name, limits.max_rows)
            if row.error is None:
                long = next(
                    (
                        h
                        for h, v in row.values.items()
                        if isinstance(v, str) and len(v) > limits.max_cell_chars
                    ),
                    None,
                )
                if long is not None:
                    reason = f"单元格超过 {limits.max_cell_chars:,} 个字符"
                    row = SourceRow(
                        row.number, {}, RowError(path.name, row.number, printable(str(long)), reason)
                    )
            yield row
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()


def _csv_failure(path: Path, number: int, exc: Exception, encoding: str) -> UnreadableFile:
    """A CSV the parser cannot go on reading: what broke, where, and what limit it hit."""
    if isinstance(exc, UnicodeDecodeError):
        reason = f"含有无法按 {encoding} 解码的字节"
    elif "field larger than field limit" in str(exc):
        reason = f"有单元格超过 {csv.field_size_limit():,} 个字符 (单元格上限)"
    elif "NUL" in str(exc):
        reason = "含有 NUL 字节 (不是文本文件, 或是无法识别的编码)"
    else:
        reason = f"无法解析 ({exc})"
    # After a broken quoted field the parser's idea of rows is unreliable: refuse the file, not the row.
    return UnreadableFile(f"{path.name}: 第 {number} 行{reason}, 文件无法导入")


def _open_csv(path: Path, limits: ReadLimits) -> RowSource:
    encoding = detect_encoding(path)
    binary: IO[bytes] = path.open("rb")
    text = codecs.getreader(encoding)(binary, errors="strict")
    with path.open("rb") as f:
        sample = f.read(8192).decode(encoding, errors="ignore")
    delimiter = "\t" if path.suffix.lower() == ".tsv" or sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(text, delimiter=delimiter)
    try:
        headers = [_clean_header(h) for h in next(reader)]
        _check_columns(path, headers, limits)
    except StopIteration:
        binary.close()
        raise UnreadableFile(f"{path.name}: 文件为空") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        binary.close()
        raise _csv_failure(path, 1, exc, encoding) from exc
    except LimitExceeded:
        binary.close()
        raise

    def rows() -> Iterator[SourceRow]:
        number = 1
        try:
            while True:
                number += 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except (csv.Error, UnicodeDecodeError) as exc:
                    raise _csv_failure(path, number, exc, encoding) from exc
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

    return RowSource(
        path,
        "csv",
        encoding,
        headers,
        _bounded(path, rows(), limits),
        path.stat().st_size,
        binary.tell,
        binary.close,
    )


def _open_xlsx(path: Path, limits: ReadLimits) -> RowSource:
    from openpyxl import load_workbook

    from .xlsx_guard import inspect_xlsx

    extent = inspect_xlsx(path, limits)
    if not extent.last_row:
        raise UnreadableFile(f"{path.name}: 工作表为空")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise UnreadableFile(f"{path.name}: 不是有效的 XLSX 文件 ({exc})") from exc
    sheet = workbook.worksheets[0]
    # The scanned extent, not the sheet's own <dimension>: that may claim 16,384 columns or too few rows.
    cells = sheet.iter_rows(
        min_row=1, max_row=extent.last_row, min_col=1, max_col=extent.last_column, values_only=True
    )
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
    total = extent.last_row

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
    return RowSource(
        path,
        "xlsx",
        None,
        headers,
        _bounded(path, rows(), limits),
        size,
        lambda: size * progress["rows"] // total,
        workbook.close,
    )


_TOO_DEEP = "JSON 嵌套层数过深"


def _open_json(path: Path, fmt: str, limits: ReadLimits) -> RowSource:
    encoding = detect_encoding(path)
    if fmt == "json":
        size = path.stat().st_size
        if size > limits.max_part_bytes:
            raise LimitExceeded(
                f"{path.name}: JSON 数组文件 {megabytes(size)}, 超过整体读取的上限 "
                f"{megabytes(limits.max_part_bytes)} (TECHBRIDGE_IMPORT_MAX_PART_MB); "
                "请改用 JSONL (每行一个对象)"
            )
        try:
            data = json.loads(path.read_text(encoding=encoding))
        except json.JSONDecodeError as exc:
            raise UnreadableFile(f"{path.name}: JSON 格式错误, 第 {exc.lineno} 行: {exc.msg}") from exc
        except RecursionError:
            raise UnreadableFile(f"{path.name}: {_TOO_DEEP}") from None
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"{path.name}: 含有无法按 {encoding} 解码的字节") from exc
        if isinstance(data, dict):
            data = next((v for v in data.values() if isinstance(v, list)), [data])
        if not isinstance(data, list):
            raise UnreadableFile(f"{path.name}: JSON 顶层应为对象数组")
        items: list[Any] = data
        headers = list(dict.fromkeys(k for item in items if isinstance(item, dict) for k in item))
        _check_columns(path, headers, limits)

        def rows() -> Iterator[SourceRow]:
            for number, item in enumerate(items, start=1):
                if not isinstance(item, dict):
                    yield SourceRow(number, {}, RowError(path.name, number, "(整行)", "应为 JSON 对象"))
                else:
                    yield SourceRow(number, item)

        return RowSource(
            path,
            "json",
            encoding,
            [_clean_header(h) for h in headers],
            _bounded(path, rows(), limits),
            size,
            lambda: size,
        )

    # JSONL has no header row: the first object's keys stand in for one.
    with path.open("rb") as f:
        first = f.readline().decode(encoding, errors="ignore").lstrip("\ufeff")
    try:
        item = json.loads(first) if first.strip() else {}
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"{path.name}: 第 1 行 JSON 格式错误: {exc.msg}") from None
    except RecursionError:
        raise UnreadableFile(f"{path.name}: 第 1 行{_TOO_DEEP}") from None
    if not isinstance(item, dict):
        raise UnreadableFile(f"{path.name}: 第 1 行应为 JSON 对象 (JSONL 每行一个对象)")
    headers = [_clean_header(h) for h in item]
    _check_columns(path, headers, limits)
    binary = path.open("rb")
    text = codecs.getreader(encoding)(binary)

    def jsonl_rows() -> Iterator[SourceRow]:
        number = 0
        try:
            for number, line in enumerate(text, start=1):  # noqa: B007 - the except names the line
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield SourceRow(
                        number, {}, RowError(path.name, number, "(整行)", f"JSON 格式错误: {exc.msg}")
                    )
                    continue
                except RecursionError:
                    yield SourceRow(number, {}, RowError(path.name, number, "(整行)", _TOO_DEEP))
                    continue
                if not isinstance(item, dict):
                    yield SourceRow(number, {}, RowError(path.name, number, "(整行)", "应为 JSON 对象"))
                    continue
                yield SourceRow(number, item)
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"{path.name}: 第 {number + 1} 行含有无法按 {encoding} 解码的字节") from exc
        finally:
            binary.close()

    rows = _bounded(path, jsonl_rows(), limits)
    return RowSource(path, "jsonl", encoding, headers, rows, path.stat().st_size, binary.tell, binary.close)


def open_rows(path: Path, limits: ReadLimits | None = None) -> RowSource:
    """Open ``path`` for streaming; ``limits`` default to the CLI's (any number of rows)."""
    limits = limits or ReadLimits()
    if not path.exists():
        raise UnreadableFile(f"文件不存在: {path}")
    fmt = detect_format(path)
    if fmt == "csv":
        return _open_csv(path, limits)
    if fmt == "xlsx":
        return _open_xlsx(path, limits)
    return _open_json(path, fmt, limits)
