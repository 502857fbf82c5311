"""Alembic environment: the URL comes from the caller's config, the metadata from the tables."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

# Import every module that defines tables so autogenerate sees them all.
from techbridge.store import accounts as _accounts  # noqa: F401
from techbridge.store import deal_notes as _deal_notes  # noqa: F401
from techbridge.store import deals as _deals  # noqa: F401
from techbridge.store import jobs as _jobs  # noqa: F401
from techbridge.store import notifications as _notifications  # noqa: F401
from techbridge.store import tables as _tables  # noqa: F401
from techbridge.store import zone_settings as _zone_settings  # noqa: F401
from techbridge.store import zone_thesaurus as _zone_thesaurus  # noqa: F401
from techbridge.store.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        render_as_batch=True,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
