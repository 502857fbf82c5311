"""File import with a preview of row errors before commit, and CSV/XLSX export of what the user sees."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from ...services import transfer
from ..deps import CurrentUser, DbUrlDep, SettingsDep
from ..schemas import KINDS_BY_PATH, ImportReportPublic, KindPath, RowErrorPublic

router = APIRouter(tags=["transfer"])

_MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.post(
    "/imports/{kind}", response_model=ImportReportPublic, summary="Import a file (preview or commit)"
)
def import_upload(
    user: CurrentUser,
    url: DbUrlDep,
    settings: SettingsDep,
    kind: Annotated[KindPath, Path(description="Record kind")],
    file: UploadFile,
    dry_run: Annotated[bool, Query(description="true: validate and list row errors, write nothing")] = True,
    skip_invalid: Annotated[bool, Query(description="Commit the good rows, report the bad ones")] = False,
    zone_code: Annotated[str | None, Query(max_length=32, description="Platform admins: target zone")] = None,
) -> Any:
    with tempfile.TemporaryDirectory(prefix="techbridge-import-") as folder:
        path = FilePath(folder) / transfer.safe_upload_name(file.filename)
        transfer.save_upload(file.file, path, max_bytes=settings.upload_max_mb << 20)
        report = transfer.import_upload(
            url,
            KINDS_BY_PATH[kind],
            path,
            user=user,
            zone_code=zone_code,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            limits=transfer.upload_limits(settings),
        )
    return ImportReportPublic(
        **{name: getattr(report, name) for name in ImportReportPublic.model_fields if name != "errors"},
        errors=[RowErrorPublic(**vars(e)) for e in report.errors],
    )


@router.get(
    "/exports/{kind}",
    response_class=FileResponse,
    responses={200: {"content": {media: {} for media in _MEDIA_TYPES.values()}}},
    summary="Export what I may see as CSV or XLSX",
)
def export_records(
    user: CurrentUser,
    url: DbUrlDep,
    kind: Annotated[KindPath, Path(description="Record kind")],
    format: Literal["csv", "xlsx"] = "csv",  # noqa: A002 - the public query parameter name
) -> Any:
    folder = tempfile.mkdtemp(prefix="techbridge-export-")
    path = FilePath(folder) / f"{kind}.{format}"
    transfer.export_visible(url, KINDS_BY_PATH[kind], path, user=user, fmt=format)
    return FileResponse(
        path,
        media_type=_MEDIA_TYPES[format],
        filename=path.name,
        background=BackgroundTask(_remove, FilePath(folder)),
    )


def _remove(folder: FilePath) -> None:
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
