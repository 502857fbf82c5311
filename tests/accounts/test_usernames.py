"""Usernames that differ only in case (or in full-width letters) are one user: unique and logged in as one."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from techbridge.domain.accounts import Role, username_key
from techbridge.errors import Conflict
from techbridge.services import accounts
from techbridge.store.db import alembic_config, get_engine, session_scope

PASSWORD = "correct horse 42"


def _make(url: str, username: str) -> int:
    with session_scope(url) as s:
        return accounts.create_user(
            s, username=username, password=PASSWORD, role=Role.ENTERPRISE, zone_code="wuxi", organization="甲"
        ).id


@pytest.mark.parametrize("twin", ["WUXI_CORP", "Wuxi_Corp", "ｗｕｘｉ_ｃｏｒｐ", " wuxi_corp "])
def test_a_username_differing_only_in_case_is_taken(db_url: str, twin: str) -> None:
    _make(db_url, "wuxi_corp")
    with pytest.raises(Conflict, match="已被使用"):
        _make(db_url, twin)


def test_login_ignores_the_case_of_the_username(db_url: str) -> None:
    user_id = _make(db_url, "Wuxi_Corp")
    with session_scope(db_url) as s:
        user = accounts.authenticate(s, username="WUXI_CORP", password=PASSWORD, ip="10.0.0.1")
    assert (user.id, user.username) == (user_id, "Wuxi_Corp")  # shown as it was registered


def test_username_key_folds_case_and_width() -> None:
    assert username_key("Wuxi_Corp") == username_key("ｗｕｘｉ_ｃｏｒｐ") == "wuxi_corp"
    assert username_key("Straße") == username_key("STRASSE")


def test_the_migration_renames_later_case_twins(db_url: str) -> None:
    """An existing database may already hold `admin` and `Admin`: the later one gets a distinct name."""
    config = alembic_config(db_url)
    command.downgrade(config, "dupkey01")
    engine = get_engine(db_url)
    with engine.begin() as conn:
        for name in ("admin", "Admin", "ADMIN", "other"):
            conn.execute(
                text(
                    "INSERT INTO users (username, display_name, password_hash, role, is_active, created_at) "
                    "VALUES (:u, :u, 'x', 'platform_admin', :t, CURRENT_TIMESTAMP)"
                ),
                {"u": name, "t": True},
            )
    command.upgrade(config, "heads")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, username, username_key FROM users ORDER BY id")).all()
    assert [(r.username, r.username_key) for r in rows] == [
        ("admin", "admin"),
        (f"Admin-{rows[1].id}", f"admin-{rows[1].id}"),
        (f"ADMIN-{rows[2].id}", f"admin-{rows[2].id}"),
        ("other", "other"),
    ]
