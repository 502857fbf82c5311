"""Shared fixtures. Each test gets its own empty database, migrated from scratch.

``db_url`` runs a test on SQLite and, when ``TECHBRIDGE_TEST_POSTGRES_URL`` points at a server, on
PostgreSQL too. CI sets ``TECHBRIDGE_TEST_REQUIRE_ALL=1`` so a missing server fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from techbridge.store.db import get_engine, init_db

# The suite ranks without the sentence model (fast and the same on every machine); the tests in
# tests/match/test_encoder.py load the packaged model on purpose.
os.environ.setdefault("TECHBRIDGE_ENCODER", "none")

POSTGRES_URL = os.environ.get("TECHBRIDGE_TEST_POSTGRES_URL", "")
REQUIRE_ALL = os.environ.get("TECHBRIDGE_TEST_REQUIRE_ALL") == "1"


def _require_or_skip(what: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"{what} is required in CI (TECHBRIDGE_TEST_REQUIRE_ALL=1) but is not available")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once per run; each test then starts from a copy (migrations take ~1 s per database)."""
    path = tmp_path_factory.mktemp("template") / "techbridge.sqlite3"
    url = f"sqlite:///{path}"
    init_db(url)
    get_engine(url).dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    path = tmp_path / "techbridge.sqlite3"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


def _database_url(name: str) -> str:
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    """A migrated template database; each test's database is a cheap ``CREATE DATABASE … TEMPLATE``."""
    if not POSTGRES_URL:
        yield ""
        return
    name = f"tb_template_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    init_db(_database_url(name))
    get_engine(_database_url(name)).dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url(_postgres_template: str) -> Iterator[str]:
    """A fresh database on the PostgreSQL server, dropped afterwards."""
    if not POSTGRES_URL:
        _require_or_skip("PostgreSQL (TECHBRIDGE_TEST_POSTGRES_URL)")
    name = f"tb_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template}"'))
    url = _database_url(name)
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
def _fresh_settings() -> Iterator[None]:
    """``get_settings`` is cached per process; a test that sets TECHBRIDGE_* must not see an older copy."""
    from techbridge.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2's production cost (64 MiB, 3 passes) per seeded user would make API tests crawl."""
    from argon2 import PasswordHasher

    from techbridge.services import accounts

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
