"""The enumeration test (issue 9): every route, every id, as every demo role; nothing private leaks.

The demo data set is loaded (records, accounts, real matching of the demands, the sample deals), then
records, deals, bookings, users and tokens carrying unique markers are added in each of the three demo
zones. The test then walks every GET route the app has (the OpenAPI schema and the web pages, found in the
app's route table, not in a list kept here), filling each path parameter with every id that exists, and
calls the POST routes that only compute (run matching). For each role it asserts that no marker the role
may not read appears anywhere in any body (JSON, HTML, CSV, decoded XLSX, redirect targets), that nothing
answers 5xx, and — so that the walk cannot pass by seeing nothing — that every marker the role may read
shows up somewhere.

Who may read which marker is written out below (``may_read``) from the product rules, not taken from the
code under test. A new GET route is walked without changing this file; a new route of another method, or
a path parameter this file does not know, fails the test until it is classified here.

Two walks: ``sampled`` (every route, every small table's ids, a sample of the 1,300 achievements) runs in
the fast suite; ``every-id`` walks every achievement too and is marked slow (CI runs it).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import product
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from techbridge.api.schemas import KINDS_BY_PATH
from techbridge.app import create_app
from techbridge.config import Settings, get_settings
from techbridge.domain.access import Scope
from techbridge.domain.accounts import Role, officer
from techbridge.domain.deals import Attachment, DealStage
from techbridge.domain.records import (
    Achievement,
    Demand,
    Expert,
    Instrument,
    Organization,
    PilotPlatform,
    Record,
)
from techbridge.ingest.importer import import_file
from techbridge.services import accounts, deal_work, deals, demo, jobs, matching, notifications
from techbridge.services.zone_registry import load_registry
from techbridge.store.accounts import find_user_row
from techbridge.store.bookings import create_booking
from techbridge.store.db import get_engine, init_db, session_scope
from techbridge.store.deals import list_deals as stored_deals
from techbridge.store.matches import NewMatch, replace_matches
from techbridge.store.records import create_record, iter_records
from techbridge.store.zone_thesaurus import TermRow, replace_zone_rows

ZONES = ("wuxi", "chengdu", "xian")
API = "/api/v1"
BEIJING = ZoneInfo("Asia/Shanghai")


# -- who may read what ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    username: str | None  # None: anonymous
    zone: str | None = None  # None with a username: the platform admin
    organization: str | None = None
    is_admin: bool = False


READERS = {
    "anonymous": Reader(None),
    "admin": Reader("admin", is_admin=True),
    "wuxi_admin": Reader("wuxi_admin", "wuxi", is_admin=True),
    "chengdu_admin": Reader("chengdu_admin", "chengdu", is_admin=True),
    "wuxi_enterprise": Reader("wuxi_enterprise", "wuxi", "示例企业01(wuxi)"),
    "chengdu_enterprise": Reader("chengdu_enterprise", "chengdu", "示例企业12(chengdu)"),
    "wuxi_university": Reader("wuxi_university", "wuxi", "示例大学甲(无锡)"),
}
assert {r.username for r in READERS.values() if r.username} == {a[0] for a in demo.DEMO_ACCOUNTS}


@dataclass(frozen=True)
class Secret:
    """A marker and the rule of who may read it.

    rule: ``shared`` any signed-in user; ``zone`` users of ``zone`` (a private record, an expert's
    contact, who booked an instrument); ``deal`` the deal's own zone's officers and the organisations of
    that zone party to it (notes, attachments, money, who did what); ``token`` only ``owner`` (an API
    token, a notification); ``job`` a background job: its ``owner``, the officers of its zone, the platform.
    """

    marker: str
    rule: str
    zone: str | None = None
    parties: frozenset[str] = frozenset()
    owner: str | None = None
    admins_only_see: bool = False  # readable by the zone's organisations, but no page shows it to them


def may_read(reader: Reader, secret: Secret) -> bool:
    if reader.username is None:
        return False
    if secret.rule == "token":
        return secret.owner == reader.username
    if secret.rule == "job":
        return secret.owner == reader.username or (reader.is_admin and reader.zone in (None, secret.zone))
    if reader.zone is None or secret.rule == "shared":
        return True
    if secret.rule == "zone":
        return reader.zone == secret.zone
    assert secret.rule == "deal", secret
    return reader.zone == secret.zone and (reader.is_admin or reader.organization in secret.parties)


def must_see(reader: Reader, secret: Secret) -> bool:
    return may_read(reader, secret) and not (secret.admins_only_see and not reader.is_admin)


# -- the world: the demo plus marked records ------------------------------------------------------------


@dataclass
class World:
    url: str
    secrets: dict[str, Secret] = field(default_factory=dict)
    key_ids: dict[str, set[int]] = field(default_factory=dict)  # ids the sampled walk always takes
    run_matching: list[tuple[str, int]] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    weeks: list[str] = field(default_factory=list)
    deal_ids: list[int] = field(default_factory=list)
    marked_deal_ids: list[int] = field(default_factory=list)
    file_ids: list[int] = field(default_factory=list)  # the files of the marked deals' notes
    job_ids: list[int] = field(default_factory=list)  # the marked background jobs

    def secret(self, marker: str, rule: str, **kw: Any) -> str:
        self.secrets[marker] = Secret(marker, rule, **kw)
        return marker

    def add(self, record: Record, kind: str) -> int:
        with session_scope(self.url) as s:
            record_id = create_record(s, record, scope=Scope.platform()).id
        self.key_ids.setdefault(kind, set()).add(record_id)
        return record_id


def _first(url: str, kind: str, zone: str, *, shared: bool, owner: str | None = None) -> int:
    """The first demo record of a kind in a zone, shared or not, owned by ``owner`` when given."""
    with session_scope(url) as s:
        for stored in iter_records(s, kind, scope=Scope.platform()):
            record = stored.record
            if record.zone_code == zone and (record.visibility == "shared") == shared:
                if owner is None or owner in (
                    getattr(record, "owner", None),
                    getattr(record, "organization", None),
                ):
                    return stored.id
    raise AssertionError(f"the demo has no {kind} of {zone} (shared={shared}, owner={owner})")


def _zone_records(w: World, z: str) -> dict[str, int]:
    """A private and a shared record of each kind in zone ``z``, each carrying markers."""
    org = f"示例企业9{ZONES.index(z)}({z})"
    m = w.secret
    ids = {
        "demand": w.add(
            Demand(
                zone_code=z,
                title=m(f"SECRET-{z}-demand", "zone", zone=z),
                organization=org,
                description=m(f"SECRET-{z}-demand-text", "zone", zone=z) + " 锂电池隔膜涂覆工艺, 提升安全性",
                keywords="锂电池;隔膜;涂覆",
                industry_chain="新能源",
            ),
            "demand",
        ),
        "shared_demand": w.add(
            Demand(
                zone_code=z,
                title=m(f"SHARED-{z}-demand", "shared"),
                organization=org,
                visibility="shared",
                keywords="储能;热管理",
            ),
            "demand",
        ),
        "patent": w.add(
            Achievement(
                zone_code=z,
                title=m(f"SECRET-{z}-patent", "zone", zone=z) + " 一种锂电池陶瓷涂覆隔膜",
                owner=m(f"SECRET-{z}-lab", "zone", zone=z),
                abstract=m(f"SECRET-{z}-abstract", "zone", zone=z) + " 隔膜涂覆",
                ipc_codes="H01M 50/449",
            ),
            "achievement",
        ),
        "expert": w.add(
            Expert(
                zone_code=z,
                name=m(f"SECRET-{z}-expert", "zone", zone=z),
                organization="示例大学",
                contact=m(f"SECRET-{z}-expert-phone", "zone", zone=z),
            ),
            "expert",
        ),
        "shared_expert": w.add(
            Expert(
                zone_code=z,
                name=m(f"SHARED-{z}-expert", "shared"),
                organization="示例大学",
                visibility="shared",
                contact=m(f"SECRET-{z}-contact", "zone", zone=z),
            ),
            "expert",
        ),
        "instrument": w.add(
            Instrument(zone_code=z, name=m(f"SECRET-{z}-instrument", "zone", zone=z), owner="示例测试中心"),
            "instrument",
        ),
        "shared_instrument": w.add(
            Instrument(
                zone_code=z,
                name=m(f"SHARED-{z}-instrument", "shared"),
                owner="示例测试中心",
                visibility="shared",
            ),
            "instrument",
        ),
        "platform": w.add(
            PilotPlatform(
                zone_code=z,
                name=m(f"SECRET-{z}-platform", "zone", zone=z),
                capabilities=m(f"SECRET-{z}-capabilities", "zone", zone=z),
            ),
            "pilot_platform",
        ),
        "organization": w.add(
            Organization(zone_code=z, name=m(f"SECRET-{z}-org", "zone", zone=z)), "organization"
        ),
    }
    # Run matching on these (not on the records whose stale stored matches the walk reads).
    w.run_matching += [("demand", ids["demand"]), ("achievement", ids["patent"])]
    return ids


def _deal(
    w: World,
    *,
    zone: str,
    demand_id: int,
    resources: list[tuple[str, int]],
    parties: frozenset[str] = frozenset(),
    tag: str = "SECRET",
    to_stage: DealStage = DealStage.PILOT_TEST,
    drop: bool = False,
) -> int:
    """A deal of ``zone`` whose history (actor, notes, attachment, money) carries markers.

    Each deal's contract value is its own marker (1642.75, 2642.75 …): the owner zone's money.
    """
    n = len(w.marked_deal_ids) + 1
    scope, m = Scope(zone), w.secret
    contract = 1000 * n + 642.75 if to_stage == DealStage.PILOT_TEST else None
    if contract is not None:
        m(f"{contract:g}", "deal", zone=zone, parties=parties)
    actor = m(f"{tag}-{zone}-actor{n}", "deal", zone=zone, parties=parties)
    with session_scope(w.url) as session:
        deal = deals.start_deal(
            session,
            demand_id=demand_id,
            resources=resources,
            actor=actor,
            scope=scope,
            note=m(f"{tag}-{zone}-dealnote{n}", "deal", zone=zone, parties=parties),
        )
        deals.advance(
            session,
            deal.id,
            to_stage=to_stage,
            actor=actor,
            scope=scope,
            note=m(f"{tag}-{zone}-stagenote{n}", "deal", zone=zone, parties=parties),
            contract_value=contract,
            attachments=[
                Attachment(
                    name=m(f"{tag}-{zone}-attachment{n}", "deal", zone=zone, parties=parties) + ".pdf", size=9
                )
            ],
        )
        # A party's follow-up note with a file (daily-deals): body, file name and file content are the deal's.
        note = deal_work.post_note(
            session,
            deal.id,
            user=officer(zone),
            body=m(f"{tag}-{zone}-partynote{n}", "deal", zone=zone, parties=parties),
            uploads=[
                deal_work.Upload(
                    m(f"{tag}-{zone}-file{n}", "deal", zone=zone, parties=parties) + ".txt",
                    io.BytesIO(m(f"{tag}-{zone}-filebody{n}", "deal", zone=zone, parties=parties).encode()),
                )
            ],
            files=deal_work.FileStore(get_settings().data_dir, 1 << 20),
        )
        w.file_ids.extend(f.id for f in note.files)
        if drop:
            reason = m(f"{tag}-{zone}-dropreason{n}", "deal", zone=zone, parties=parties)
            deals.drop(session, deal.id, reason=reason, actor=actor, scope=scope)
    w.marked_deal_ids.append(deal.id)
    return deal.id


def build_world(url: str) -> World:
    w = World(url)
    init_db(url)
    load_registry(url)
    for kind, name in demo.DEMO_FILES:
        import_file(url, kind, demo.demo_dir() / name, zone_code="wuxi")
    demo.ensure_demo_accounts(url)
    zones = {z: _zone_records(w, z) for z in ZONES}
    with session_scope(url) as s:  # the demo's batch matching, for the demands (the slow part is skipped)
        for stored in iter_records(s, "demand", scope=Scope.platform()):
            matching.match_record(s, "demand", stored.id, scope=Scope.platform(), settings=get_settings())
    demo.create_sample_deals(url)
    shared = {z: _first(url, "achievement", z, shared=True) for z in ZONES}
    # Item 4: Wuxi's private demand with Wuxi's private patent and Chengdu's and Xi'an's shared ones.
    _deal(
        w,
        zone="wuxi",
        demand_id=zones["wuxi"]["demand"],
        resources=[
            ("achievement", zones["wuxi"]["patent"]),
            ("achievement", shared["chengdu"]),
            ("achievement", shared["xian"]),
        ],
    )
    _deal(
        w,
        zone="wuxi",
        demand_id=zones["wuxi"]["shared_demand"],
        resources=[("achievement", shared["chengdu"])],
        drop=True,
    )
    _deal(
        w,
        zone="chengdu",
        demand_id=zones["chengdu"]["demand"],
        resources=[("achievement", zones["chengdu"]["patent"]), ("achievement", shared["wuxi"])],
    )
    _deal(
        w,
        zone="xian",
        demand_id=zones["xian"]["demand"],
        resources=[("achievement", shared["chengdu"]), ("expert", zones["xian"]["expert"])],
    )
    # Deals an organisation account is party to: its notes are its own to read, not its neighbours'.
    for username in ("wuxi_enterprise", "chengdu_enterprise"):
        reader = READERS[username]
        zone = reader.zone or ""
        _deal(
            w,
            zone=zone,
            demand_id=_first(url, "demand", zone, shared=True, owner=reader.organization),
            resources=[("achievement", shared["xian"])],
            parties=frozenset({reader.organization or ""}),
            tag="PARTY",
            to_stage=DealStage.CONTACTED,
        )
    uni = READERS["wuxi_university"]
    uni_patent = _first(url, "achievement", "wuxi", shared=True, owner=uni.organization)
    _deal(  # a Chengdu deal on a Wuxi university's shared patent: party to it, outside its zone
        w,
        zone="chengdu",
        demand_id=zones["chengdu"]["shared_demand"],
        resources=[("achievement", uni_patent)],
        parties=frozenset({uni.organization or ""}),
        to_stage=DealStage.CONTACTED,
    )
    w.key_ids.setdefault("achievement", set()).update({*shared.values(), uni_patent})
    # Stored matches as an older run may have left them: a target made private since, a source of
    # another zone. Reads must filter them as they stand now.
    with session_scope(url) as s:
        replace_matches(
            s,
            source_kind="demand",
            source_id=zones["wuxi"]["shared_demand"],
            source_zone="wuxi",
            target_kind="achievement",
            matches=[NewMatch(zones[z]["patent"], 0.9, [["terms", "隔膜"]], z) for z in ZONES],
        )
        replace_matches(
            s,
            source_kind="achievement",
            source_id=shared["chengdu"],
            source_zone="chengdu",
            target_kind="demand",
            matches=[NewMatch(zones[z]["demand"], 0.8, [["terms", "隔膜"]], z) for z in ZONES],
        )
        tomorrow = datetime.now(BEIJING).date() + timedelta(days=1)
        starts = datetime.combine(tomorrow, datetime.min.time(), BEIJING).replace(hour=10)
        for z in ZONES:
            create_booking(
                s,
                zones[z]["shared_instrument"],
                scope=Scope(z),
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                booked_by=w.secret(f"SECRET-{z}-booker", "zone", zone=z),
                purpose=w.secret(f"SECRET-{z}-purpose", "zone", zone=z),
            )
        w.weeks = [tomorrow.isoformat()]
        for z in ZONES:  # each zone's own related words, which only its officers list (and download)
            term = w.secret(f"SECRET-{z}-term", "zone", zone=z, admins_only_see=True)
            word = w.secret(f"SECRET-{z}-word", "zone", zone=z, admins_only_see=True)
            replace_zone_rows(s, z, [TermRow(term, word, "同义")])
        for z in ZONES:  # people of each zone, whom only their zone's officers list
            name = w.secret(f"SECRET-{z}-person", "zone", zone=z, admins_only_see=True)
            accounts.create_user(
                s,
                username=f"person_{z}",
                password="person-pass-123",
                role=Role.ENTERPRISE,
                zone_code=z,
                organization=f"示例企业8{ZONES.index(z)}({z})",
                display_name=name,
            )
        for username in READERS:
            row = find_user_row(s, username)
            if row is not None:
                token_name = w.secret(f"SECRET-token-{username}", "token", owner=username)
                accounts.issue_token(s, user=accounts.active_user(s, row.id), name=token_name)
                user = accounts.active_user(s, row.id)
                told = w.secret(f"SECRET-notice-{username}", "token", owner=username)
                notifications.notify(s, [row.id], "deal", told, "/deals")
                if user.zone_code is not None and not user.is_admin:  # a queued job of each organisation user
                    title = w.secret(f"SECRET-job-{username}", "job", owner=username, zone=user.zone_code)
                    job = jobs.submit(
                        s, kind="batch_match", params={}, user=user, zone_code=user.zone_code, title=title
                    )
                    w.job_ids.append(job.id)
        found = stored_deals(s, scope=Scope.platform())
        w.deal_ids = sorted(d.id for d in found)
        w.months = sorted({f"{e.at:%Y-%m}" for d in found for e in d.events})
    return w


# -- the routes -----------------------------------------------------------------------------------------

KIND_SEGMENTS = "|".join(re.escape(p) for p in KINDS_BY_PATH)
# Routes that only compute from what the caller may read: called like the GET routes.
COMPUTE_ONLY = [("POST", rf"{API}/({KIND_SEGMENTS})/\{{record_id\}}/match")]
# Routes that change state (or log in): never called by the walk. A route of another method that is in
# neither list fails ``test_every_route_is_walked_or_classified``.
WRITES = [
    ("POST", rf"{API}/login"),
    ("POST", rf"{API}/logout"),  # ends the caller's own session; nothing to read
    ("PUT", rf"{API}/me/password"),
    ("POST", rf"{API}/tokens"),
    ("DELETE", rf"{API}/tokens/\{{token_id\}}"),
    ("POST", rf"{API}/users"),
    ("PATCH", rf"{API}/users/\{{user_id\}}"),
    ("POST", rf"{API}/({KIND_SEGMENTS})"),
    ("PATCH", rf"{API}/({KIND_SEGMENTS})/\{{record_id\}}"),
    ("DELETE", rf"{API}/({KIND_SEGMENTS})/\{{record_id\}}"),
    ("POST", rf"{API}/imports/\{{kind\}}"),
    ("POST", rf"{API}/deals"),
    ("POST", rf"{API}/deals/\{{deal_id\}}/(transitions|drop)"),
    ("POST", r"/(login|logout|import|import/confirm)"),
    ("POST", rf"/({KIND_SEGMENTS})/new"),
    ("POST", rf"/({KIND_SEGMENTS})/\{{record_id\}}/(edit|archive|deals|bookings|matches/run)"),
    ("POST", r"/account/(password|tokens|tokens/\{token_id\}/revoke)"),
    ("POST", r"/admin/users(/\{user_id\}/active)?"),
    ("POST", r"/deals/\{deal_id\}/(advance|drop|notes)"),
    ("POST", r"/bookings/\{booking_id\}/(decision|cancel)"),
    ("POST", rf"/({KIND_SEGMENTS})/export"),  # a large list is queued as a job; the walk reads the API's
    ("POST", rf"/({KIND_SEGMENTS})/\{{record_id\}}/restore"),
    ("POST", r"/import/(mapping|\{preview_id\}/confirm)"),
    ("POST", r"/jobs/(batch-match|\{job_id\}/cancel)"),
    ("POST", r"/notifications/(\{notification_id\}/open|read-all|prefs)"),
    ("POST", r"/settings/(zone|zone/mappings/\{kind\}/forget|zone/thesaurus|chains|chains/\{code\}/remove)"),
]
# Query parameters the walk tries, one at a time, on every route that declares them: on every path (a
# booking week on each instrument page) or on the route's first path only (a zone, a file format).
QUERY_VALUES: dict[str, tuple[Any, bool]] = {
    "q": (lambda w, path: ["SECRET"], False),
    "zone": (lambda w, path: list(ZONES), False),
    "zone_code": (lambda w, path: list(ZONES), False),
    "per_page": (lambda w, path: ["200"], False),
    "include_archived": (lambda w, path: ["true"], False),
    "format": (lambda w, path: ["csv", "xlsx"], False),
    "month": (lambda w, path: w.months, False),
    "week": (lambda w, path: w.weeks if path.startswith("/instruments/") else [], True),
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    endpoint: APIRoute


def app_routes(app: FastAPI) -> list[Route]:
    """Every endpoint the app serves, API and pages, from the app's own route table."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI ≥ 0.120 keeps included routers lazy
    except ImportError:  # pragma: no cover - older FastAPI flattens included routes into app.routes
        found = [(r.path, getattr(r, "methods", None), r) for r in app.routes]
    else:
        found = [(c.path, c.methods, c.original_route) for c in iter_route_contexts(app.routes)]
    return [
        Route(method, path, route)
        for path, methods, route in found
        if isinstance(route, APIRoute)
        for method in sorted(methods or ())
    ]


def _matches(rules: list[tuple[str, str]], route: Route) -> bool:
    return any(route.method == m and re.fullmatch(p, route.path) for m, p in rules)


def _declared(route: Route, schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Path parameters (with their OpenAPI schema, when the route is in it) and query parameter names."""
    operation = schema["paths"].get(route.path, {}).get(route.method.lower())
    if operation is not None:
        params = operation.get("parameters", [])
        path = {p["name"]: p.get("schema", {}) for p in params if p["in"] == "path"}
        return path, [p["name"] for p in params if p["in"] == "query"]
    dependant = route.endpoint.dependant
    path = {f.alias: {} for f in dependant.path_params}
    return path, [f.alias for f in dependant.query_params]


def _record_ids(w: World, kind: str, *, depth: str) -> list[int]:
    """The ids a walk of ``depth`` takes, and one that does not exist.

    ``every``: every id. ``marked``: the marked records and the demo records linked to them (deal
    resources, stored matches) plus the first demo record of each zone × visibility. ``one``: the first.
    """
    with session_scope(w.url) as s:
        rows = [
            (r.id, r.record.zone_code, r.record.visibility)
            for r in iter_records(s, kind, scope=Scope.platform(), include_archived=True)
        ]
    ids = [i for i, _, _ in rows]
    if depth == "one":
        ids = ids[:1]
    elif depth == "marked":
        keep = set(w.key_ids.get(kind, ()))
        for zone_visibility in {(z, v) for _, z, v in rows}:
            keep.add(next(i for i, z, v in rows if (z, v) == zone_visibility))
        ids = [i for i in ids if i in keep]
    return [*ids, max(ids, default=0) + 1]


def _path_values(w: World, route: Route, name: str, schema: dict[str, Any], *, depth: str) -> list[str]:
    if "enum" in schema:
        return [str(v) for v in schema["enum"]]
    if name == "record_id":
        segment = route.path.removeprefix(API).split("/")[1]
        return [str(i) for i in _record_ids(w, KINDS_BY_PATH[segment], depth=depth)]
    if name == "deal_id":
        ids = w.deal_ids if depth == "every" else sorted({*w.deal_ids[:1], *w.marked_deal_ids})
        return [str(i) for i in [*ids, max(w.deal_ids) + 1]][: 1 if depth == "one" else None]
    if name == "month":
        return w.months[-1:] if depth == "one" else w.months
    if name == "file_id":  # every marked deal's file under every deal id walked: only its own is served
        return [str(i) for i in [*w.file_ids, max(w.file_ids) + 1]][: 1 if depth == "one" else None]
    if name == "job_id":  # every marked job, walked by every reader: only its owner and officers see it
        return [str(i) for i in [*w.job_ids, max(w.job_ids) + 1]][: 1 if depth == "one" else None]
    if name == "name":  # a job's file: none exists for a queued job, so every reader gets a 404
        return ["export.csv"]
    if name in ("kind", "fmt"):  # the import templates: headers only, nothing stored
        return ["demand"] if name == "kind" else ["csv", "xlsx"]
    if name == "metric":  # the route after every metric's own: a misspelt name, told the metrics (404)
        return ["no-such-metric"]
    raise AssertionError(f"the enumeration test does not know path parameter {name!r} of {route.path}")


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.params)
        return f"{self.method} {self.url}{'?' + query if query else ''}"


def plan(app: FastAPI, w: World, *, depth: str) -> list[Call]:
    """Every call of the walk: each GET (and compute-only) route × every path value × each query value."""
    schema = app.openapi()
    calls: list[Call] = []
    for route in app_routes(app):
        if route.method != "GET" and not _matches(COMPUTE_ONLY, route):
            continue
        path_params, query = _declared(route, schema)
        names = list(path_params)
        if route.method == "GET":
            choices = [_path_values(w, route, n, path_params[n], depth=depth) for n in names]
        else:  # compute-only (run matching): on the marked records, by every reader, not on all 1,300
            assert names == ["record_id"], route.path
            kind = KINDS_BY_PATH[route.path.removeprefix(API).split("/")[1]]
            choices = [[str(i) for k, i in w.run_matching if k == kind]]
        for number, values in enumerate(product(*choices)):
            url = route.path
            for n, v in zip(names, values, strict=True):
                url = url.replace("{" + n + "}", v)
            calls.append(Call(route.method, url))
            for name in query if depth != "one" else ():
                values_of, on_every_path = QUERY_VALUES.get(name, (lambda w, p: [], False))
                if number == 0 or on_every_path:
                    calls += [Call(route.method, url, ((name, value),)) for value in values_of(w, route.path)]
    return calls


# -- reading what came back -----------------------------------------------------------------------------


def body_text(response: Any) -> str:
    """Everything a reader gets: headers (redirect targets, file names) and the body, XLSX decoded."""
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    if "spreadsheetml" in response.headers.get("content-type", ""):
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        cells = (
            str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row
        )
        return headers + "\n" + "\n".join(cells)
    return headers + "\n" + response.content.decode("utf-8", errors="replace")


def _login(client: TestClient, username: str) -> dict[str, str]:
    """Sign in through the real doors: the login form (cookie) for pages, /login (token) for the API."""
    page = client.get("/login")
    token = BeautifulSoup(page.text, "html.parser").select_one("input[name=csrf_token]")["value"]
    form = {"username": username, "password": demo.DEMO_PASSWORD, "csrf_token": token}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    login = client.post(f"{API}/login", json={"username": username, "password": demo.DEMO_PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@dataclass
class Findings:
    leaks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seen: dict[str, set[str]] = field(default_factory=dict)
    calls: int = 0


EVERY_ID_READERS = ("wuxi_enterprise", "chengdu_admin")
"""Who walks every id in the slow walk: one reader of each zone with accounts, an organisation and an
officer. Every reader walks the marked records in the fast walk."""


def depth_for(role: str, *, every_id: bool) -> str | None:
    """How deep a reader walks (None: not in this walk). Anonymous is refused before any id is read."""
    if every_id:
        return "every" if role in EVERY_ID_READERS else None
    return "one" if role == "anonymous" else "marked"


def walk(app: FastAPI, w: World, *, every_id: bool) -> Findings:
    plans: dict[str, list[Call]] = {}
    found = Findings()
    markers = list(w.secrets.values())
    for role, reader in READERS.items():
        depth = depth_for(role, every_id=every_id)
        if depth is None:
            continue
        calls = plans.setdefault(depth, plan(app, w, depth=depth))
        seen = found.seen.setdefault(role, set())
        forbidden = [s for s in markers if not may_read(reader, s)]
        with TestClient(app) as client:
            headers = _login(client, reader.username) if reader.username else {}
            for call in calls:
                response = client.request(
                    call.method,
                    call.url,
                    params=dict(call.params),
                    headers=headers if call.url.startswith(API) else {},
                    follow_redirects=False,
                )
                found.calls += 1
                if response.status_code >= 500:
                    found.errors.append(f"{role}: {call} → {response.status_code}")
                text = body_text(response)
                seen.update(s.marker for s in markers if s.marker in text)
                found.leaks += [f"{role}: {call} shows {s.marker}" for s in forbidden if s.marker in text]
    return found


# -- the tests ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, World]]:
    folder = tmp_path_factory.mktemp("enumeration")
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    with pytest.MonkeyPatch.context() as mp:
        # Matching run through the app writes its index under the data dir (not ./var); argon2 at test cost.
        mp.setenv("TECHBRIDGE_DATA_DIR", str(folder / "data"))
        mp.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        get_settings.cache_clear()
        w = build_world(url)
        app = create_app(
            Settings(
                environment="test", database_url=url, data_dir=folder / "data", secret_key="enumeration-" * 4
            )
        )
        yield app, w
        get_settings.cache_clear()
    get_engine(url).dispose()


def test_every_route_is_walked_or_classified(world: tuple[FastAPI, World]) -> None:
    app, _ = world
    routes = app_routes(app)
    unknown = [
        f"{r.method} {r.path}"
        for r in routes
        if r.method != "GET" and not _matches(COMPUTE_ONLY, r) and not _matches(WRITES, r)
    ]
    assert not unknown, (
        f"classify these routes in tests/test_enumeration.py (compute-only or write): {unknown}"
    )
    assert sum(r.method == "GET" for r in routes) >= 40  # the walk really found the API and the pages


@pytest.mark.parametrize(
    "every_id", [pytest.param(False, id="marked"), pytest.param(True, id="every-id", marks=pytest.mark.slow)]
)
def test_no_role_reads_what_it_may_not(world: tuple[FastAPI, World], every_id: bool) -> None:
    app, w = world
    found = walk(app, w, every_id=every_id)
    assert not found.errors, "\n".join(found.errors[:30])
    if found.leaks:
        where = Counter(
            re.sub(r"/\d+", "/{id}", leak.split(" shows ")[0]).split("?")[0] for leak in found.leaks
        )
        summary = "\n".join(f"{n:5d} × {route}" for route, n in where.most_common())
        pytest.fail(
            f"{len(found.leaks)} leaks in {found.calls} calls:\n{summary}\nfirst:\n"
            + "\n".join(found.leaks[:30])
        )
    unseen = {
        role: sorted(
            s.marker for s in w.secrets.values() if must_see(READERS[role], s) and s.marker not in seen
        )
        for role, seen in found.seen.items()
    }
    assert not any(unseen.values()), f"the walk never showed these readable markers: {unseen}"
