"""In-app notifications (站内信) and each user's e-mail preference.

A notification row is the message itself and, when the user wants e-mail, the state of its delivery:
the worker sends ``email_state='pending'`` rows through SMTP, so a request never waits on a mail server.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..errors import NotFound
from .accounts import UserRow
from .tables import Base, utcnow


class NotificationRow(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_inbox", "user_id", "read_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    email_state: Mapped[str | None] = mapped_column(String(10), index=True)
    email_error: Mapped[str | None] = mapped_column(String(300))
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)


class NotificationPrefRow(Base):
    """Where and whether a user wants e-mail copies of their notifications."""

    __tablename__ = "notification_prefs"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(200))
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=False)


@dataclass(frozen=True)
class Notification:
    id: int
    user_id: int
    kind: str
    title: str
    link: str
    created_at: datetime
    read_at: datetime | None
    email_state: str | None

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


@dataclass(frozen=True)
class EmailPrefs:
    email: str | None
    email_enabled: bool


@dataclass(frozen=True)
class OutgoingEmail:
    """A pending e-mail copy: the notification and the address it goes to."""

    notification_id: int
    to: str
    kind: str
    title: str
    link: str
    attempts: int


def _notification(row: NotificationRow) -> Notification:
    return Notification(
        id=row.id,
        user_id=row.user_id,
        kind=row.kind,
        title=row.title,
        link=row.link,
        created_at=row.created_at,
        read_at=row.read_at,
        email_state=row.email_state,
    )


def active_user_ids(session: Session, user_ids: Iterable[int]) -> list[int]:
    """The ids among ``user_ids`` of accounts that exist and are active, in the order given."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted:
        return []
    found = set(session.scalars(select(UserRow.id).where(UserRow.id.in_(wanted), UserRow.is_active)))
    return [i for i in wanted if i in found]


def email_wanted(session: Session, user_ids: Sequence[int]) -> set[int]:
    stmt = select(NotificationPrefRow.user_id).where(
        NotificationPrefRow.user_id.in_(list(user_ids)),
        NotificationPrefRow.email_enabled,
        NotificationPrefRow.email.is_not(None),
    )
    return set(session.scalars(stmt))


def insert_notifications(
    session: Session, *, user_ids: Sequence[int], kind: str, title: str, link: str
) -> int:
    """One notification per user; those who want e-mail get a pending copy for the worker to send."""
    if not user_ids:
        return 0
    mailed = email_wanted(session, user_ids)
    now = utcnow()
    session.add_all(
        NotificationRow(
            user_id=user_id,
            kind=kind[:20],
            title=title[:300],
            link=link[:500],
            created_at=now,
            email_state="pending" if user_id in mailed else None,
        )
        for user_id in user_ids
    )
    session.flush()
    return len(user_ids)


def list_notifications(
    session: Session, *, user_id: int, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> list[Notification]:
    stmt = select(NotificationRow).where(NotificationRow.user_id == user_id)
    if unread_only:
        stmt = stmt.where(NotificationRow.read_at.is_(None))
    stmt = stmt.order_by(NotificationRow.id.desc()).offset(offset).limit(limit)
    return [_notification(row) for row in session.scalars(stmt)]


def count_notifications(session: Session, *, user_id: int, unread_only: bool = False) -> int:
    stmt = select(func.count()).select_from(NotificationRow).where(NotificationRow.user_id == user_id)
    if unread_only:
        stmt = stmt.where(NotificationRow.read_at.is_(None))
    return session.scalar(stmt) or 0


def mark_read(session: Session, *, user_id: int, notification_id: int | None = None) -> Notification | None:
    """Mark one of the user's notifications read (another user's is absent), or all when no id is given."""
    stmt = update(NotificationRow).where(
        NotificationRow.user_id == user_id, NotificationRow.read_at.is_(None)
    )
    if notification_id is None:
        session.execute(stmt.values(read_at=utcnow()))
        return None
    row = session.get(NotificationRow, notification_id)
    if row is None or row.user_id != user_id:
        raise NotFound("通知", notification_id)
    if row.read_at is None:
        row.read_at = utcnow()
    session.flush()
    return _notification(row)


def get_prefs(session: Session, user_id: int) -> EmailPrefs:
    row = session.get(NotificationPrefRow, user_id)
    return (
        EmailPrefs(email=None, email_enabled=False)
        if row is None
        else EmailPrefs(row.email, row.email_enabled)
    )


def save_prefs(session: Session, user_id: int, *, email: str | None, email_enabled: bool) -> EmailPrefs:
    row = session.get(NotificationPrefRow, user_id)
    if row is None:
        row = NotificationPrefRow(user_id=user_id)
        session.add(row)
    row.email, row.email_enabled = email, email_enabled
    session.flush()
    return EmailPrefs(email, email_enabled)


def pending_emails(session: Session, *, limit: int = 100) -> list[OutgoingEmail]:
    """E-mail copies waiting to be sent, oldest first, with the address the user has now."""
    stmt = (
        select(NotificationRow, NotificationPrefRow.email)
        .join(NotificationPrefRow, NotificationPrefRow.user_id == NotificationRow.user_id)
        .where(NotificationRow.email_state == "pending")
        .order_by(NotificationRow.id)
        .limit(limit)
    )
    return [
        OutgoingEmail(row.id, email or "", row.kind, row.title, row.link, row.email_attempts)
        for row, email in session.execute(stmt)
    ]


def set_email_state(session: Session, notification_id: int, *, state: str, error: str | None = None) -> None:
    values: dict[str, object] = {"email_state": state, "email_error": (error or None) and error[:300]}
    values["email_attempts"] = NotificationRow.email_attempts + 1
    session.execute(update(NotificationRow).where(NotificationRow.id == notification_id).values(**values))


def delete_read_before(session: Session, before: datetime) -> int:
    """Remove read notifications older than ``before`` (the worker's periodic cleanup)."""
    result = session.execute(
        delete(NotificationRow).where(
            NotificationRow.read_at.is_not(None), NotificationRow.created_at < before
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def user_ids_where(
    session: Session, *, zone_code: str | None, roles: Iterable[str], organization: str | None = None
) -> list[int]:
    """Active accounts of these roles in a zone (and of one organisation, when given)."""
    stmt = select(UserRow.id).where(UserRow.is_active, UserRow.role.in_(list(roles)))
    stmt = stmt.where(UserRow.zone_code.is_(None) if zone_code is None else UserRow.zone_code == zone_code)
    if organization is not None:
        stmt = stmt.where(UserRow.organization == organization)
    return list(session.scalars(stmt.order_by(UserRow.id)))


def user_ids_by_username(session: Session, usernames: Iterable[str]) -> dict[str, int]:
    names = list(dict.fromkeys(usernames))
    if not names:
        return {}
    stmt = select(UserRow.username, UserRow.id).where(UserRow.username.in_(names))
    return {str(name): int(user_id) for name, user_id in session.execute(stmt).all()}
