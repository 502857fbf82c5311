"""Import and export as a signed-in user: admins import into their own zone, exports hold only what
the user may see (another zone's private records never; other zones' expert contacts blanked).

The web pages and the API both import through ``import_upload``, so the zone rule, the size and row caps
and what a report may name hold behind either door. Uploads kept for a preview's confirm step live in
``<data_dir>/uploads/<token>/`` and expire after ``upload_ttl_hours``.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from functools import partial
from pathlib import Path
from typing import BinaryIO

from ..config import Settings
from ..domain.accounts import User, redact
from ..errors import FileTooLarge, PermissionDenied, TechBridgeError
from ..ingest.export import export_records
from ..ingest.importer import ImportReport, import_file
from ..ingest.limits import ReadLimits, TooManyRows

UPLOADS_FOLDER = "uploads"
_TOKEN = re.compile(r"[0-9a-f]{32}")


def upload_limits(settings: Settings) -> ReadLimits:
    """What one web or API import may read: a bounded number of rows (the CLI has no row cap)."""
    return ReadLimits(
        max_rows=settings.upload_max_rows,
        max_columns=settings.import_max_columns,
        max_part_bytes=settings.import_max_part_mb << 20,
    )


def cli_limits(settings: Settings) -> ReadLimits:
    return ReadLimits(
        max_columns=settings.import_max_columns, max_part_bytes=settings.import_max_part_mb << 20
    )


def cli_hint(kind: str, file_name: str, zone_code: str) -> str:
    return f"请在服务器上用命令行导入: techbridge import {kind} {file_name} --zone {zone_code}"


def import_upload(
    url: str,
    kind: str,
    path: Path,
    *,
    user: User,
    zone_code: str | None,
    dry_run: bool,
    skip_invalid: bool,
    limits: ReadLimits,
) -> ImportReport:
    """Import an uploaded file. A dry run never fails on bad rows: it lists them as a preview."""
    if not user.is_admin:
        raise PermissionDenied("只有管理员可以批量导入 (admin only)")
    if user.zone_code and zone_code and zone_code != user.zone_code:
        raise PermissionDenied(f"只能导入到本园区 {user.zone_code}")
    target_zone = user.zone_code or zone_code
    if not target_zone:
        raise TechBridgeError("平台管理员导入时请用 zone_code 指定园区 (zone_code required)")
    try:
        return import_file(
            url,
            kind,
            path,
            zone_code=target_zone,
            skip_invalid=skip_invalid or dry_run,
            dry_run=dry_run,
            scope=user.scope,
            limits=limits,
        )
    except TooManyRows as exc:
        raise FileTooLarge(
            f"{exc.file_name} 超过 {exc.limit:,} 行, 这是网页和 API 一次导入的上限 "
            f"(TECHBRIDGE_UPLOAD_MAX_ROWS); {cli_hint(kind, exc.file_name, target_zone)}"
        ) from None


def export_visible(url: str, kind: str, path: Path, *, user: User, fmt: str) -> int:
    return export_records(url, kind, path, scope=user.scope, fmt=fmt, redact=partial(redact, user))


# -- uploaded files ------------------------------------------------------------------------------------


def safe_upload_name(filename: str | None, default: str = "upload.csv") -> str:
    """The uploaded file's own name (row errors cite it, its suffix picks the reader), as a plain name."""
    name = re.sub(r"[^\w.-]", "_", Path(filename or "").name).lstrip(".")
    return name or default


def save_upload(stream: BinaryIO, path: Path, *, max_bytes: int) -> Path:
    """Copy an upload to ``path`` chunk by chunk, refusing it past ``max_bytes`` (never read whole)."""
    size = 0
    try:
        with path.open("wb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(too_large_message(max_bytes))
                out.write(chunk)
    except FileTooLarge:
        path.unlink(missing_ok=True)
        raise
    return path


def too_large_message(max_bytes: int) -> str:
    return (
        f"上传的文件超过 {max_bytes >> 20} MB 的上限 (TECHBRIDGE_UPLOAD_MAX_MB); "
        "更大的文件请在服务器上用命令行导入: techbridge import <类型> <文件> --zone <园区代码>"
    )


def uploads_dir(settings: Settings) -> Path:
    return settings.data_dir / UPLOADS_FOLDER


def new_preview_folder(settings: Settings) -> tuple[str, Path]:
    """A fresh folder for one preview's upload, named by a random token; sweeps expired ones first."""
    remove_stale_uploads(settings)
    token = secrets.token_hex(16)
    folder = uploads_dir(settings) / token
    folder.mkdir(parents=True)
    return token, folder


def preview_upload(settings: Settings, token: str) -> Path | None:
    """The stored upload a confirm form names, or None when the token is unknown or has expired.

    The token is a random hex folder name we made, never a path from the request.
    """
    if not _TOKEN.fullmatch(token):
        return None
    folder = uploads_dir(settings) / token
    if not folder.is_dir() or _is_stale(folder, settings, time.time()):
        return None
    files = sorted(folder.iterdir())
    return files[0] if files else None


def discard_upload(path: Path) -> None:
    shutil.rmtree(path.parent, ignore_errors=True)


def remove_stale_uploads(settings: Settings) -> int:
    """Remove preview uploads older than ``upload_ttl_hours``; returns how many were removed.

    Called on every new preview upload; a scheduled job (cron, a systemd timer) may call it too.
    """
    folder = uploads_dir(settings)
    if not folder.is_dir():
        return 0
    now, removed = time.time(), 0
    for child in folder.iterdir():
        if _TOKEN.fullmatch(child.name) and child.is_dir() and _is_stale(child, settings, now):
            shutil.rmtree(child, ignore_errors=True)
            removed += 1
    return removed


def _is_stale(folder: Path, settings: Settings, now: float) -> bool:
    return now - folder.stat().st_mtime > settings.upload_ttl_hours * 3600
