"""Shared fixtures. Each test gets its own empty database, migrated from scratch.

``db_url`` runs a test on SQLite and, when ``TECHBRIDGE_TEST_POSTGRES_URL`` points at a server, on
PostgreSQL too. CI sets ``TECHBRIDGE_TEST_REQUIRE_ALL=1`` so a missing server fails instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from techbridge.store.db import get_engine, init_db

POSTGRES_URL = os.environ.get("TECHBRIDGE_TEST_POSTGRES_URL", "")
REQUIRE_ALL = os.environ.get("TECHBRIDGE_TEST_REQUIRE_ALL") == "1"


def _require_or_skip(what: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"{what} is required in CI (TECHBRIDGE_TEST_REQUIRE_ALL=1) but is not available")
    pytest.skip(f"{what} not available")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'techbridge.sqlite3'}"
    init_db(url)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL server, dropped afterwards."""
    if not POSTGRES_URL:
        _require_or_skip("PostgreSQL (TECHBRIDGE_TEST_POSTGRES_URL)")
    name = f"tb_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    init_db(url)
    yield url
    get_engine(url).dispose()
    get_engine.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test once per supported database."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2's production cost (64 MiB, 3 passes) per seeded user would make API tests crawl."""
    from argon2 import PasswordHasher

    from techbridge.services import accounts

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
