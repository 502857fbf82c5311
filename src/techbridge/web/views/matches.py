"""A record's match page, running matching on it, and 发起对接 from a match (``add_match_routes``, which
``views.records`` calls for each matchable kind); and what a match says to the person reading it: reasons
relative to the viewer's own zone, and whether the 发起对接 button would be allowed for them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from ...domain.accounts import OWNER_FIELDS, User, can_write
from ...domain.deal_rules import can_start_deal
from ...errors import Busy, TechBridgeError
from ...match import MatchConfig
from ...match.reasons import TERM_CODES
from ...request_context import app_settings
from ...services import deals as deal_service
from ...services import jobs as job_service
from ...services import records as record_service
from ...services.records import MatchView
from ...store.db import session_scope
from ...store.facets import latest_match_time, zone_names
from ...store.records import StoredRecord, kind_of
from ...text import need_clauses
from .. import flash
from ..deps import CurrentViewer, DbUrl
from ..kinds import VIEWS, KindView
from ..strings_zh import FIELDS, KIND_NOUNS, MSG
from ..templating import render
from ..urls import urls
from . import redirect


def viewer_reason(
    reason: tuple[str, str, list[str]], match: MatchView, viewer: User, zones: dict[str, str]
) -> tuple[str, str, list[str]]:
    """The engine writes the zone reason from the demand's side (本园区 = the demand's zone); a reader
    from another zone needs it from theirs, with the zone's name rather than its code."""
    code, _text, terms = reason
    if code != "zone":
        return reason
    if viewer.zone_code is not None and match.target_zone == viewer.zone_code:
        return code, "本园区资源", terms
    name = zones.get(match.target_zone, match.target_zone)
    if viewer.zone_code is None:
        return code, f"{name}资源" + (" (跨园区共享)" if match.is_cross_zone else ""), terms
    return code, f"跨园区共享资源 (来自{name})", terms


def may_start_deal(viewer: User, source: StoredRecord, match: MatchView) -> bool:
    """Whether this viewer may start a deal between the record and this match (the button shows then)."""
    record = source.record
    if match.target_kind == "demand":  # an achievement offered to a demand
        return can_start_deal(
            viewer,
            demand_zone=match.target_zone,
            demand_org=match.target_owner,
            resource_owners=[getattr(record, OWNER_FIELDS[kind_of(record)], None)],
        )
    return can_start_deal(
        viewer,
        demand_zone=record.zone_code,
        demand_org=getattr(record, "organization", None),
        resource_owners=[match.target_owner],
    )


MATCHES_PER_KIND = 10


def _reason_parts(raw: object) -> tuple[str, str, list[str]]:
    """A stored reason as (code, text, matched terms); reasons are stored as dicts (older rows as lists)."""
    if isinstance(raw, list | tuple) and len(raw) >= 2:
        return str(raw[0]), str(raw[1]), [str(t) for t in (raw[2] if len(raw) > 2 else [])]
    if isinstance(raw, dict):
        return str(raw.get("code", "")), str(raw.get("text", raw)), [str(t) for t in raw.get("terms") or []]
    return "", str(raw), []


def _match_row(match: Any) -> tuple[Any, list[tuple[str, str, list[str]]], list[str]]:
    """A stored match with its reasons and the words it shares with the source (marked on the page)."""
    reasons = [_reason_parts(r) for r in match.reasons]
    return match, reasons, [t for code, _, terms in reasons if code in TERM_CODES for t in terms]


def missed_by_all(
    rows: list[tuple[Any, list[tuple[str, str, list[str]]], list[str]]], code: str = "missing_terms"
) -> list[str]:
    """The demand's title words that every listed match lacks (each match's ``missing_terms`` reason), or,
    with ``code="absent_terms"``, that no record the demand is matched with mentions at all.

    A list can be full of records on the demand's object that all miss its problem (永磁电机 records for
    a 永磁体退磁检测 demand); the page says so above them rather than let the 匹配度 speak alone. Each
    reason names at most a few of the rarest missing words, so this may name fewer words than are missing,
    never more. Matches stored before the reasons carried the words give none."""
    missing = []
    for _, reasons, _ in rows:
        words = next((terms for reason_code, _, terms in reasons if reason_code == code), None)
        if not words:
            return []
        missing.append(words)
    return [w for w in missing[0] if all(w in other for other in missing[1:])] if missing else []


def as_written(words: list[str], title: str) -> list[str]:
    """Each word as the title spells it (the engine reads words in lower case: oled → OLED)."""
    lowered = title.lower()
    return [title[at : at + len(w)] if (at := lowered.find(w)) >= 0 else w for w in words]


_SOURCE_TEXT = {"demand": "description", "achievement": "abstract", "expert": "bio"}
"""The field a source's matched words are marked in, beside its title."""


def add_match_routes(router: APIRouter, view: KindView) -> None:
    kind = view.kind

    @router.get("/{record_id}/matches")
    def matches_page(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
        with session_scope(db) as session:
            source = record_service.get_visible(session, kind, record_id, user=viewer)
            found = record_service.matches_for(
                session, kind, record_id, user=viewer, target_kind=None, limit=MATCHES_PER_KIND
            )
            zones = zone_names(session, {source.record.zone_code} | {m.target_zone for m in found})
            computed_at = latest_match_time(session, source_kind=kind, source_id=record_id)
            queued = job_service.queued_matching(session, kind=kind, record_id=record_id)

        def row(m: Any) -> tuple[Any, list[tuple[str, str, list[str]]], list[str]]:
            # The zone reason is told from the viewer's side (本园区 = the viewer's zone).
            match, reasons, terms = _match_row(m)
            return match, [viewer_reason(r, match, viewer, zones) for r in reasons], terms

        groups = [
            (target, [row(m) for m in found if m.target_kind == target]) for target in view.match_targets
        ]
        title = getattr(source.record, view.title_field)
        uncovered = {target: as_written(missed_by_all(rows), title) for target, rows in groups}
        # Said once above the list, not under each match.
        absent = {target: as_written(missed_by_all(rows, "absent_terms"), title) for target, rows in groups}
        groups = [
            (target, [(m, [r for r in reasons if r[0] != "absent_terms"], t) for m, reasons, t in rows])
            for target, rows in groups
        ]
        shared_terms = sorted({t for _, rows in groups for _, _, terms in rows for t in terms})
        source_text = getattr(source.record, _SOURCE_TEXT.get(kind, ""), "") or ""
        return render(
            request,
            "matches.html",
            {
                "kind": kind,
                "view": view,
                "nav_active": view.nav_key,
                "source": source,
                "title": title,
                "groups": groups,
                "uncovered": uncovered,
                "absent": absent,
                "zones": zones,
                "shared_terms": shared_terms,
                "source_text": source_text,
                # What the engine reads as the demand's request (MatchConfig.need_weight): shown so the
                # enterprise sees what its wording asks for, or that it asks for nothing in words.
                "needs": need_clauses(title, source_text) if kind == "demand" else None,
                "min_match": round(100 * MatchConfig().min_match),
                "views": VIEWS,
                "kind_nouns": KIND_NOUNS,
                "owner_labels": {t: FIELDS[OWNER_FIELDS[t]] for t in view.match_targets},
                "computed_at": computed_at,
                "matching_queued": queued,
                "can_run": can_write(viewer, kind, source.record),
                "can_start": {(m.target_kind, m.target_id): may_start_deal(viewer, source, m) for m in found},
            },
        )

    @router.post("/{record_id}/matches/run")
    def run_matching(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
        response = redirect(request, urls.matches(kind, record_id))
        try:
            with session_scope(db) as session:
                queued = record_service.run_matching(
                    session,
                    kind,
                    record_id,
                    user=viewer,
                    settings=app_settings(request),
                    wait=record_service.RUN_NOW_WAIT_S,  # then queued, as in the API
                )
        except Busy as exc:  # a busy database: say so, the stored results stay
            flash.add(request, response, exc.message, "error")
            return response
        if queued is not None:
            flash.add(request, response, MSG["matching_queued"], "info")
        else:
            flash.add(request, response, MSG["matching_done"])
        return response

    @router.post("/{record_id}/deals")
    async def start_deal(request: Request, viewer: CurrentViewer, db: DbUrl, record_id: int) -> Response:
        form = await request.form()
        target_kind, target_id = str(form.get("target_kind", "")), int(str(form.get("target_id", "0")) or 0)
        if target_kind not in view.match_targets:
            raise TechBridgeError("请选择要对接的资源")
        if kind == "demand":
            demand_id, resources = record_id, [(target_kind, target_id)]
        else:
            demand_id, resources = target_id, [(kind, record_id)]
        with session_scope(db) as session:
            deal = deal_service.start_deal_as(
                session,
                user=viewer,
                resources=resources,
                demand_id=demand_id,
                note=str(form.get("note", "")).strip()[:2000],
            )
        # The new deal's page is where the next step (contact, stage history) happens.
        response = redirect(request, urls.deal(deal.id))
        flash.add(request, response, f"{MSG['deal_started']} (项目编号 {deal.id})")
        return response
