"""No built-in secret: the audit signed a cookie with the old default and was let in as platform admin.

The app now generates a random secret into the data directory on first start (dev), or refuses to start
without one from the environment (production).
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from techbridge.app import create_app
from techbridge.config import OLD_DEFAULT_SECRETS, SECRET_FILE, Settings, get_settings, resolve_secret
from techbridge.domain.accounts import Role
from techbridge.services import accounts
from techbridge.services.sessions import CSRF_HEADER, SESSION_COOKIE, csrf_token, encode_session, new_session
from techbridge.store.db import session_scope

OLD_DEFAULT = "dev-secret-change-me"


def _platform_admin(url: str) -> int:
    with session_scope(url) as s:
        return accounts.create_user(
            s, username="admin", password="long-platform-pass", role=Role.PLATFORM_ADMIN
        ).id


def test_a_cookie_signed_with_the_old_default_secret_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    admin_id = _platform_admin(sqlite_url)
    # `techbridge serve` with nothing configured: only the data directory is set.
    app = create_app(Settings(database_url=sqlite_url, data_dir=tmp_path / "var"))
    forged = new_session(admin_id)
    cookies = {SESSION_COOKIE: encode_session(OLD_DEFAULT, forged)}
    client = TestClient(app, cookies=cookies)
    assert client.get("/api/v1/me").status_code == 401
    create = client.post(
        "/api/v1/users",
        json={"username": "intruder", "password": "intruder-pass-1", "role": "platform_admin"},
        headers={CSRF_HEADER: csrf_token(OLD_DEFAULT, forged)},
    )
    assert create.status_code == 401
    assert client.get("/admin/users", follow_redirects=False).status_code == 303  # to the login page


def test_the_generated_secret_is_random_private_and_kept_across_restarts(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    first = resolve_secret(Settings(data_dir=data_dir))
    path = data_dir / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 43 and first.secret_key not in OLD_DEFAULT_SECRETS
    # A restart reads the same file, so logged-in users stay logged in.
    assert resolve_secret(Settings(data_dir=data_dir)).secret_key == first.secret_key
    # Another installation gets another secret.
    assert resolve_secret(Settings(data_dir=tmp_path / "other")).secret_key != first.secret_key


def test_dev_mode_warns_loudly_when_it_generates_the_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="techbridge"):
        resolve_secret(Settings(data_dir=tmp_path))
    assert "TECHBRIDGE_SECRET_KEY" in caplog.text and str(tmp_path / SECRET_FILE) in caplog.text


def test_an_explicit_secret_is_used_as_given(tmp_path: Path) -> None:
    settings = resolve_secret(Settings(data_dir=tmp_path, secret_key="x" * 40))
    assert settings.secret_key == "x" * 40
    assert not (tmp_path / SECRET_FILE).exists()


@pytest.mark.parametrize("secret", ["", OLD_DEFAULT, "changethis", "too-short"])
def test_production_refuses_to_start_without_a_real_secret(tmp_path: Path, secret: str) -> None:
    with pytest.raises(ValueError, match="TECHBRIDGE_SECRET_KEY"):
        resolve_secret(Settings(environment="production", data_dir=tmp_path, secret_key=secret))
    assert not (tmp_path / SECRET_FILE).exists()  # production never writes a secret of its own


def test_the_old_default_is_refused_in_dev_too(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TECHBRIDGE_SECRET_KEY"):
        resolve_secret(Settings(data_dir=tmp_path, secret_key=OLD_DEFAULT))


def test_serve_refuses_to_start_in_production_without_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from techbridge.cli import _register, app

    _register()
    monkeypatch.setenv("TECHBRIDGE_ENVIRONMENT", "production")
    monkeypatch.setenv("TECHBRIDGE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TECHBRIDGE_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert result.exit_code != 0
    get_settings.cache_clear()
    assert "TECHBRIDGE_SECRET_KEY" in result.output
