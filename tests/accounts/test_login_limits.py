"""Login limits the audit walked around: rotating X-Forwarded-For, spreading guesses over addresses or
usernames, changing the case of the username, and guessing through the current-password check.

Limits: per username and address, per address (any username) and per account (any address). Past each
threshold every further try waits a backoff that doubles per failure, up to the login window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from techbridge.app import SERVER_OPTIONS, create_app
from techbridge.config import Settings
from techbridge.domain.accounts import Role, User
from techbridge.errors import NotAuthenticated, PermissionDenied, TooManyLoginAttempts
from techbridge.services import accounts, jobs
from techbridge.store.accounts import LoginAttemptRow
from techbridge.store.db import session_scope

from ..live import serve

PASSWORD = "correct horse 42"


def _make(url: str, username: str = "wuxi_corp") -> int:
    with session_scope(url) as s:
        return accounts.create_user(
            s,
            username=username,
            password=PASSWORD,
            role=Role.ENTERPRISE,
            zone_code="wuxi",
            organization="无锡甲公司",
        ).id


def _login(url: str, password: str, *, username: str = "wuxi_corp", ip: str = "10.0.0.1") -> User:
    with session_scope(url) as s:
        return accounts.authenticate(s, username=username, password=password, ip=ip)


def _fail(url: str, **kw: str) -> None:
    with pytest.raises(NotAuthenticated):
        _login(url, "wrong guess", **kw)


def _age_attempts(url: str, by: timedelta) -> None:
    """Move every recorded attempt into the past, as if ``by`` had gone by."""
    with session_scope(url) as s:
        for row in s.scalars(select(LoginAttemptRow)):
            row.attempted_at = row.attempted_at - by


@pytest.fixture
def live_app(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    """The app behind uvicorn, configured exactly as `techbridge serve` configures it."""
    _make(sqlite_url)
    app = create_app(Settings(database_url=sqlite_url, data_dir=tmp_path, secret_key="test-secret"))
    with serve(app, **SERVER_OPTIONS) as url:  # type: ignore[arg-type]
        yield url


def test_rotating_x_forwarded_for_does_not_reset_the_limit(live_app: str) -> None:
    codes = []
    with httpx.Client(base_url=live_app) as client:
        for n in range(accounts.MAX_FAILED_LOGINS + 1):
            response = client.post(
                "/api/v1/login",
                json={"username": "wuxi_corp", "password": "wrong guess"},
                headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
            )
            codes.append(response.status_code)
        right = client.post(
            "/api/v1/login",
            json={"username": "wuxi_corp", "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.7"},
        )
    assert codes == [401] * accounts.MAX_FAILED_LOGINS + [429]
    assert right.status_code == 429


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(sqlite_url: str, tmp_path: Path) -> None:
    _make(sqlite_url)

    def client(trusted: list[str]) -> TestClient:
        settings = Settings(
            database_url=sqlite_url, data_dir=tmp_path, secret_key="test-secret", trusted_proxies=trusted
        )
        return TestClient(create_app(settings))

    behind_proxy = client(["testclient"])  # the TestClient's own address plays the proxy
    for n in range(accounts.MAX_FAILED_LOGINS):
        wrong = behind_proxy.post(
            "/api/v1/login",
            json={"username": "wuxi_corp", "password": "wrong guess"},
            headers={"X-Forwarded-For": "203.0.113.1"},
        )
        assert wrong.status_code == 401, n
    # That address is now limited; another client of the same proxy is not.
    blocked = {"X-Forwarded-For": "203.0.113.1"}
    other = {"X-Forwarded-For": "203.0.113.2"}
    body = {"username": "wuxi_corp", "password": PASSWORD}
    assert behind_proxy.post("/api/v1/login", json=body, headers=blocked).status_code == 429
    assert behind_proxy.post("/api/v1/login", json=body, headers=other).status_code == 200
    with session_scope(sqlite_url) as s:
        addresses = set(s.scalars(select(LoginAttemptRow.ip)))
    assert addresses == {"203.0.113.1", "203.0.113.2"}
    # Without the setting, the header is only a header.
    direct = client([])
    direct.post("/api/v1/login", json=body, headers={"X-Forwarded-For": "192.0.2.9"})
    with session_scope(sqlite_url) as s:
        assert "192.0.2.9" not in set(s.scalars(select(LoginAttemptRow.ip)))


def test_the_login_page_and_the_api_count_the_same_client_address(sqlite_url: str, tmp_path: Path) -> None:
    """Both doors ask ``request_context.client_ip``: behind a trusted proxy, the forwarded address."""
    _make(sqlite_url)
    settings = Settings(
        database_url=sqlite_url, data_dir=tmp_path, secret_key="test-secret", trusted_proxies=["testclient"]
    )
    client = TestClient(create_app(settings))
    client.post(
        "/api/v1/login",
        json={"username": "wuxi_corp", "password": "wrong guess"},
        headers={"X-Forwarded-For": "203.0.113.8"},
    )
    token = client.get("/login").cookies["tb_login_csrf"]
    page = client.post(
        "/login",
        data={"username": "wuxi_corp", "password": "wrong guess", "csrf_token": token},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert page.status_code == 401
    with session_scope(sqlite_url) as s:
        assert sorted(s.scalars(select(LoginAttemptRow.ip))) == ["203.0.113.8", "203.0.113.9"]


def test_trusted_proxies_setting_reads_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECHBRIDGE_TRUSTED_PROXIES", "10.0.0.5, 172.16.0.0/12")
    assert Settings().trusted_proxies == ["10.0.0.5", "172.16.0.0/12"]
    monkeypatch.delenv("TECHBRIDGE_TRUSTED_PROXIES")
    assert Settings().trusted_proxies == []


def test_guesses_spread_over_addresses_hit_the_account_limit_with_backoff(db_url: str) -> None:
    _make(db_url)
    for n in range(accounts.ACCOUNT_LIMIT.threshold):
        _fail(db_url, ip=f"10.1.0.{n}")
    with pytest.raises(TooManyLoginAttempts) as first:
        _login(db_url, PASSWORD, ip="10.2.0.1")  # a new address, the right password: still refused
    wait = accounts.ACCOUNT_LIMIT.first_wait
    assert 0 < first.value.retry_after_seconds <= wait.total_seconds()
    _age_attempts(db_url, wait)
    _fail(db_url, ip="10.2.0.2")  # one more try is allowed after the wait, and fails
    with pytest.raises(TooManyLoginAttempts) as second:
        _login(db_url, PASSWORD, ip="10.2.0.3")
    assert second.value.retry_after_seconds > wait.total_seconds()  # the wait doubled
    _age_attempts(db_url, 2 * wait)
    assert _login(db_url, PASSWORD, ip="10.2.0.3").username == "wuxi_corp"


def test_guesses_spread_over_usernames_hit_the_address_limit(db_url: str) -> None:
    _make(db_url)
    for n in range(accounts.ADDRESS_LIMIT.threshold):
        _fail(db_url, username=f"user{n}", ip="10.9.9.9")
    with pytest.raises(TooManyLoginAttempts):
        _login(db_url, PASSWORD, ip="10.9.9.9")
    assert _login(db_url, PASSWORD, ip="10.9.9.10").username == "wuxi_corp"


def test_logging_in_to_your_own_account_does_not_reset_the_address_limit(db_url: str) -> None:
    _make(db_url)
    _make(db_url, "attacker")
    for n in range(accounts.ADDRESS_LIMIT.threshold - 1):
        _fail(db_url, username=f"victim{n}", ip="10.9.9.9")
    _login(db_url, PASSWORD, username="attacker", ip="10.9.9.9")
    _fail(db_url, username="victim-last", ip="10.9.9.9")
    with pytest.raises(TooManyLoginAttempts):
        _login(db_url, PASSWORD, username="attacker", ip="10.9.9.9")


def test_changing_the_case_of_the_username_does_not_reset_the_limit(sqlite_url: str) -> None:
    _make(sqlite_url)
    for name in ("wuxi_corp", "WUXI_CORP", "Wuxi_Corp", "wUxI_cOrP", "WUXI_corp"):
        _fail(sqlite_url, username=name)
    with pytest.raises(TooManyLoginAttempts):
        _login(sqlite_url, PASSWORD, username="wuxi_CORP")


def test_the_current_password_check_is_limited_too(db_url: str) -> None:
    user_id = _make(db_url)
    with session_scope(db_url) as s:
        user = accounts.active_user(s, user_id)
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with session_scope(db_url) as s, pytest.raises(PermissionDenied):
            accounts.change_password(
                s, user=user, current_password="a guess", new_password="new password 1", ip="10.0.0.1"
            )
    with session_scope(db_url) as s, pytest.raises(TooManyLoginAttempts):
        accounts.change_password(
            s, user=user, current_password=PASSWORD, new_password="new password 1", ip="10.0.0.1"
        )
    # Guessing there also counts against logging in.
    with pytest.raises(TooManyLoginAttempts):
        _login(db_url, PASSWORD)


def test_the_api_password_change_answers_429_after_too_many_wrong_current_passwords(
    sqlite_url: str, tmp_path: Path
) -> None:
    user_id = _make(sqlite_url)
    with session_scope(sqlite_url) as s:
        token = accounts.issue_token(s, user=accounts.active_user(s, user_id), name="t").token
    client = TestClient(
        create_app(Settings(database_url=sqlite_url, data_dir=tmp_path, secret_key="test-secret"))
    )
    headers = {"Authorization": f"Bearer {token}"}
    codes = [
        client.put(
            "/api/v1/me/password",
            json={"current_password": f"guess-{n}", "new_password": "new password 1"},
            headers=headers,
        ).status_code
        for n in range(accounts.MAX_FAILED_LOGINS + 1)
    ]
    assert codes == [403] * accounts.MAX_FAILED_LOGINS + [429]
    right = client.put(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "new password 1"},
        headers=headers,
    )
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    assert "次数过多" in right.json()["detail"]


def _attempts(url: str) -> list[tuple[str, str]]:
    with session_scope(url) as s:
        return sorted(
            (name, ip) for name, ip in s.execute(select(LoginAttemptRow.username, LoginAttemptRow.ip))
        )


def test_attempts_the_limits_no_longer_read_are_deleted(db_url: str, tmp_path: Path) -> None:
    """The log kept every failure forever. A try deletes the expired attempts of its username and of its
    address; the worker's cleanup deletes the rest."""
    _make(db_url)
    _fail(db_url, ip="10.0.0.1")
    _fail(db_url, username="someone", ip="10.0.0.2")
    _fail(db_url, username="other", ip="10.0.0.3")
    _age_attempts(db_url, accounts.LOGIN_WINDOW + timedelta(seconds=1))
    _fail(db_url, ip="10.0.0.2")  # wuxi_corp's address 10.0.0.1 row and someone's row at 10.0.0.2 expire
    assert _attempts(db_url) == [("other", "10.0.0.3"), ("wuxi_corp", "10.0.0.2")]
    report = jobs.cleanup(db_url, Settings(database_url=db_url, data_dir=tmp_path))
    assert report.login_attempts_removed == 1
    assert _attempts(db_url) == [("wuxi_corp", "10.0.0.2")]


def test_attempts_still_inside_the_window_are_kept_and_still_count(db_url: str) -> None:
    _make(db_url)
    for _ in range(accounts.MAX_FAILED_LOGINS):
        _fail(db_url, ip="10.0.0.1")
    _age_attempts(db_url, accounts.LOGIN_WINDOW - timedelta(minutes=1))
    _fail(db_url, ip="10.0.0.2")  # the same account from elsewhere: deletes nothing the limits read
    assert len(_attempts(db_url)) == accounts.MAX_FAILED_LOGINS + 1
    with pytest.raises(TooManyLoginAttempts):
        _login(db_url, PASSWORD, ip="10.0.0.1")
    _age_attempts(db_url, timedelta(minutes=1, seconds=1))  # now the first five have left the window
    assert _login(db_url, PASSWORD, ip="10.0.0.1").username == "wuxi_corp"
    assert _attempts(db_url) == [("wuxi_corp", "10.0.0.1"), ("wuxi_corp", "10.0.0.2")]
