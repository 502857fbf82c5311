"""Password rules: the audit set `password`, `12345678`, eight spaces and password = username."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.domain.accounts import Role
from techbridge.errors import TechBridgeError
from techbridge.services import accounts
from techbridge.store.db import session_scope


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("wuxi_corp", "password", "过于常见"),
        ("wuxi_corp", "12345678", "过于常见"),
        ("wuxi_corp", "PASSWORD", "过于常见"),  # case does not make a common password rare
        ("wuxi_corp", "qwertyuiop", "过于常见"),
        ("wuxi_corp", " " * 8, "不能全是空白"),
        ("wuxi_corp", "\t\u3000 \n\t\u3000 \n", "不能全是空白"),
        ("wuxi_corp", "wuxi_corp", "不能包含用户名"),
        ("wuxi_corp", "WUXI_CORP", "不能包含用户名"),
        ("wuxi_corp", "my-wuxi_corp-2026", "不能包含用户名"),
        ("wuxi_corp", "short", "至少需要 8 个字符"),
        ("wuxi_corp", "x" * 201, "最多 200 个字符"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(
    sqlite_url: str, username: str, password: str, message: str
) -> None:
    with session_scope(sqlite_url) as s, pytest.raises(TechBridgeError, match=message):
        accounts.create_user(
            s, username=username, password=password, role=Role.ENTERPRISE, zone_code="wuxi", organization="甲"
        )


@pytest.mark.parametrize(
    "password", ["techbridge-demo", "correct horse 42", "锂电池隔膜涂覆2026", "Tr0ub4dor&3"]
)
def test_ordinary_passwords_are_accepted(sqlite_url: str, password: str) -> None:
    with session_scope(sqlite_url) as s:
        accounts.create_user(
            s, username="wuxi_admin", password=password, role=Role.ZONE_ADMIN, zone_code="wuxi"
        )


def test_the_common_password_list_is_the_maintained_one() -> None:
    common = accounts.common_passwords()
    assert len(common) >= 10_000
    assert {"password", "12345678", "iloveyou", "qwerty123"} <= common


def test_the_rules_hold_for_password_changes_and_the_api(sqlite_url: str, tmp_path: Path) -> None:
    with session_scope(sqlite_url) as s:
        admin = accounts.create_user(
            s, username="root", password="a-long-admin-pass", role=Role.PLATFORM_ADMIN
        )
        token = accounts.issue_token(s, user=admin, name="t").token
    client = TestClient(
        create_app(Settings(database_url=sqlite_url, data_dir=tmp_path, secret_key="test-secret"))
    )
    headers = {"Authorization": f"Bearer {token}"}
    change = client.put(
        "/api/v1/me/password",
        json={"current_password": "a-long-admin-pass", "new_password": "12345678"},
        headers=headers,
    )
    assert change.status_code == 400 and "过于常见" in change.json()["detail"]
    create = client.post(
        "/api/v1/users",
        json={
            "username": "chengdu_admin",
            "password": "chengdu_admin",
            "role": "zone_admin",
            "zone_code": "chengdu",
        },
        headers=headers,
    )
    assert create.status_code == 400 and "不能包含用户名" in create.json()["detail"]
