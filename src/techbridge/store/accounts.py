"""Account tables and their repository: users, browser sessions, hashed API tokens, and login attempts.

Login attempts live in the database (not in process memory) so rate limiting holds across every
worker process serving the app.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, delete, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..domain.access import Scope
from ..domain.accounts import Role, User, username_key
from ..errors import Conflict, NotFound
from .db import write_best_effort
from .tables import Base, utcnow


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    username_key: Mapped[str] = mapped_column(String(200), unique=True)
    """``domain.accounts.username_key(username)``: what makes two names the same user."""
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    zone_code: Mapped[str | None] = mapped_column(String(32), index=True)
    organization: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiTokenRow(Base):
    """Only a SHA-256 of each token is kept; the token itself is shown once, when it is made."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserSessionRow(Base):
    """A browser session. The cookie carries a random key; only its SHA-256 is kept, like a token's."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttemptRow(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_key", "username", "ip", "attempted_at"),
        Index("ix_login_attempts_ip", "ip", "attempted_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50))
    ip: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def row_to_user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        zone_code=row.zone_code,
        organization=row.organization,
        is_active=row.is_active,
    )


def insert_user(
    session: Session,
    *,
    username: str,
    password_hash: str,
    role: Role,
    zone_code: str | None,
    organization: str | None,
    display_name: str,
) -> User:
    key = username_key(username)
    if session.scalar(select(UserRow.id).where(UserRow.username_key == key)) is not None:
        raise Conflict(f"用户名 {username} 已被使用 (不区分大小写)")
    row = UserRow(
        username=username,
        username_key=key,
        password_hash=password_hash,
        role=role.value,
        zone_code=zone_code,
        organization=organization,
        display_name=display_name,
    )
    session.add(row)
    session.flush()
    return row_to_user(row)


def find_user_row(session: Session, username: str) -> UserRow | None:
    """The account a typed username names, whatever its case."""
    return session.scalar(select(UserRow).where(UserRow.username_key == username_key(username)))


def load_user_row(session: Session, user_id: int, *, scope: Scope) -> UserRow:
    """A user the scope may manage; another zone's user is reported as absent."""
    row = session.get(UserRow, user_id)
    if row is None or (scope.zone_code is not None and row.zone_code != scope.zone_code):
        raise NotFound("用户", user_id)
    return row


def get_user(session: Session, user_id: int) -> User | None:
    row = session.get(UserRow, user_id)
    return row_to_user(row) if row is not None else None


def list_users(session: Session, *, scope: Scope) -> list[User]:
    stmt = select(UserRow).order_by(UserRow.id)
    if scope.zone_code is not None:
        stmt = stmt.where(UserRow.zone_code == scope.zone_code)
    return [row_to_user(row) for row in session.scalars(stmt)]


def insert_token(
    session: Session, *, user_id: int, name: str, token_hash: str, prefix: str, expires_at: datetime | None
) -> ApiTokenRow:
    row = ApiTokenRow(user_id=user_id, name=name, token_hash=token_hash, prefix=prefix, expires_at=expires_at)
    session.add(row)
    session.flush()
    return row


def find_token(session: Session, token_hash: str) -> ApiTokenRow | None:
    return session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash))


def record_token_use(session: Session, token_id: int, when: datetime) -> bool:
    """Note a token's last use, best effort: a busy database skips it rather than fail the request."""
    stmt = update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=when)
    return write_best_effort(session, lambda connection: connection.execute(stmt))


def record_session_seen(session: Session, session_id: int, when: datetime) -> bool:
    """Note when a browser session was last seen, best effort like ``record_token_use``."""
    stmt = update(UserSessionRow).where(UserSessionRow.id == session_id).values(last_seen_at=when)
    return write_best_effort(session, lambda connection: connection.execute(stmt))


def list_tokens(session: Session, user_id: int) -> list[ApiTokenRow]:
    stmt = select(ApiTokenRow).where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
    return list(session.scalars(stmt.order_by(ApiTokenRow.id)))


def revoke_token(session: Session, *, user_id: int, token_id: int) -> None:
    row = session.get(ApiTokenRow, token_id)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        raise NotFound("令牌", token_id)
    row.revoked_at = utcnow()
    session.flush()


def insert_session(session: Session, *, user_id: int, key_hash: str, expires_at: datetime) -> UserSessionRow:
    row = UserSessionRow(user_id=user_id, key_hash=key_hash, expires_at=expires_at)
    session.add(row)
    session.flush()
    return row


def find_session(session: Session, key_hash: str) -> UserSessionRow | None:
    return session.scalar(select(UserSessionRow).where(UserSessionRow.key_hash == key_hash))


def prune_sessions(session: Session, *, user_id: int, now: datetime) -> None:
    """Forget a user's sessions that can never be used again, so the table stays the size of who is in."""
    session.execute(
        delete(UserSessionRow).where(
            UserSessionRow.user_id == user_id,
            or_(UserSessionRow.expires_at <= now, UserSessionRow.revoked_at.is_not(None)),
        )
    )


def revoke_credentials(
    session: Session, *, user_id: int, keep_session_hash: str | None = None, keep_token_id: int | None = None
) -> None:
    """End every browser session and API token of a user, except the one named to keep."""
    now = utcnow()
    sessions = update(UserSessionRow).where(
        UserSessionRow.user_id == user_id, UserSessionRow.revoked_at.is_(None)
    )
    if keep_session_hash is not None:
        sessions = sessions.where(UserSessionRow.key_hash != keep_session_hash)
    tokens = update(ApiTokenRow).where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
    if keep_token_id is not None:
        tokens = tokens.where(ApiTokenRow.id != keep_token_id)
    session.execute(sessions.values(revoked_at=now).execution_options(synchronize_session=False))
    session.execute(tokens.values(revoked_at=now).execution_options(synchronize_session=False))
    session.expire_all()


def record_login_attempt(session: Session, *, username: str, ip: str, succeeded: bool) -> None:
    session.add(LoginAttemptRow(username=username[:50], ip=ip[:64], succeeded=succeeded))
    session.flush()


def delete_login_attempts(
    session: Session, *, before: datetime, limit: int, username: str | None = None, ip: str | None = None
) -> int:
    """Delete up to ``limit`` attempts made before ``before``: those of ``username`` or of ``ip`` when
    either is given, else of anyone. On PostgreSQL rows another transaction is deleting are skipped, not
    waited for (two logins pruning overlapping rows must not block or deadlock each other)."""
    pick = select(LoginAttemptRow.id).where(LoginAttemptRow.attempted_at < before)
    keys = []
    if username is not None:
        keys.append(LoginAttemptRow.username == username[:50])
    if ip is not None:
        keys.append(LoginAttemptRow.ip == ip[:64])
    if keys:
        pick = pick.where(or_(*keys))
    pick = pick.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = delete(LoginAttemptRow).where(LoginAttemptRow.id.in_(pick))
    result = session.execute(stmt.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def failed_logins(
    session: Session, *, since: datetime, username: str | None = None, ip: str | None = None
) -> tuple[int, datetime | None]:
    """How many attempts failed since ``since`` for this username and/or address, and when the last did.

    With a username, the count starts after that username's last success (from the same address, when
    one is given): a success proves the guesser is the owner. An address alone never resets: logging in to
    one's own account must not clear guesses at other people's.
    """
    key = []
    if username is not None:
        key.append(LoginAttemptRow.username == username[:50])
    if ip is not None:
        key.append(LoginAttemptRow.ip == ip[:64])
    start = since
    if username is not None:
        last_success = session.scalar(
            select(func.max(LoginAttemptRow.attempted_at)).where(*key, LoginAttemptRow.succeeded.is_(True))
        )
        if last_success is not None:
            start = max(since, _aware(last_success))
    count, last = session.execute(
        select(func.count(), func.max(LoginAttemptRow.attempted_at)).where(
            *key, LoginAttemptRow.succeeded.is_(False), LoginAttemptRow.attempted_at > start
        )
    ).one()
    return count or 0, _aware(last) if last is not None else None


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """What pages call people: each username's display name (the username itself when it has none)."""
    wanted = sorted(set(usernames))
    if not wanted:
        return {}
    rows = session.execute(select(UserRow.username, UserRow.display_name).where(UserRow.username.in_(wanted)))
    return {username: name or username for username, name in rows}


def users_of_organizations(session: Session, organizations: Iterable[str]) -> list[User]:
    """Active accounts of the named organisations: the people on the other side of a deal or a booking."""
    wanted = sorted({o for o in organizations if o})
    if not wanted:
        return []
    stmt = select(UserRow).where(UserRow.organization.in_(wanted), UserRow.is_active.is_(True))
    return [row_to_user(row) for row in session.scalars(stmt.order_by(UserRow.id))]
