"""Jinja2 environment, display filters and the one ``render`` every page goes through."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.responses import Response

from ..config import get_settings
from ..domain.calendar import tz_label
from ..domain.enums import label_zh
from . import flash, strings_zh
from .deps import display_tz
from .icons import icon
from .nav import nav_for
from .page_extras import page_extras
from .urls import urls

TEMPLATE_DIR = Path(__file__).parent / "templates"
EMPTY_MARK = "—"


def display(value: Any) -> str:
    """How any record value reads on a page: Chinese labels for codes, lists joined, blanks as a dash."""
    if value is None or value == "" or value == []:
        return EMPTY_MARK
    if isinstance(value, StrEnum):
        return label_zh(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "、".join(display(v) for v in value)
    return str(value)


@pass_context
def local_time(context: Context, value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the zone staff read it (the configured display zone, 北京时间 by default)."""
    if value is None:
        return EMPTY_MARK
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(context.get("display_tz") or get_settings().tz).strftime(fmt)


def form_value(value: Any) -> str:
    """How a record value is written back into a form input (codes, not labels)."""
    if value is None:
        return ""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list | tuple):
        return "; ".join(form_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def json_script(value: Any) -> Markup:
    """JSON safe to embed in <script type=application/json> (no closing tag can sneak in)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def mark_terms(text: Any, terms: Any) -> Markup:
    """``text`` escaped, with each matched term wrapped in <mark> (longest first, so "锂电池" wins over
    "电池"): the reader sees the shared words in both texts."""
    text = "" if text is None else str(text)
    wanted = sorted({str(t) for t in terms or () if t}, key=len, reverse=True)
    if not wanted:
        return Markup.escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in wanted), re.IGNORECASE)
    out, last = [], 0
    for found in pattern.finditer(text):
        out += [Markup.escape(text[last : found.start()]), Markup("<mark>%s</mark>") % found.group(0)]
        last = found.end()
    out.append(Markup.escape(text[last:]))
    return Markup("").join(out)


@pass_context
def display_in_zone(context: Context, value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """The ``display`` filter of templates: times shown in the configured zone (stored times are UTC)."""
    if isinstance(value, datetime):
        tz = context.get("display_tz")
        if tz is not None:
            # Every stored time is UTC; SQLite hands some back without their zone.
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz)
        return value.strftime(fmt)
    return display(value)


templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.filters.update(
    display=display_in_zone,
    form_value=form_value,
    json_script=json_script,
    mark_terms=mark_terms,
    local_time=local_time,
)
templates.env.globals.update(urls=urls, zh=strings_zh, nav_for=nav_for, svg_icon=icon)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    """Render a page with what every layout needs: viewer, flash messages, CSRF token, active nav."""
    tz = display_tz(request)
    ctx: dict[str, Any] = {
        "display_tz": tz,
        "tz_label": tz_label(tz),
        "site_notice": getattr(request.state, "site_notice", ""),
        "viewer": getattr(request.state, "viewer", None),
        "viewer_zone_name": getattr(request.state, "viewer_zone_name", ""),
        "flashes": flash.pop(request),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "nav_active": "",
    }
    ctx.update(page_extras(request))
    ctx.update(context or {})
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    flash.clear_if_read(request, response)
    return response
