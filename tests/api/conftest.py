"""An app over a seeded two-zone database (无锡 wuxi and 成都 chengdu) with one account per role.

Tokens are issued directly, not through /login, so the login rate limit never interferes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.domain.access import Scope
from techbridge.domain.accounts import Role
from techbridge.domain.records import Achievement, Demand, Expert
from techbridge.services import accounts
from techbridge.store.db import session_scope
from techbridge.store.matches import NewMatch, replace_matches
from techbridge.store.records import create_record

PASSWORD = "password-123"
USERS: dict[str, dict[str, object]] = {
    "root": {"role": Role.PLATFORM_ADMIN},
    "wuxi_admin": {"role": Role.ZONE_ADMIN, "zone_code": "wuxi"},
    "cd_admin": {"role": Role.ZONE_ADMIN, "zone_code": "chengdu"},
    "wuxi_corp": {"role": Role.ENTERPRISE, "zone_code": "wuxi", "organization": "无锡甲公司"},
    "wuxi_other": {"role": Role.ENTERPRISE, "zone_code": "wuxi", "organization": "无锡乙公司"},
    "wuxi_uni": {"role": Role.UNIVERSITY, "zone_code": "wuxi", "organization": "江南大学"},
    "zhang": {"role": Role.EXPERT, "zone_code": "wuxi", "organization": "江南大学", "display_name": "张三"},
}

RECORDS = {
    "wuxi_private": (
        "demand",
        Demand(zone_code="wuxi", title="锂电池隔膜涂覆技术", organization="无锡甲公司"),
    ),
    "wuxi_shared": (
        "demand",
        Demand(zone_code="wuxi", title="储能电站热管理方案", organization="无锡甲公司", visibility="shared"),
    ),
    "cd_private": (
        "demand",
        Demand(zone_code="chengdu", title="成都机密隔膜需求", organization="成都乙公司"),
    ),
    "cd_shared_patent": (
        "achievement",
        Achievement(zone_code="chengdu", title="一种隔膜涂覆装置", owner="四川大学", visibility="shared"),
    ),
    "cd_private_patent": (
        "achievement",
        Achievement(zone_code="chengdu", title="成都私有隔膜专利", owner="四川大学"),
    ),
    "cd_expert": (
        "expert",
        Expert(
            zone_code="chengdu",
            name="王五",
            organization="四川大学",
            contact="13800000000",
            visibility="shared",
        ),
    ),
    "wuxi_expert": (
        "expert",
        Expert(zone_code="wuxi", name="张三", organization="江南大学", contact="13900000000"),
    ),
}


@dataclass
class Api:
    client: TestClient
    url: str
    ids: dict[str, int]
    tokens: dict[str, str]

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str, **kw: object) -> object:
        return self.client.get(f"/api/v1{path}", headers=self.headers(user), **kw)  # type: ignore[arg-type]


def seed(url: str) -> tuple[dict[str, int], dict[str, str]]:
    ids: dict[str, int] = {}
    tokens: dict[str, str] = {}
    with session_scope(url) as s:
        for username, fields in USERS.items():
            user = accounts.create_user(s, username=username, password=PASSWORD, **fields)  # type: ignore[arg-type]
            tokens[username] = accounts.issue_token(s, user=user, name="test").token
        for key, (_kind, record) in RECORDS.items():
            ids[key] = create_record(s, record, scope=Scope.platform()).id
        # The wuxi demand matched a shared and a private chengdu patent; only the shared one may show.
        replace_matches(
            s,
            source_kind="demand",
            source_id=ids["wuxi_private"],
            source_zone="wuxi",
            target_kind="achievement",
            matches=[
                NewMatch(
                    target_id=ids["cd_private_patent"],
                    score=0.9,
                    reasons=[{"code": "title_terms", "text": "标题命中关键词: 隔膜"}],
                    target_zone="chengdu",
                ),
                NewMatch(
                    target_id=ids["cd_shared_patent"],
                    score=0.8,
                    reasons=[{"code": "title_terms", "text": "标题命中关键词: 涂覆"}],
                    target_zone="chengdu",
                ),
            ],
        )
    return ids, tokens


def make_api(url: str, *, data_dir: Path) -> Api:
    """``data_dir`` holds the match index: inside the test's own directory, never the working tree."""
    ids, tokens = seed(url)
    # The seed is a handful of records: run matching shows every candidate, however weak, so that it
    # has rows to store (the product hides matches below 匹配度 30).
    settings = Settings(
        database_url=url, secret_key="test-secret", data_dir=data_dir, match_params={"min_match": 0.0}
    )
    client = TestClient(create_app(settings))
    return Api(client=client, url=url, ids=ids, tokens=tokens)


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Api:
    return make_api(sqlite_url, data_dir=tmp_path / "data")


@pytest.fixture
def api_all_dbs(db_url: str, tmp_path: Path) -> Api:
    """The seeded app on SQLite and PostgreSQL, for the rules that depend on SQL."""
    return make_api(db_url, data_dir=tmp_path / "data")
