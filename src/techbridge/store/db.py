"""Engine and sessions. One engine per database URL; the schema is created only by migrations.

A busy database degrades gracefully instead of failing with a 500: SQLite runs in WAL mode (readers never
wait for the writer) and a writer waits up to a busy timeout for the single write lock; a lock that is not
released in time (a long import, ``match --all``), or a PostgreSQL lock timeout, serialization failure or
deadlock, becomes ``DatabaseBusy``, which the API and the pages answer with 503 and ``Retry-After``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from ..errors import Busy

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_S = 20.0
"""How long a SQLite writer waits for the write lock (override per URL: ``sqlite:///db.sqlite3?timeout=5``)."""
POOL_SIZE, POOL_OVERFLOW = 20, 40
"""Connections per engine: at least the server's worker threads (40), so a burst of requests waits for
the database, not for a pooled connection (the default 5 + 10 timed out at 50 clients)."""
RETRY_AFTER_S = 5
_POSTGRES_BUSY = frozenset({"40001", "40P01", "55P03"})
"""serialization_failure, deadlock_detected, lock_not_available (lock_timeout)."""
_SQLITE_BUSY = frozenset({5, 6})
"""SQLITE_BUSY and SQLITE_LOCKED, whatever their extended code."""

log = logging.getLogger(__name__)


class DatabaseBusy(Busy):
    """Another transaction holds the lock this one needs for longer than the busy timeout."""

    def __init__(self) -> None:
        super().__init__(
            "数据库繁忙 (例如正在导入或批量匹配), 请稍后重试 (database busy, retry later)", RETRY_AFTER_S
        )


def is_busy(exc: BaseException) -> bool:
    """A lock wait that timed out or a transaction the database rolled back for a conflict: worth a retry."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, OperationalError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _POSTGRES_BUSY:
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_BUSY
    return "database is locked" in str(orig)


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets the web app read while an import writes; NORMAL sync is safe under WAL.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    return on_connect


def _busy_timeout_ms(url: URL) -> int:
    return round(float(url.query.get("timeout", BUSY_TIMEOUT_S)) * 1000)  # type: ignore[arg-type]


@lru_cache(maxsize=16)
def get_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        busy_ms = _busy_timeout_ms(parsed)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )
        event.listen(engine, "connect", _sqlite_pragmas(busy_ms))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def init_db(url: str) -> None:
    """Bring the schema to the latest migration (creates the SQLite file on first use)."""
    get_engine(url)  # creates the parent directory of a SQLite file
    command.upgrade(alembic_config(url), "heads")


@lru_cache(maxsize=16)
def _session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back everything on any error.

    A lock that stays busy past the timeout is raised as ``DatabaseBusy`` (503), not as a server error.
    """
    session = _session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException as exc:
        session.rollback()
        if is_busy(exc):
            raise DatabaseBusy() from exc
        raise
    finally:
        session.close()


def write_best_effort(session: Session, work: Callable[[Connection], object], *, wait_ms: int = 200) -> bool:
    """Run ``work`` in a short transaction of its own, for writes nobody must wait or fail for (a token's
    last use). It waits ``wait_ms`` at most for a lock; a database that stays busy skips it (logged) and
    the request it serves goes on. Returns whether it was written."""
    engine = session.get_bind()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        try:
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
            else:
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
            work(connection)
            connection.commit()
            return True
        except OperationalError as exc:
            if not is_busy(exc):
                raise
            connection.rollback()
            log.warning("bookkeeping write skipped, database busy: %s", exc.orig)
            return False
        finally:
            if sqlite:  # the pooled connection goes back with its normal patience
                connection.exec_driver_sql(f"PRAGMA busy_timeout={_busy_timeout_ms(engine.url)}")
                connection.rollback()
