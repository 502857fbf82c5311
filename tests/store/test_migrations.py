"""Migrations are the only way the schema changes: from empty to head, with no drift from the tables."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from techbridge.store.db import alembic_config, get_engine
from techbridge.store.tables import Base


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
