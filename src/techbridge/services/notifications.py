"""Notifications (站内信): who is told what, and the optional e-mail copy.

Other use cases call ``notify`` inside their own unit of work, so a notification exists exactly when the
change it announces was committed. E-mail never happens in the request: ``notify`` marks a copy as
pending for users who asked for e-mail, and the worker (``services.worker``) sends it through SMTP.

Kinds in use: ``match`` (a new match above the zone's threshold), ``deal`` (a deal created or moved),
``booking`` (a booking requested, approved or declined), ``job`` (a background job finished).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from ..domain.accounts import ADMIN_ROLES, ORGANIZATION_ROLES, Role, User
from ..store import notifications as store
from ..store.notifications import EmailPrefs, Notification

KIND_LABELS = {"match": "新匹配", "deal": "撮合项目", "booking": "仪器预约", "job": "后台任务"}
"""Chinese names of the notification kinds, shown beside each message."""


def notify(session: Session, user_ids: Iterable[int], kind: str, title: str, link: str = "") -> int:
    """Tell these users ``title`` (linking to ``link``, a site path such as ``/deals/3``).

    Runs in the caller's transaction; unknown or deactivated accounts are skipped and each user is told
    once however often they are listed. Returns the number of notifications created.

    >>> notify(session, [owner_id], "booking", "场发射扫描电镜 05-12 09:00 的预约待您审批", "/instruments/7")
    """
    recipients = store.active_user_ids(session, user_ids)
    return store.insert_notifications(session, user_ids=recipients, kind=kind, title=title, link=link)


def organization_user_ids(session: Session, *, zone_code: str, organization: str | None) -> list[int]:
    """The accounts speaking for an organisation in a zone (its enterprise, university or expert users)."""
    if not organization:
        return []
    roles = [r.value for r in ORGANIZATION_ROLES]
    return store.user_ids_where(session, zone_code=zone_code, roles=roles, organization=organization)


def zone_admin_ids(session: Session, zone_code: str) -> list[int]:
    return store.user_ids_where(session, zone_code=zone_code, roles=[Role.ZONE_ADMIN.value])


def admin_roles() -> list[str]:
    return [r.value for r in ADMIN_ROLES]


def inbox(
    session: Session, *, user: User, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> list[Notification]:
    return store.list_notifications(
        session, user_id=user.id, unread_only=unread_only, limit=limit, offset=offset
    )


def count(session: Session, *, user: User, unread_only: bool = False) -> int:
    return store.count_notifications(session, user_id=user.id, unread_only=unread_only)


def unread_count(session: Session, *, user: User) -> int:
    return store.count_notifications(session, user_id=user.id, unread_only=True)


def mark_read(session: Session, *, user: User, notification_id: int | None = None) -> Notification | None:
    """Mark one notification (or, without an id, all of them) read; another user's is 404."""
    return store.mark_read(session, user_id=user.id, notification_id=notification_id)


def email_prefs(session: Session, *, user: User) -> EmailPrefs:
    return store.get_prefs(session, user.id)
