"""Import and export as a signed-in user: admins import into their own zone, exports hold only what
the user may see (another zone's private records never; other zones' expert contacts blanked)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from ..domain.accounts import User, redact
from ..errors import PermissionDenied, TechBridgeError
from ..ingest.export import export_records
from ..ingest.importer import ImportReport, import_file
from ..store.db import session_scope
from ..store.records import RecordQuery
from . import jobs

Progress = Callable[[int, int], None]


def import_upload(
    url: str,
    kind: str,
    path: Path,
    *,
    user: User,
    zone_code: str | None,
    dry_run: bool,
    skip_invalid: bool,
    mapping: dict[str, str] | None = None,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import an uploaded file. A dry run never fails on bad rows: it lists them as a preview.

    ``mapping`` (``{header: field}``) overrides the built-in column aliases; ``on_progress`` follows the
    file (bytes read, size). Records written queue the zone's (debounced) matching job.
    """
    if not user.is_admin:
        raise PermissionDenied("只有管理员可以批量导入 (admin only)")
    if user.zone_code and zone_code and zone_code != user.zone_code:
        raise PermissionDenied(f"只能导入到本园区 {user.zone_code}")
    target_zone = user.zone_code or zone_code
    if not target_zone:
        raise TechBridgeError("平台管理员导入时请用 zone_code 指定园区 (zone_code required)")
    report = import_file(
        url,
        kind,
        path,
        zone_code=target_zone,
        skip_invalid=skip_invalid or dry_run,
        dry_run=dry_run,
        only_zone=user.scope.zone_code,
        mapping=mapping,
        on_progress=on_progress,
    )
    if not dry_run and (report.inserted or report.updated):
        with session_scope(url) as session:
            jobs.schedule_batch_matching(session, zone_code=target_zone, reason="导入后")
    return report


def export_visible(
    url: str,
    kind: str,
    path: Path,
    *,
    user: User,
    fmt: str,
    query: RecordQuery | None = None,
    on_progress: Progress | None = None,
) -> int:
    """Export what the user may see (with ``query``: what their filtered list shows)."""
    return export_records(
        url,
        kind,
        path,
        scope=user.scope,
        fmt=fmt,
        redact=partial(redact, user),
        query=query,
        on_progress=on_progress,
    )
