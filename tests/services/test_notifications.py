"""Notifications (站内信): who gets one, the unread count, and reading them (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from techbridge.domain.accounts import Role, User
from techbridge.errors import NotFound
from techbridge.services import accounts, notifications
from techbridge.store.db import session_scope
from techbridge.store.notifications import save_prefs


def _users(url: str) -> dict[str, User]:
    specs = {
        "ent": {"role": Role.ENTERPRISE, "zone_code": "wuxi", "organization": "无锡锂能科技"},
        "ent2": {"role": Role.ENTERPRISE, "zone_code": "wuxi", "organization": "无锡锂能科技"},
        "uni": {"role": Role.UNIVERSITY, "zone_code": "wuxi", "organization": "江南大学"},
        "admin": {"role": Role.ZONE_ADMIN, "zone_code": "wuxi", "organization": None},
        "cd_ent": {"role": Role.ENTERPRISE, "zone_code": "chengdu", "organization": "无锡锂能科技"},
    }
    with session_scope(url) as s:
        return {
            name: accounts.create_user(s, username=f"{name}_user", password="a-long-password-1", **spec)
            for name, spec in specs.items()
        }


def test_notify_tells_each_listed_user_once_and_counts_unread(db_url: str) -> None:
    users = _users(db_url)
    with session_scope(db_url) as s:
        made = notifications.notify(
            s,
            [users["ent"].id, users["ent"].id, users["uni"].id, 999_999],
            "deal",
            "撮合项目进入洽谈",
            "/deals/1",
        )
    assert made == 2
    with session_scope(db_url) as s:
        assert notifications.unread_count(s, user=users["ent"]) == 1
        assert notifications.unread_count(s, user=users["admin"]) == 0
        (item,) = notifications.inbox(s, user=users["ent"])
        assert (item.kind, item.title, item.link, item.is_read) == (
            "deal",
            "撮合项目进入洽谈",
            "/deals/1",
            False,
        )
        assert item.email_state is None  # no e-mail address given: in-app only
        notifications.mark_read(s, user=users["ent"], notification_id=item.id)
    with session_scope(db_url) as s:
        assert notifications.unread_count(s, user=users["ent"]) == 0
        assert notifications.count(s, user=users["ent"]) == 1
        # Another user's notification is absent, not readable.
        with pytest.raises(NotFound):
            notifications.mark_read(s, user=users["uni"], notification_id=item.id)


def test_organisation_users_are_found_in_their_zone_only(db_url: str) -> None:
    users = _users(db_url)
    with session_scope(db_url) as s:
        found = notifications.organization_user_ids(s, zone_code="wuxi", organization="无锡锂能科技")
        admins = notifications.zone_admin_ids(s, "wuxi")
    assert found == [users["ent"].id, users["ent2"].id]
    assert admins == [users["admin"].id]


def test_a_user_who_wants_email_gets_a_pending_copy(db_url: str) -> None:
    users = _users(db_url)
    with session_scope(db_url) as s:
        save_prefs(s, users["ent"].id, email="wang@example.com", email_enabled=True)
        save_prefs(s, users["uni"].id, email="uni@example.com", email_enabled=False)
        notifications.notify(s, [users["ent"].id, users["uni"].id], "match", "新匹配", "/demands/1/matches")
    with session_scope(db_url) as s:
        assert notifications.inbox(s, user=users["ent"])[0].email_state == "pending"
        assert notifications.inbox(s, user=users["uni"])[0].email_state is None


def test_a_deal_created_or_moved_tells_everyone_on_it_but_the_actor(db_url: str) -> None:
    from techbridge.domain.access import Scope
    from techbridge.domain.deals import DealStage
    from techbridge.domain.records import Achievement, Demand
    from techbridge.services import deals
    from techbridge.store.records import iter_records, upsert_records

    users = _users(db_url)
    with session_scope(db_url) as s:
        upsert_records(
            s, "demand", [Demand(title="隔膜涂覆工艺升级", organization="无锡锂能科技", zone_code="wuxi")]
        )
        upsert_records(
            s, "achievement", [Achievement(title="陶瓷涂覆隔膜", owner="江南大学", zone_code="wuxi")]
        )
        demand = next(iter_records(s, "demand", scope=Scope.platform())).id
        patent = next(iter_records(s, "achievement", scope=Scope.platform())).id
    with session_scope(db_url) as session:
        deal = deals.start_deal(
            session,
            demand_id=demand,
            resources=[("achievement", patent)],
            actor="admin_user",
            scope=Scope("wuxi"),
        )
    with session_scope(db_url) as s:
        told = {name: notifications.inbox(s, user=u) for name, u in users.items()}
    # The enterprise (both its accounts) and the university that owns the patent; not the acting officer,
    # nor the same-named company in another zone.
    assert {name for name, items in told.items() if items} == {"ent", "ent2", "uni"}
    assert told["uni"][0].link == f"/deals/{deal.id}" and "已发起" in told["uni"][0].title
    with session_scope(db_url) as session:
        deals.advance(session, deal.id, to_stage=DealStage.CONTACTED, actor="ent_user", scope=Scope("wuxi"))
    with session_scope(db_url) as s:
        assert notifications.count(s, user=users["ent"]) == 1  # the mover is not told of their own move
        assert "进入 已对接 阶段" in notifications.inbox(s, user=users["admin"])[0].title
        assert notifications.count(s, user=users["uni"]) == 2


def test_an_overlong_email_address_is_refused_alike_on_every_database(db_url: str) -> None:
    """A 250-character address passed the format check: stored on SQLite, a DataError (500) on PostgreSQL."""
    from techbridge.errors import InvalidInput

    users = _users(db_url)
    address = "a" * 240 + "@example.cn"
    with session_scope(db_url) as s, pytest.raises(InvalidInput, match="不能超过"):
        notifications.save_email_prefs(s, user=users["ent"], email=address, email_enabled=True)
