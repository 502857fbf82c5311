"""Import a file of records: validate every row, then write all of it in one transaction, or nothing.

The rules a zone relies on:
- a bad row is reported with file, row number, field (as the file names it) and reason;
- by default one bad row means nothing is written; ``skip_invalid`` writes the good rows and reports
  the rest;
- re-importing the same file changes nothing (upsert on natural keys, identical rows left alone);
- an interrupted import leaves nothing half-written (a single transaction).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from ..domain.access import Scope
from ..domain.records import RECORD_TYPES, Record
from ..domain.spreadsheet import unescape_formula
from ..domain.validation import describe_errors, printable
from ..errors import ImportFailed, RowError
from ..store.db import session_scope
from ..store.records import UpsertCounts, prepare_bulk_upsert, upsert_records
from ..store.tables import ImportLogRow
from .columns import map_columns
from .limits import ReadLimits
from .readers import RowSource, open_rows

MAX_REPORTED_ERRORS = 1000
MAX_REPORTED_WARNINGS = 1000
# What a clash on a global natural key is about, by the key's prefix (see Record.natural_key).
_KEY_LABELS = {"pub": "公开号", "app": "申请号", "uscc": "统一社会信用代码"}


@dataclass
class ImportReport:
    file: str
    kind: str
    total_rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0
    unmapped_columns: list[str] = field(default_factory=list)
    encoding: str | None = None

    def add_counts(self, counts: UpsertCounts) -> None:
        self.inserted += counts.inserted
        self.updated += counts.updated
        self.unchanged += counts.unchanged

    def warn(self, text: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_REPORTED_WARNINGS:
            self.warnings.append(text)


class _SeenRows:
    """The rows already read from this file, to report a row that repeats one (never drop it silently) or
    whose title nearly repeats one of the same organisation (``duplicate_key``).

    Keys are kept as 64-bit hashes, so a million-row file costs under 200 MB, whatever its titles.
    ``near_duplicate`` must see a row before ``repeated`` registers it.
    """

    def __init__(self) -> None:
        self.natural: dict[int, int] = {}  # natural key -> first row with it
        self.near: dict[int, int] = {}  # near-duplicate key -> natural key of the first row with it

    def repeated(self, record: Record, row: int) -> str | None:
        first = self.natural.setdefault(hash(record.natural_key()), row)
        if first == row:
            return None
        return f"第 {row} 行与第 {first} 行是同一条记录 (编号、专利号或单位与标题相同), 已跳过第 {row} 行"

    def near_duplicate(self, record: Record, row: int) -> str | None:
        key = record.duplicate_key()
        if key is None:
            return None
        natural_key = hash(record.natural_key())
        previous = self.near.setdefault(hash(key), natural_key)
        if previous == natural_key:
            return None
        first = self.natural[previous]
        return f"第 {row} 行与第 {first} 行标题近似重复 (同一单位 {_owner(record)}): {_title(record)}"


def _owner(record: Record) -> str:
    return getattr(record, "owner", None) or getattr(record, "organization", None) or "未填写"


def _title(record: Record) -> str:
    return str(getattr(record, "title", ""))


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        # Our exports quote text a spreadsheet would run as a formula; the quote is not part of the value.
        value = unescape_formula(value.strip())
        return value or None
    if isinstance(value, datetime):  # Excel dates arrive as datetimes at midnight
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _rows_to_records(
    source: RowSource,
    *,
    kind: str,
    column_map: dict[str, str],
    zone_code: str,
    report: ImportReport,
    only_zone: str | None,
) -> Iterator[tuple[int, Record]]:
    record_type = RECORD_TYPES[kind]
    header_of = {f: h for h, f in column_map.items()}
    for row in source.rows:
        report.total_rows += 1
        if row.error is not None:
            _add_error(report, row.error)
            continue
        values = {column_map[h]: _cell(v) for h, v in row.values.items() if h in column_map}
        values = {k: v for k, v in values.items() if v is not None}
        values.setdefault("zone_code", zone_code)
        if only_zone is not None and values["zone_code"] != only_zone:
            header = header_of.get("zone_code", "zone_code")
            reason = f"只能导入到本园区 {only_zone}"
            _add_error(
                report,
                RowError(source.path.name, row.number, header, reason, printable(str(values["zone_code"]))),
            )
            continue
        try:
            yield row.number, record_type.model_validate(values)
        except ValidationError as exc:
            for problem in describe_errors(exc):
                header = header_of.get(problem.field, problem.field)
                _add_error(
                    report, RowError(source.path.name, row.number, header, problem.reason, problem.value)
                )


def _add_error(report: ImportReport, error: RowError) -> None:
    report.error_count += 1
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append(error)


@contextmanager
def _progress_bar(enabled: bool, source: RowSource) -> Iterator[Any]:
    if not enabled:
        yield lambda: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(f"导入 {source.path.name}"), BarColumn(), DownloadColumn(), TimeRemainingColumn()
    ) as bar:
        task = bar.add_task("import", total=source.total_bytes)
        yield lambda: bar.update(task, completed=source.bytes_read())
        bar.update(task, completed=source.total_bytes)


def import_file(
    url: str,
    kind: str,
    path: Path,
    *,
    zone_code: str,
    mapping: dict[str, str] | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: bool = False,
    batch_size: int = 2000,
    error_report: Path | None = None,
    scope: Scope | None = None,
    limits: ReadLimits | None = None,
) -> ImportReport:
    """Import ``path`` as records of ``kind`` into the database at ``url``.

    ``scope`` is who imports (default: the platform, as the CLI does). A zone's scope turns rows naming
    another zone into row errors, and the report names only records that scope may see. ``limits``
    bound what the file may cost (default: any number of rows); see ``ingest.limits``.

    Raises ``ImportFailed`` (nothing written) when a row is bad and ``skip_invalid`` is false. With
    ``dry_run`` every row is validated and counted, and the transaction is rolled back.
    """
    path = Path(path)
    source = open_rows(path, limits)
    try:
        report = _import_rows(
            url,
            kind,
            source,
            zone_code=zone_code,
            mapping=mapping,
            skip_invalid=skip_invalid,
            dry_run=dry_run,
            progress=progress,
            batch_size=batch_size,
            scope=scope or Scope.platform(),
        )
    finally:
        source.close()
    if error_report is not None and report.errors:
        write_error_report(report.errors, error_report)
    return report


def _import_rows(
    url: str,
    kind: str,
    source: RowSource,
    *,
    zone_code: str,
    mapping: dict[str, str] | None,
    skip_invalid: bool,
    dry_run: bool,
    progress: bool,
    batch_size: int,
    scope: Scope,
) -> ImportReport:
    path = source.path
    column_map, unmapped = map_columns(kind, source.headers, mapping, file_name=path.name)
    report = ImportReport(file=path.name, kind=kind, dry_run=dry_run, encoding=source.encoding)
    report.unmapped_columns = unmapped
    if unmapped:
        report.warn(f"以下列未识别, 已忽略: {'、'.join(unmapped)}")
    seen = _SeenRows()
    rows = _rows_to_records(
        source,
        kind=kind,
        column_map=column_map,
        zone_code=zone_code,
        report=report,
        only_zone=scope.zone_code,
    )
    with session_scope(url) as session, _progress_bar(progress, source) as tick:
        prepare_bulk_upsert(session)
        batch: list[tuple[int, Record]] = []
        for number, record in rows:
            if near := seen.near_duplicate(record, number):
                report.warn(near)
            if repeat := seen.repeated(record, number):
                report.warn(repeat)
                continue
            # After a bad row without skip_invalid nothing will be kept: validate on, write no more.
            if report.error_count and not skip_invalid:
                continue
            batch.append((number, record))
            if len(batch) >= batch_size:
                _write_batch(session, kind, batch, report, scope)
                batch.clear()
                tick()
        if skip_invalid or not report.error_count:
            _write_batch(session, kind, batch, report, scope)
        if report.error_count and not skip_invalid:
            raise ImportFailed(report.errors, report.total_rows)
        report.skipped = report.total_rows - report.inserted - report.updated - report.unchanged
        if report.warning_count > len(report.warnings):
            report.warnings.append(f"另有 {report.warning_count - len(report.warnings)} 条提示未列出")
        if dry_run:
            session.rollback()
        else:
            session.add(
                ImportLogRow(
                    kind=kind,
                    file_name=path.name,
                    zone_code=zone_code,
                    total_rows=report.total_rows,
                    inserted=report.inserted,
                    updated=report.updated,
                    unchanged=report.unchanged,
                    skipped=report.skipped,
                )
            )
    return report


def _clash_reason(natural_key: str, other_id: int | None) -> str:
    """Why a row whose key another zone holds is refused. A record the importer may not see is not
    described at all: the refusal says only that the number is taken, never whose, which or what."""
    label = _KEY_LABELS.get(natural_key.partition(":")[0], "编号")
    if other_id is None:
        return f"该{label}已被登记, 不能在本园区导入或覆盖"
    return f"该{label}已由其他园区登记 (编号 {other_id}), 不能在本园区导入或覆盖"


def _write_batch(
    session: Session, kind: str, batch: list[tuple[int, Record]], report: ImportReport, scope: Scope
) -> None:
    """Upsert one batch; a row naming a record another zone holds becomes a row error, not an overwrite."""
    counts = upsert_records(session, kind, [record for _, record in batch], scope=scope)
    report.add_counts(counts)
    if counts.other_zone:
        for number, record in batch:
            key = record.natural_key()
            if key in counts.other_zone:
                reason = _clash_reason(key, counts.other_zone[key])
                _add_error(report, RowError(report.file, number, "(整行)", reason))
    if counts.near_duplicates:
        existing = dict(counts.near_duplicates)
        for number, record in batch:
            if (other := existing.get(record.natural_key())) is not None:
                where = f"(同一单位 {_owner(record)}): {_title(record)}"
                report.warn(f"第 {number} 行与已有记录 (编号 {other}) 标题近似重复 {where}")


def write_error_report(errors: list[RowError], path: Path) -> None:
    """The rows left out, as a CSV a user can open in Excel (UTF-8 with BOM)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["文件", "行号", "字段", "原因", "值"])
        for e in errors:
            writer.writerow([e.file, e.row, e.field, e.reason, e.value])


__all__ = ["ImportReport", "import_file", "write_error_report"]
