"""Load the shipped demo data set: real patents and papers, sample demands and capabilities."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..domain.accounts import ROLE_LABELS_ZH, Role
from ..ingest.importer import ImportReport, import_file
from ..store.accounts import find_user_row
from ..store.db import init_db, session_scope
from .accounts import create_user
from .zone_registry import load_registry

SAMPLE_NOTICE = "演示数据: 专利与论文为真实公开数据; 需求、专家、仪器、中试平台及所有“示例”机构为示例数据, 非真实信息。"

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


def load_demo(url: str, *, progress: bool = False) -> DemoLoad:
    """Create the schema, the zone registry, the demo records and accounts (loading twice changes nothing)."""
    init_db(url)
    load_registry(url)
    reports = [
        import_file(url, kind, demo_dir() / name, zone_code="wuxi", progress=progress) for kind, name in DEMO_FILES
    ]
    return DemoLoad(reports=reports, accounts=ensure_demo_accounts(url))
