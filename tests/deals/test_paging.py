"""The API's deal list pages in the database: the SQL party filter (``store.deals.party_deals``) chooses
exactly the deals the Python rule (``domain.accounts.deal_view``) lets each reader see."""

from __future__ import annotations

from techbridge.domain.access import Scope
from techbridge.domain.accounts import Role, User, deal_view, officer
from techbridge.services import deals
from techbridge.store import deals as deal_store
from techbridge.store.db import session_scope
from techbridge.store.records import archive_record, update_record

WUXI, CHENGDU = Scope("wuxi"), Scope("chengdu")


def _user(role: Role, zone: str, organization: str, name: str = "") -> User:
    return User(
        id=7, username="reader", role=role, zone_code=zone, organization=organization, display_name=name
    )


def _by_the_python_rule(url: str, user: User) -> list[int]:
    """What ``readable_deals`` gave before the SQL filter: every visible deal, judged one by one."""
    with session_scope(url) as session:
        found = deal_store.list_deals(session, scope=user.scope)
        linked = {}
        for deal in found:
            linked.update(deals._linked(session, [deal]))  # noqa: SLF001 - the rule's own input
        return [d.id for d in found if deal_view(user, d, linked) is not None]


def test_each_reader_pages_through_exactly_the_deals_the_rule_shows(
    db_url: str, world: dict[str, int]
) -> None:
    start = deals.start_deal
    with session_scope(db_url) as session:
        start(
            session,
            demand_id=world["demand"],
            resources=[("achievement", world["patent"])],
            actor="a",
            scope=WUXI,
        )
        start(
            session, demand_id=world["demand"], resources=[("expert", world["expert"])], actor="a", scope=WUXI
        )
        start(
            session,
            enterprise="无锡丙公司",
            resources=[("pilot_platform", world["pilot"])],
            actor="a",
            scope=WUXI,
        )
        start(
            session,
            demand_id=world["chengdu_demand"],
            resources=[("instrument", world["private_instrument"]), ("expert", world["expert"])],
            actor="b",
            scope=CHENGDU,
        )
    with session_scope(db_url) as session:  # the patent changes hands after its deal, then is archived
        update_record(session, "achievement", world["patent"], {"owner": "无锡新大学"}, scope=WUXI)
        archive_record(session, "achievement", world["patent"], scope=WUXI)
    readers = [
        officer(None),
        officer("wuxi"),
        officer("chengdu"),
        officer("beijing"),
        _user(Role.ENTERPRISE, "wuxi", "无锡甲电池公司"),
        _user(Role.ENTERPRISE, "wuxi", "无锡丙公司"),
        _user(Role.ENTERPRISE, "chengdu", "成都乙公司"),
        _user(Role.ENTERPRISE, "chengdu", "无锡甲电池公司"),  # the right name in the wrong zone
        _user(Role.UNIVERSITY, "wuxi", "江南大学"),  # owned the patent when the deal was made
        _user(Role.UNIVERSITY, "wuxi", "无锡新大学"),  # owns it now
        _user(Role.UNIVERSITY, "chengdu", "四川大学"),
        _user(Role.UNIVERSITY, "chengdu", "成都所"),
        _user(Role.EXPERT, "chengdu", "四川大学", "李教授"),
        _user(Role.EXPERT, "chengdu", "四川大学", "王教授"),
        _user(Role.EXPERT, "wuxi", "四川大学", "李教授"),
    ]
    seen = set()
    for reader in readers:
        expected = _by_the_python_rule(db_url, reader)
        seen.add(len(expected))
        with session_scope(db_url) as session:
            assert [d.id for d in deals.list_deals(session, user=reader)] == expected, reader
            paged: list[int] = []
            for page in range(1, 4):
                found = deals.page_deals(session, user=reader, page=page, per_page=2)
                assert found.total == len(expected), reader
                paged += [d.id for d in found.items]
        assert paged == expected, reader
    assert seen >= {0, 1, 2, 4}  # the readers do see different lists
