"""Account tables and their repository: users, hashed API tokens, and login attempts.

Login attempts live in the database (not in process memory) so rate limiting holds across every
worker process serving the app.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..domain.access import Scope
from ..domain.accounts import Role, User
from ..errors import Conflict, NotFound
from .db import write_best_effort
from .tables import Base, utcnow


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
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


class LoginAttemptRow(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key", "username", "ip", "attempted_at"),)
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
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise Conflict(f"用户名 {username} 已被使用")
    row = UserRow(
        username=username,
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
    return session.scalar(select(UserRow).where(UserRow.username == username))


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


def list_tokens(session: Session, user_id: int) -> list[ApiTokenRow]:
    stmt = select(ApiTokenRow).where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked_at.is_(None))
    return list(session.scalars(stmt.order_by(ApiTokenRow.id)))


def revoke_token(session: Session, *, user_id: int, token_id: int) -> None:
    row = session.get(ApiTokenRow, token_id)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        raise NotFound("令牌", token_id)
    row.revoked_at = utcnow()
    session.flush()


def record_login_attempt(session: Session, *, username: str, ip: str, succeeded: bool) -> None:
    session.add(LoginAttemptRow(username=username[:50], ip=ip[:64], succeeded=succeeded))
    session.flush()


def count_failed_logins(session: Session, *, username: str, ip: str, since: datetime) -> int:
    """Failures since ``since`` and since the last success for this username from this address."""
    key = (LoginAttemptRow.username == username[:50], LoginAttemptRow.ip == ip[:64])
    last_success = session.scalar(
        select(func.max(LoginAttemptRow.attempted_at)).where(*key, LoginAttemptRow.succeeded.is_(True))
    )
    start = since
    if last_success is not None:
        # SQLite hands timestamps back without a zone; they were written in UTC.
        start = max(since, last_success if last_success.tzinfo else last_success.replace(tzinfo=UTC))
    stmt = select(func.count()).where(
        *key, LoginAttemptRow.succeeded.is_(False), LoginAttemptRow.attempted_at > start
    )
    return session.scalar(stmt) or 0
