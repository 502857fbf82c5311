"""Uploaded import files, kept under ``data_dir/uploads/<token>/`` from upload until the import is done.

Storage itself is ``services.transfer``'s (the API's preview uploads live there too): the token is random
(never a path a user chose), the file keeps its own name (row errors cite it), and a file left
unconfirmed expires after ``upload_ttl_hours`` (the worker's cleanup removes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.records import RECORD_TYPES
from ..errors import FileTooLarge, TechBridgeError
from ..ingest.columns import REQUIRED, ColumnPlan, export_header, plan_columns
from ..ingest.readers import open_rows
from . import transfer, zone_settings

UPLOAD_SUFFIXES = (".csv", ".xlsx", ".json", ".jsonl")
IMPORT_KINDS = ("demand", "achievement", "expert", "instrument", "pilot_platform", "organization")


class UploadExpired(TechBridgeError):
    status = 410

    def __init__(self) -> None:
        super().__init__("上传的文件已过期, 请重新上传")


@dataclass(frozen=True)
class Upload:
    token: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class UploadPlan:
    """A stored upload, its headers and how they map to the kind's fields (for the mapping form)."""

    upload: Upload
    kind: str
    headers: list[str]
    plan: ColumnPlan
    remembered: dict[str, str]

    @property
    def missing_labels(self) -> list[str]:
        return [export_header(self.kind, f) for f in self.plan.missing]


def save_upload(settings: Settings, *, filename: str, stream: BinaryIO) -> Upload:
    """Copy an uploaded stream into a fresh token folder, refusing files over ``upload_max_mb`` (nothing
    kept); sweeps expired uploads first."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise TechBridgeError(f"不支持的文件类型 {suffix or '(无扩展名)'}, 请上传 CSV、XLSX、JSON 或 JSONL")
    token, folder = transfer.new_preview_folder(settings)
    path = folder / transfer.safe_upload_name(filename, f"upload{suffix}")
    try:
        transfer.save_upload(stream, path, max_bytes=settings.upload_max_mb << 20)
    except FileTooLarge:
        transfer.discard_upload(path)
        raise
    return Upload(token, path)


def find_upload(settings: Settings, token: str) -> Upload:
    """The upload a form or job names by token; a forged, unknown or expired token is ``UploadExpired``."""
    path = transfer.preview_upload(settings, token or "")
    if path is None:
        raise UploadExpired
    return Upload(token, path)


def remove_upload(settings: Settings, token: str) -> None:
    path = transfer.preview_upload(settings, token or "")
    if path is not None:
        transfer.discard_upload(path)


def plan_upload(
    session: Session, upload: Upload, *, kind: str, zone_code: str, explicit: dict[str, str] | None = None
) -> UploadPlan:
    """Read the file's header row and map it: the user's choices first, then what the zone mapped last
    time, then the built-in aliases."""
    if kind not in IMPORT_KINDS:
        raise TechBridgeError("请选择数据类型")
    headers = [h for h in open_rows(upload.path).headers if h]
    remembered = {
        h: f for h, f in zone_settings.remembered_mapping(session, zone_code, kind).items() if h in headers
    }
    plan = plan_columns(kind, headers, {**remembered, **(explicit or {})})
    return UploadPlan(upload=upload, kind=kind, headers=headers, plan=plan, remembered=remembered)


def field_choices(kind: str) -> list[tuple[str, str, bool]]:
    """(field, its import header, required) for every field of a kind, for the mapping selects."""
    return [(f, export_header(kind, f), f in REQUIRED[kind]) for f in RECORD_TYPES[kind].model_fields]


def explicit_choices(plan: UploadPlan, chosen: dict[str, str]) -> dict[str, str]:
    """The headers whose field the user set differently from the built-in aliases (worth remembering)."""
    automatic = plan_columns(plan.kind, plan.headers).mapping
    return {h: f for h, f in chosen.items() if h in plan.headers and automatic.get(h, "") != f}
