"""Accounts on every database: hashing, login rate limiting, tokens, and the migration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from techbridge.domain.accounts import Role, User
from techbridge.errors import (
    Conflict,
    NotAuthenticated,
    PermissionDenied,
    TechBridgeError,
    TooManyLoginAttempts,
)
from techbridge.services import accounts
from techbridge.store.accounts import UserRow
from techbridge.store.db import session_scope

PASSWORD = "correct horse 42"


def _make(url: str, username: str = "wuxi_corp", **extra: object) -> int:
    fields: dict[str, object] = {"role": Role.ENTERPRISE, "zone_code": "wuxi", "organization": "无锡甲公司"}
    fields.update(extra)
    with session_scope(url) as s:
        return accounts.create_user(s, username=username, password=PASSWORD, **fields).id  # type: ignore[arg-type]


def _login(url: str, password: str, *, username: str = "wuxi_corp", ip: str = "10.0.0.1") -> User:
    with session_scope(url) as s:
        return accounts.authenticate(s, username=username, password=password, ip=ip)


def test_password_is_stored_only_as_an_argon2_hash(db_url: str) -> None:
    _make(db_url)
    with session_scope(db_url) as s:
        stored = s.scalar(select(UserRow.password_hash))
    assert stored is not None and stored.startswith("$argon2") and PASSWORD not in stored
    user = _login(db_url, PASSWORD)
    assert user.organization == "无锡甲公司"


def test_wrong_password_and_unknown_user_get_the_same_answer(db_url: str) -> None:
    _make(db_url)
    with pytest.raises(NotAuthenticated) as wrong:
        _login(db_url, "not the password")
    with pytest.raises(NotAuthenticated) as unknown:
        _login(db_url, PASSWORD, username="nobody")
    assert wrong.value.message == unknown.value.message


def test_failed_logins_are_limited_per_username_and_address(db_url: str) -> None:
    _make(db_url)
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(NotAuthenticated):
            _login(db_url, "guess")
    # Even the right password is refused now, from this address...
    with pytest.raises(TooManyLoginAttempts) as refused:
        _login(db_url, PASSWORD)
    assert refused.value.status == 429
    # ...but not from another one, where a success also clears the count.
    assert _login(db_url, PASSWORD, ip="10.0.0.2")


def test_a_success_resets_the_failure_count(db_url: str) -> None:
    _make(db_url)
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        with pytest.raises(NotAuthenticated):
            _login(db_url, "guess")
    _login(db_url, PASSWORD)
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        with pytest.raises(NotAuthenticated):
            _login(db_url, "guess")
    assert _login(db_url, PASSWORD)


def test_disabled_accounts_cannot_log_in_or_use_tokens(db_url: str) -> None:
    admin_id = _make(db_url, "wuxi_admin", role=Role.ZONE_ADMIN, organization=None)
    user_id = _make(db_url)
    with session_scope(db_url) as s:
        admin = accounts.active_user(s, admin_id)
        token = accounts.issue_token(s, user=accounts.active_user(s, user_id), name="erp").token
        accounts.set_active(s, admin=admin, user_id=user_id, is_active=False)
    with pytest.raises(NotAuthenticated):
        _login(db_url, PASSWORD)
    with session_scope(db_url) as s, pytest.raises(NotAuthenticated):
        accounts.user_for_token(s, token)


def test_tokens_are_hashed_listed_revoked_and_expire(db_url: str) -> None:
    user_id = _make(db_url)
    with session_scope(db_url) as s:
        user = accounts.active_user(s, user_id)
        issued = accounts.issue_token(s, user=user, name="erp")
        expired = accounts.issue_token(s, user=user, name="old", lifetime=timedelta(seconds=-1))
    assert issued.token.startswith(accounts.TOKEN_PREFIX) and len(issued.token) > 40
    with session_scope(db_url) as s:
        assert accounts.user_for_token(s, issued.token).id == user_id
        assert [t.name for t in accounts.list_tokens(s, user=user)] == ["erp", "old"]
        with pytest.raises(NotAuthenticated):
            accounts.user_for_token(s, expired.token)
        accounts.revoke_token(s, user=user, token_id=issued.info.id)
    with session_scope(db_url) as s:
        with pytest.raises(NotAuthenticated):
            accounts.user_for_token(s, issued.token)
        assert [t.name for t in accounts.list_tokens(s, user=user)] == ["old"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": Role.PLATFORM_ADMIN, "zone_code": "wuxi"}, "平台管理员不属于任何园区"),
        ({"role": Role.ZONE_ADMIN, "zone_code": None}, "必须属于一个园区"),
        ({"role": Role.UNIVERSITY, "zone_code": "wuxi", "organization": None}, "必须填写所属单位"),
    ],
)
def test_role_decides_zone_and_organisation(sqlite_url: str, fields: dict[str, object], message: str) -> None:
    with pytest.raises(TechBridgeError, match=message):
        _make(sqlite_url, **fields)


def test_usernames_are_unique_and_passwords_long_enough(sqlite_url: str) -> None:
    _make(sqlite_url)
    with pytest.raises(Conflict):
        _make(sqlite_url)
    with session_scope(sqlite_url) as s, pytest.raises(TechBridgeError, match="至少需要 8 个字符"):
        accounts.create_user(s, username="shorty", password="1234567", role=Role.PLATFORM_ADMIN)


def test_zone_admins_manage_only_their_zone_users(sqlite_url: str) -> None:
    admin_id = _make(sqlite_url, "wuxi_admin", role=Role.ZONE_ADMIN, organization=None)
    other_id = _make(sqlite_url, "cd_corp", zone_code="chengdu")
    with session_scope(sqlite_url) as s:
        admin = accounts.active_user(s, admin_id)
        assert [u.username for u in accounts.list_users(s, admin=admin)] == ["wuxi_admin"]
        with pytest.raises(PermissionDenied):
            accounts.check_can_manage(admin, role=Role.ZONE_ADMIN, zone_code="wuxi")
        with pytest.raises(PermissionDenied):
            accounts.check_can_manage(admin, role=Role.ENTERPRISE, zone_code="chengdu")
        accounts.check_can_manage(admin, role=Role.EXPERT, zone_code="wuxi")
        with pytest.raises(TechBridgeError, match="不存在"):
            accounts.set_active(s, admin=admin, user_id=other_id, is_active=False)


def test_change_password_needs_the_current_one(sqlite_url: str) -> None:
    user_id = _make(sqlite_url)
    with session_scope(sqlite_url) as s:
        user = accounts.active_user(s, user_id)
        with pytest.raises(PermissionDenied):
            accounts.change_password(
                s, user=user, current_password="wrong", new_password="new password 1", ip="10.0.0.1"
            )
        accounts.change_password(
            s, user=user, current_password=PASSWORD, new_password="new password 1", ip="10.0.0.1"
        )
    assert _login(sqlite_url, "new password 1")
