"""Notifications (站内信): who is told what, and the optional e-mail copy.

Other use cases call ``notify`` inside their own unit of work, so a notification exists exactly when the
change it announces was committed. E-mail never happens in the request: ``notify`` marks a copy as
pending for users who asked for e-mail, and the worker (``services.worker``) sends it through SMTP.

Kinds in use: ``match`` (a new match above the zone's threshold), ``deal`` (a deal created or moved),
``booking`` (a booking requested, approved or declined), ``job`` (a background job finished).
"""

from __future__ import annotations

import re
import smtplib
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy.orm import Session

from ..config import Settings
from ..domain.access import Scope
from ..domain.accounts import ORGANIZATION_ROLES, LinkedRecords, Role, User, deal_view, owner_of
from ..domain.deals import Deal, DealStage
from ..errors import InvalidInput
from ..store import accounts as account_store
from ..store import matches as match_store
from ..store import notifications as store
from ..store import records as record_store
from ..store.db import session_scope
from ..store.notifications import EmailPrefs, Notification, OutgoingEmail
from . import zone_settings

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


# -- new matches -------------------------------------------------------------------------------------------

MatchKey = tuple[int, str, int]
"""(demand id, target kind, target id)."""


def strong_matches(session: Session, *, demand_ids: Collection[int] | None = None) -> dict[MatchKey, float]:
    """Stored matches of demands scoring at least their zone's threshold, with their scores."""
    limits = zone_settings.thresholds(session)
    default = zone_settings.ZoneOptions().match_threshold
    lowest = min([default, *limits.values()])
    rows = match_store.strong_matches(session, source_kind="demand", min_score=lowest, source_ids=demand_ids)
    return {
        (source_id, target_kind, target_id): score
        for source_id, zone, target_kind, target_id, score in rows
        if score >= limits.get(zone, default)
    }


def announce_new_matches(
    session: Session, before: dict[MatchKey, float], *, demand_ids: Collection[int] | None = None
) -> int:
    """Tell each demand's owners about matches above the threshold that were not there ``before``.

    One notification per demand (however many new matches), linking to its matches page. Returns the
    number of notifications sent.
    """
    new = [key for key in strong_matches(session, demand_ids=demand_ids) if key not in before]
    by_demand: dict[int, list[MatchKey]] = defaultdict(list)
    for key in new:
        by_demand[key[0]].append(key)
    demands = record_store.get_records(session, "demand", sorted(by_demand), scope=Scope.platform())
    sent = 0
    for demand_id, keys in sorted(by_demand.items()):
        stored = demands.get(demand_id)
        if stored is None:
            continue
        demand = stored.record
        owners = organization_user_ids(
            session, zone_code=demand.zone_code, organization=owner_of("demand", demand)
        )
        title = f"需求「{demand.title}」有 {len(keys)} 条新的高分匹配"  # type: ignore[attr-defined]
        sent += notify(session, owners, "match", title, f"/demands/{demand_id}/matches")
    return sent


# -- deals ---------------------------------------------------------------------------------------------------


def deal_parties(session: Session, deal: Deal) -> list[int]:
    """Everyone on a deal: the enterprise's users, the owners of each resource, and the officers of the
    zones involved."""
    ids = organization_user_ids(session, zone_code=deal.zone_code, organization=deal.enterprise)
    for kind in dict.fromkeys(r.kind for r in deal.resources):
        wanted = [r.record_id for r in deal.resources if r.kind == kind]
        for stored in record_store.get_records(session, kind, wanted, scope=Scope.platform()).values():
            owner = owner_of(kind, stored.record)
            ids += organization_user_ids(session, zone_code=stored.record.zone_code, organization=owner)
    for zone in [deal.zone_code, *deal.supplier_zones]:
        ids += zone_admin_ids(session, zone)
    return list(dict.fromkeys(ids))


def deal_changed(session: Session, deal: Deal, *, actor: str, linked: LinkedRecords) -> int:
    """A deal was created or moved: tell everyone on it but the person who did it.

    Each recipient is told the deal as they may read it (``deal_view``): a zone that only supplied a
    resource never learns a private demand's title or the drop reason through its 站内信.
    """
    actor_id = store.user_ids_by_username(session, [actor]).get(actor)
    sent = 0
    for user_id in deal_parties(session, deal):
        user = account_store.get_user(session, user_id)
        view = deal_view(user, deal, linked) if user is not None and user_id != actor_id else None
        if view is not None:
            sent += notify(session, [user_id], "deal", _deal_title(view), f"/deals/{deal.id}")
    return sent


def _deal_title(deal: Deal) -> str:
    if len(deal.events) <= 1:
        return f"新的撮合项目「{deal.title}」已发起 ({deal.stage_label})"
    if deal.stage == DealStage.DROPPED:
        reason = f": {deal.drop_reason}" if deal.drop_reason else ""
        return f"撮合项目「{deal.title}」已终止{reason}"
    return f"撮合项目「{deal.title}」进入 {deal.stage_label} 阶段"


# -- e-mail ------------------------------------------------------------------------------------------------

EMAIL_ATTEMPTS = 5


@dataclass(frozen=True)
class EmailReport:
    sent: int
    failed: int
    skipped: int


def save_email_prefs(session: Session, *, user: User, email: str, email_enabled: bool) -> EmailPrefs:
    """Set where e-mail copies go; an address that is not one is refused in Chinese."""
    address = email.strip()
    if len(address) > EMAIL_MAX_LENGTH:
        raise InvalidInput(f"邮箱地址不能超过 {EMAIL_MAX_LENGTH} 个字符")
    if address:
        name, parsed = parseaddr(address)
        if not EMAIL_RE.match(parsed) or name:
            raise InvalidInput(f"邮箱地址格式不正确: {address}")
    elif email_enabled:
        raise InvalidInput("开启邮件通知前请填写邮箱地址")
    return store.save_prefs(session, user.id, email=address or None, email_enabled=email_enabled)


EMAIL_MAX_LENGTH = 200
"""The longest address kept (the column's width): refused above it, alike on SQLite and PostgreSQL."""
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _message(settings: Settings, mail: OutgoingEmail) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[TechBridge] {KIND_LABELS.get(mail.kind, '通知')}: {mail.title}"
    message["From"] = settings.smtp_sender
    message["To"] = mail.to
    link = f"{settings.base_url.rstrip('/')}{mail.link}" if mail.link else ""
    lines = [
        mail.title,
        "",
        f"查看详情: {link}" if link else "",
        "",
        "—— TechBridge 科技成果转化撮合平台 (站内信的邮件副本)",
    ]
    message.set_content("\n".join(lines))
    return message


def _smtp(settings: Settings) -> smtplib.SMTP:
    if settings.smtp_security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=20)
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20)
        if settings.smtp_security == "starttls":
            client.starttls()
    if settings.smtp_username:
        client.login(settings.smtp_username, settings.smtp_password)
    return client


def send_pending_emails(url: str, settings: Settings, *, limit: int = 100) -> EmailReport:
    """Send the pending e-mail copies through the configured SMTP server (the worker calls this).

    Without a server every pending copy is marked skipped. A failure is retried on later calls, up to
    ``EMAIL_ATTEMPTS`` times; one bad address never holds up the others.
    """
    with session_scope(url) as session:
        pending = store.pending_emails(session, limit=limit)
        if not settings.smtp_host:
            for mail in pending:
                store.set_email_state(
                    session, mail.notification_id, state="skipped", error="未配置 SMTP 服务器"
                )
            return EmailReport(0, 0, len(pending))
    if not pending:
        return EmailReport(0, 0, 0)
    outcomes: list[tuple[int, str, str | None]] = []
    try:
        with _smtp(settings) as client:
            for mail in pending:
                try:
                    client.send_message(_message(settings, mail))
                    outcomes.append((mail.notification_id, "sent", None))
                except smtplib.SMTPException as exc:
                    state = "failed" if mail.attempts + 1 >= EMAIL_ATTEMPTS else "pending"
                    outcomes.append((mail.notification_id, state, str(exc)))
    except (OSError, smtplib.SMTPException) as exc:  # the server itself is unreachable or refused us
        for mail in pending:
            state = "failed" if mail.attempts + 1 >= EMAIL_ATTEMPTS else "pending"
            outcomes.append((mail.notification_id, state, f"SMTP 服务器不可用: {exc}"))
    with session_scope(url) as session:
        for notification_id, state, error in outcomes:
            store.set_email_state(session, notification_id, state=state, error=error)
    sent = sum(1 for _, state, _ in outcomes if state == "sent")
    return EmailReport(sent=sent, failed=len(outcomes) - sent, skipped=0)
