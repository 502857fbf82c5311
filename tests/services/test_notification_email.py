"""E-mail copies of notifications, delivered through a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from techbridge.config import Settings
from techbridge.domain.accounts import Role
from techbridge.services import accounts, notifications
from techbridge.services.worker import Worker
from techbridge.store.db import session_scope
from techbridge.store.notifications import save_prefs


class Inbox(Message):
    """Keeps every message the server receives."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[EmailMessage] = []

    def handle_message(self, message: EmailMessage) -> None:  # type: ignore[override]
        self.messages.append(message)

    def prepare_message(self, session, envelope):  # type: ignore[no-untyped-def]
        return message_from_bytes(envelope.original_content, policy=policy.default)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _users(url: str) -> dict[str, int]:
    with session_scope(url) as s:
        made = {
            name: accounts.create_user(
                s,
                username=name,
                password="a-long-password-1",
                role=Role.ENTERPRISE,
                zone_code="wuxi",
                organization="无锡甲公司",
            ).id
            for name in ("wang", "liu")
        }
        save_prefs(s, made["wang"], email="wang@example.com", email_enabled=True)
        save_prefs(s, made["liu"], email="liu@example.com", email_enabled=False)
    return made


def test_the_worker_mails_a_copy_to_users_who_asked_for_one(
    db_url: str, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    users = _users(db_url)
    with session_scope(db_url) as s:
        notifications.notify(
            s, users.values(), "match", "需求「锂电池隔膜涂覆」有 2 条新的高分匹配", "/demands/7/matches"
        )
    settings = Settings(
        database_url=db_url,
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_sender="noreply@techbridge.example",
        base_url="https://tb.example.cn",
    )
    Worker(db_url, settings).housekeeping(force=True)
    (mail,) = inbox.messages  # liu turned e-mail off
    assert mail["To"] == "wang@example.com" and mail["From"] == "noreply@techbridge.example"
    assert mail["Subject"] == "[TechBridge] 新匹配: 需求「锂电池隔膜涂覆」有 2 条新的高分匹配"
    assert "https://tb.example.cn/demands/7/matches" in mail.get_content()
    with session_scope(db_url) as s:
        wang = accounts.active_user(s, users["wang"])
        assert notifications.inbox(s, user=wang)[0].email_state == "sent"
    Worker(db_url, settings).housekeeping(force=True)
    assert len(inbox.messages) == 1  # sent once


def test_an_unreachable_server_leaves_the_copy_pending_for_a_retry(db_url: str, tmp_path: Path) -> None:
    users = _users(db_url)
    with session_scope(db_url) as s:
        notifications.notify(s, [users["wang"]], "deal", "撮合项目进入洽谈阶段", "/deals/1")
    settings = Settings(database_url=db_url, data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=_free_port())
    report = notifications.send_pending_emails(db_url, settings)
    assert (report.sent, report.failed) == (0, 1)
    with session_scope(db_url) as s:
        wang = accounts.active_user(s, users["wang"])
        assert notifications.inbox(s, user=wang)[0].email_state == "pending"


def test_without_an_smtp_server_notifications_stay_in_app(db_url: str, tmp_path: Path) -> None:
    users = _users(db_url)
    with session_scope(db_url) as s:
        notifications.notify(s, [users["wang"]], "deal", "撮合项目进入洽谈阶段", "/deals/1")
    report = notifications.send_pending_emails(db_url, Settings(database_url=db_url, data_dir=tmp_path))
    assert report.skipped == 1
    with session_scope(db_url) as s:
        wang = accounts.active_user(s, users["wang"])
        assert notifications.unread_count(s, user=wang) == 1
