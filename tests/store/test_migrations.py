"""Migrations are the only way the schema changes: from empty to head, with no drift from the tables."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from techbridge.domain.access import Scope
from techbridge.domain.records import Demand
from techbridge.errors import Conflict
from techbridge.store.db import alembic_config, get_engine, session_scope
from techbridge.store.records import create_record
from techbridge.store.tables import Base

WUXI = Scope("wuxi")


def test_migrations_match_the_tables(db_url: str) -> None:
    # `alembic check` fails when autogenerate would find any difference between tables and migrations.
    command.check(alembic_config(db_url))


def test_every_table_is_created_by_a_migration(db_url: str) -> None:
    created = set(inspect(get_engine(db_url)).get_table_names())
    assert set(Base.metadata.tables) <= created
    assert "alembic_version" in created


def test_revisions_form_a_tree_rooted_at_the_initial_schema() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    bases = script.get_bases()
    assert bases == ["0001"]
    assert len(script.get_heads()) == 1, "merge parallel revisions so `alembic upgrade head` works"
    assert all(r.down_revision is not None for r in script.walk_revisions() if r.revision != "0001")


def test_dupkey02_splits_keys_that_only_digit_separators_told_apart(tmp_path: Path) -> None:
    """Rows stored under the old keys get the new ones, so "型号 11-2" no longer clashes with "型号 1-12"."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    config = alembic_config(url)
    command.upgrade(config, "dupkey01")
    legacy = importlib.import_module("techbridge.store.migrations.versions.dupkey02_digit_separators")
    old_key = legacy._legacy_content_key("wuxi", "无锡甲公司", "型号 1-12 测试需求")
    with get_engine(url).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO demands (natural_key, duplicate_key, content_hash, zone_code, visibility, title,"
                " description, keywords, organization, status, created_at, updated_at)"
                " VALUES (:key, :dup, 'x', 'wuxi', 'private', '型号 1-12 测试需求', '', '[]', '无锡甲公司',"
                " 'open', '2026-01-01', '2026-01-01')"
            ),
            {"key": old_key, "dup": legacy._legacy_near_duplicate_key("无锡甲公司", "型号 1-12 测试需求")},
        )
    command.upgrade(config, "dupkey02")
    stored = Demand(zone_code="wuxi", title="型号 1-12 测试需求", organization="无锡甲公司")
    with get_engine(url).connect() as conn:
        assert conn.execute(text("SELECT natural_key, duplicate_key FROM demands")).one() == (
            stored.natural_key(),
            stored.duplicate_key(),
        )
    with session_scope(url) as s:
        create_record(
            s, Demand(zone_code="wuxi", title="型号 11-2 测试需求", organization="无锡甲公司"), scope=WUXI
        )
        with pytest.raises(Conflict):
            create_record(
                s,
                Demand(zone_code="wuxi", title="型号１－１２测试需求", organization="无锡甲公司"),
                scope=WUXI,
            )
    command.downgrade(config, "dupkey01")
    with get_engine(url).connect() as conn:
        keys = dict(conn.execute(text("SELECT title, natural_key FROM demands")).all())
    # Back on the old rule the first row gets its old key; the second would fold onto it and keeps its own.
    assert keys["型号 1-12 测试需求"] == old_key and keys["型号 11-2 测试需求"] != old_key
