"""File import with a preview of row errors before commit, and CSV/XLSX export of what the user sees."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from ...errors import FileTooLarge
from ...services import transfer
from ..deps import CurrentUser, DbUrlDep
from ..schemas import KINDS_BY_PATH, ImportReportPublic, KindPath, RowErrorPublic

router = APIRouter(tags=["transfer"])

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
_MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _save_upload(upload: UploadFile, folder: FilePath) -> FilePath:
    # Keep the original name: its suffix picks the reader and row errors name the file.
    name = re.sub(r"[^\w.-]", "_", FilePath(upload.filename or "").name).lstrip(".") or "upload.csv"
    path = folder / name
    size = 0
    with path.open("wb") as out:
        while chunk := upload.file.read(1024 * 1024):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise FileTooLarge(f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB (file too large)")
            out.write(chunk)
    return path


@router.post(
    "/imports/{kind}", response_model=ImportReportPublic, summary="Import a file (preview or commit)"
)
def import_upload(
    user: CurrentUser,
    url: DbUrlDep,
    kind: Annotated[KindPath, Path(description="Record kind")],
    file: UploadFile,
    dry_run: Annotated[bool, Query(description="true: validate and list row errors, write nothing")] = True,
    skip_invalid: Annotated[bool, Query(description="Commit the good rows, report the bad ones")] = False,
    zone_code: Annotated[str | None, Query(max_length=32, description="Platform admins: target zone")] = None,
) -> Any:
    with tempfile.TemporaryDirectory(prefix="techbridge-import-") as folder:
        path = _save_upload(file, FilePath(folder))
        report = transfer.import_upload(
            url,
            KINDS_BY_PATH[kind],
            path,
            user=user,
            zone_code=zone_code,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
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
