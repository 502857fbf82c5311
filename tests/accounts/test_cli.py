"""``techbridge user create`` makes a working account from the command line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from techbridge.cli import _register, app
from techbridge.config import get_settings
from techbridge.services.accounts import authenticate
from techbridge.store.db import session_scope


def test_user_create_makes_an_account_that_can_log_in(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TECHBRIDGE_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    _register()
    runner = CliRunner()
    args = ["user", "create", "--username", "admin", "--role", "platform_admin", "--password", "s3cret-pass"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "已创建平台管理员 admin" in result.output
    with session_scope(sqlite_url) as s:
        assert authenticate(s, username="admin", password="s3cret-pass", ip="cli").role == "platform_admin"
    refused = runner.invoke(
        app, ["user", "create", "--username", "u1", "--role", "enterprise", "--password", "x" * 9]
    )
    assert refused.exit_code != 0
    get_settings.cache_clear()
