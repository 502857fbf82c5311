"""Load the shipped demo data set: real patents and papers, sample demands and capabilities."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from ..config import Settings
from ..domain.access import Scope
from ..domain.accounts import ROLE_LABELS_ZH, Role, officer
from ..domain.deals import PIPELINE, DealStage
from ..ingest.importer import ImportReport, import_file
from ..store.accounts import find_user_row
from ..store.db import init_db, session_scope
from ..store.matches import list_matches
from ..store.records import RecordQuery, list_records
from . import deals
from .accounts import create_user
from .matching import MatchRunReport, Progress, run_batch
from .zone_registry import load_registry

SAMPLE_NOTICE = (
    "演示数据: 专利与论文为真实公开数据; 需求、专家、仪器、中试平台及所有“示例”机构为示例数据, 非真实信息。"
)

# (kind, file): demands before achievements so the first matching run has both sides.
DEMO_FILES = (
    ("demand", "demands.xlsx"),
    ("achievement", "achievements_patents.csv"),
    ("achievement", "achievements_papers.jsonl"),
    ("expert", "experts.csv"),
    ("instrument", "instruments.csv"),
    ("pilot_platform", "pilot_platforms.csv"),
)
# Demo accounts share one password so the printed table is all a visitor needs; never use it elsewhere.
DEMO_PASSWORD = "techbridge-demo"
DEMO_ACCOUNTS = (
    ("admin", Role.PLATFORM_ADMIN, None, None, "平台管理员"),
    ("wuxi_admin", Role.ZONE_ADMIN, "wuxi", None, "无锡高新区管理员"),
    ("chengdu_admin", Role.ZONE_ADMIN, "chengdu", None, "成都高新区管理员"),
    ("wuxi_enterprise", Role.ENTERPRISE, "wuxi", "示例企业01(wuxi)", "示例企业01"),
    ("chengdu_enterprise", Role.ENTERPRISE, "chengdu", "示例企业12(chengdu)", "示例企业12"),
    ("wuxi_university", Role.UNIVERSITY, "wuxi", "示例大学甲(无锡)", "示例大学甲"),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role_label: str
    zone_code: str | None
    organization: str | None


@dataclass(frozen=True)
class DemoLoad:
    reports: list[ImportReport]
    accounts: list[DemoAccount]
    matching: MatchRunReport
    sample_deals: int


def demo_dir() -> Path:
    return Path(str(resources.files("techbridge") / "data" / "demo"))


def ensure_demo_accounts(url: str) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet (an existing password is left alone)."""
    accounts = []
    with session_scope(url) as session:
        for username, role, zone, org, name in DEMO_ACCOUNTS:
            if find_user_row(session, username) is None:
                create_user(
                    session,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    zone_code=zone,
                    organization=org,
                    display_name=name,
                )
            accounts.append(DemoAccount(username, DEMO_PASSWORD, ROLE_LABELS_ZH[role], zone, org))
    return accounts


SAMPLE_DEAL_NOTE = "示例撮合项目 (演示数据, 非真实案例): 来自批量匹配结果"
_SAMPLE_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def create_sample_deals(url: str, *, zone_code: str = "wuxi", seed: int = 7) -> int:
    """Turn each of the zone's demands' best real match into a sample deal at a made-up stage.

    The matches are the engine's; the stages, dates and amounts are invented (seeded) so the funnel and
    the dashboard have something to show. Runs only on a database with no deals yet.
    """
    scope = Scope(zone_code)
    if deals.list_deals(url, viewer=officer(None)):
        return 0
    rng = random.Random(seed)
    with session_scope(url) as session:
        demands = list_records(
            session, "demand", scope=scope, query=RecordQuery(per_page=100, sort="id")
        ).items
        best = {
            d.id: list_matches(
                session, source_kind="demand", source_id=d.id, target_kind="achievement", scope=scope
            )
            for d in demands
            if d.record.zone_code == zone_code
        }
    created = 0
    for demand_id, matches in best.items():
        if not matches:
            continue
        started = _SAMPLE_START + timedelta(days=rng.randint(0, 100))  # every stage stays in the past
        deal = deals.start_deal(
            url,
            demand_id=demand_id,
            resources=[("achievement", matches[0].target_id)],
            actor="wuxi_admin",
            scope=scope,
            note=SAMPLE_DEAL_NOTE,
            at=started,
        )
        created += 1
        final = rng.choices(range(len(PIPELINE)), weights=[3, 4, 5, 3, 2, 2, 3])[0]
        when = started
        for stage in PIPELINE[1 : final + 1]:
            when += timedelta(days=rng.randint(5, 20))
            amounts = {}
            if stage == DealStage.PILOT_TEST:
                amounts["contract_value"] = float(rng.randint(20, 300))
            elif stage == DealStage.FUNDING:
                amounts["funding_amount"] = float(rng.randint(100, 2000))
            deals.advance(url, deal.id, to_stage=stage, actor="wuxi_admin", scope=scope, at=when, **amounts)
        if 0 < final < len(PIPELINE) - 1 and rng.random() < 0.25:
            deals.drop(
                url,
                deal.id,
                reason="企业调整研发方向 (示例)",
                actor="wuxi_admin",
                scope=scope,
                at=when + timedelta(days=7),
            )
    return created


def load_demo(url: str, *, settings: Settings, progress: Progress | None = None) -> DemoLoad:
    """Schema, zone registry, demo records and accounts, a real batch-matching run, sample deals.

    Loading twice changes nothing: imports are idempotent, matching is incremental, deals are made once.
    """
    init_db(url)
    load_registry(url)
    reports = [
        import_file(url, kind, demo_dir() / name, zone_code="wuxi", progress=progress is not None)
        for kind, name in DEMO_FILES
    ]
    accounts = ensure_demo_accounts(url)
    matching = run_batch(url, settings=settings, progress=progress)
    return DemoLoad(
        reports=reports, accounts=accounts, matching=matching, sample_deals=create_sample_deals(url)
    )
