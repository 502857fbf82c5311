"""园区设置 and 产业链目录: what a zone administrator used to change with the CLI, now in the browser.

The platform administrator works on the zone chosen with the zone picker (``?zone=``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import Response

from ...domain.accounts import User
from ...errors import TechBridgeError
from ...services import catalogue, zone_settings, zone_thesaurus
from ...store.db import session_scope
from ...store.facets import zone_names
from ..deps import AdminViewer, DbUrl
from ..strings_zh import FIELDS, KIND_NOUNS
from ..templating import render
from ..urls import urls
from . import page_router, redirect, send_and_remove, temp_folder

router = page_router()


def _zone(viewer: User, zone: str) -> str:
    """The zone the page works on: the admin's own, or the one the platform admin picked."""
    return viewer.zone_code or zone.strip()


def _zone_label(db: str, zone: str) -> str:
    if not zone:
        return ""
    with session_scope(db) as session:
        return zone_names(session, [zone])[zone]


@router.get("/settings/zone")
def zone_page(request: Request, viewer: AdminViewer, db: DbUrl, zone: str = "") -> Response:
    code = _zone(viewer, zone)
    context: dict[str, Any] = {
        "nav_active": "zone_settings",
        "zone": code,
        "zone_label": _zone_label(db, code),
    }
    if code:
        with session_scope(db) as session:
            context["options"] = zone_settings.get(session, code)
            context["mappings"] = zone_settings.remembered_mappings(session, code)
            context["thesaurus"] = zone_thesaurus.rows(session, user=viewer, zone_code=code)
            context["thesaurus_split"] = zone_thesaurus.split_words(context["thesaurus"])
    context["thesaurus_max_rows"] = zone_thesaurus.MAX_ROWS
    context.update(kind_nouns=KIND_NOUNS, field_labels=FIELDS)
    return render(request, "settings/zone.html", context)


@router.post("/settings/zone")
async def zone_save(request: Request, viewer: AdminViewer, db: DbUrl, zone: str = "") -> Response:
    form = await request.form()
    code = _zone(viewer, zone)
    values = {
        "match_threshold": _share(str(form.get("match_threshold", ""))),
        "auto_match": form.get("auto_match") == "true",
        "match_delay_seconds": str(form.get("match_delay_seconds", "")).strip(),
    }
    try:
        with session_scope(db) as session:
            zone_settings.update(session, user=viewer, zone_code=code, values=values)
    except TechBridgeError as exc:
        return redirect(request, urls.zone_settings(zone), exc.message, "error")
    return redirect(request, urls.zone_settings(zone), "园区设置已保存")


def _share(percent: str) -> object:
    """The page asks for 匹配度 (0–100) as the matches page shows it; the setting is its share (0–1)."""
    try:
        return float(percent.strip()) / 100
    except ValueError:
        return percent  # left for the settings' validation to refuse in Chinese


@router.post("/settings/zone/mappings/{kind}/forget")
def mapping_forget(request: Request, viewer: AdminViewer, db: DbUrl, kind: str, zone: str = "") -> Response:
    with session_scope(db) as session:
        zone_settings.forget_mapping(session, user=viewer, zone_code=_zone(viewer, zone), kind=kind)
    return redirect(request, urls.zone_settings(zone), f"已清除{KIND_NOUNS.get(kind, kind)}导入的列对应")


@router.post("/settings/zone/thesaurus")
async def thesaurus_upload(request: Request, viewer: AdminViewer, db: DbUrl, zone: str = "") -> Response:
    """本园区相关词: the uploaded CSV replaces the zone's rows, or nothing changes and the row is named."""
    upload = (await request.form()).get("file")
    back = urls.zone_settings(zone) + "#zone-thesaurus"
    if not isinstance(upload, UploadFile) or not upload.filename:
        return redirect(request, back, "请选择要上传的 CSV 文件", "error")
    data = await upload.read(zone_thesaurus.MAX_UPLOAD_BYTES + 1)
    try:
        with session_scope(db) as session:
            count = zone_thesaurus.replace(session, user=viewer, zone_code=_zone(viewer, zone), data=data)
    except TechBridgeError as exc:
        return redirect(request, back, f"未作任何修改: {exc.message}", "error")
    return redirect(request, back, f"本园区相关词已更新, 共 {count} 行; 下次批量匹配时本园区的需求会重新匹配")


@router.get("/settings/zone/thesaurus.csv")
def thesaurus_download(request: Request, viewer: AdminViewer, db: DbUrl, zone: str = "") -> Response:
    """The zone's rows as a CSV that uploads back unchanged."""
    code = _zone(viewer, zone)
    with session_scope(db) as session:
        found = zone_thesaurus.rows(session, user=viewer, zone_code=code)
    return _csv(f"{code or '未选择园区'}-本园区相关词.csv", zone_thesaurus.as_csv(found))


@router.get("/settings/zone/thesaurus/template.csv")
def thesaurus_template(request: Request, viewer: AdminViewer) -> Response:
    """The packaged thesaurus: the columns to follow, and the words every zone has already."""
    return _csv("内置相关词表.csv", zone_thesaurus.packaged_csv())


def _csv(name: str, text: str) -> Response:
    path = temp_folder() / name
    path.write_text(text, encoding="utf-8-sig")  # with a BOM: Excel then reads the Chinese correctly
    return send_and_remove(path, fmt="csv")


def _chains_page(
    request: Request,
    viewer: User,
    db: str,
    zone: str,
    *,
    errors: dict[str, str] | None = None,
    values: Any = None,
) -> Response:
    code = _zone(viewer, zone)
    with session_scope(db) as session:
        chains = catalogue.chains(session, zone_code=code or None)
    return render(
        request,
        "settings/chains.html",
        {
            "nav_active": "chains",
            "zone": code,
            "zone_label": _zone_label(db, code),
            "chains": chains,
            "errors": errors or {},
            "values": values or {},
        },
        status_code=422 if errors else 200,
    )


@router.get("/settings/chains")
def chains_page(request: Request, viewer: AdminViewer, db: DbUrl, zone: str = "") -> Response:
    return _chains_page(request, viewer, db, zone)


@router.post("/settings/chains")
async def chain_save(request: Request, viewer: AdminViewer, db: DbUrl, zone: str = "") -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("code", "name", "keywords")}
    try:
        with session_scope(db) as session:
            chain = catalogue.save_chain(session, user=viewer, zone_code=_zone(viewer, zone), **values)
    except ValidationError as exc:
        errors = {str(e["loc"][0]): _chain_error(str(e["loc"][0])) for e in exc.errors() if e["loc"]}
        return _chains_page(request, viewer, db, zone, errors=errors, values=values)
    return redirect(request, urls.chains(zone), f"已保存产业链 {chain.name}")


def _chain_error(field: str) -> str:
    return {
        "code": "代码为小写字母、数字、- 或 _, 不超过 32 个字符",
        "name": "名称 2 到 50 个字",
    }.get(field, "取值无效")


@router.post("/settings/chains/{code}/remove")
def chain_remove(request: Request, viewer: AdminViewer, db: DbUrl, code: str, zone: str = "") -> Response:
    with session_scope(db) as session:
        catalogue.remove_chain(session, user=viewer, zone_code=_zone(viewer, zone), code=code)
    return redirect(request, urls.chains(zone), f"已删除本园区的产业链 {code}")
