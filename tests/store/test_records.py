"""The record repository on every database: idempotent upsert, zone-scoped reads, paging."""

from __future__ import annotations

import pytest

from techbridge.domain.access import Scope
from techbridge.domain.records import Achievement, Demand
from techbridge.errors import Conflict, NotFound, ZoneAccessDenied
from techbridge.store.db import session_scope
from techbridge.store.matches import NewMatch, list_matches, replace_matches
from techbridge.store.records import (
    RecordQuery,
    archive_record,
    create_record,
    get_record,
    iter_stamps,
    list_records,
    update_record,
    upsert_records,
)

WUXI, CHENGDU = Scope("wuxi"), Scope("chengdu")


def _patent(number: str, title: str, **extra: object) -> Achievement:
    return Achievement(zone_code="wuxi", publication_number=number, title=title, **extra)


def test_upsert_inserts_then_updates_then_ignores_identical(db_url: str) -> None:
    first = [_patent("CN114081026A", "一种锂电池隔膜"), _patent("CN215792497U", "一种膜纸印刷生产线")]
    with session_scope(db_url) as s:
        counts = upsert_records(s, "achievement", first)
    assert (counts.inserted, counts.updated, counts.unchanged) == (2, 0, 0)
    changed = [_patent("CN114081026A", "一种锂电池隔膜及其制备方法"), first[1]]
    with session_scope(db_url) as s:
        counts = upsert_records(s, "achievement", changed)
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 1, 1)
    with session_scope(db_url) as s:
        page = list_records(s, "achievement", scope=WUXI, query=RecordQuery(sort="title"))
    assert page.total == 2
    assert [i.record.title for i in page.items] == ["一种膜纸印刷生产线", "一种锂电池隔膜及其制备方法"]


def test_private_records_stay_in_their_zone_and_shared_ones_travel(db_url: str) -> None:
    with session_scope(db_url) as s:
        upsert_records(
            s,
            "demand",
            [
                Demand(zone_code="wuxi", title="锂电池隔膜涂覆技术", organization="无锡甲公司"),
                Demand(
                    zone_code="wuxi", title="储能电站热管理", organization="无锡乙公司", visibility="shared"
                ),
            ],
        )
    with session_scope(db_url) as s:
        own = list_records(s, "demand", scope=WUXI, query=RecordQuery())
        other = list_records(s, "demand", scope=CHENGDU, query=RecordQuery())
        private_id = next(i.id for i in own.items if i.record.visibility == "private")
        assert own.total == 2
        assert [i.record.title for i in other.items] == ["储能电站热管理"]
        with pytest.raises(NotFound):
            get_record(s, "demand", private_id, scope=CHENGDU)
        shared_id = other.items[0].id
        with pytest.raises(ZoneAccessDenied):
            update_record(s, "demand", shared_id, {"title": "改名的需求标题"}, scope=CHENGDU)


def test_filters_search_and_archive(db_url: str) -> None:
    with session_scope(db_url) as s:
        upsert_records(
            s,
            "achievement",
            [
                _patent("CN114081026A", "一种锂电池隔膜", ipc_codes="H01M 10/052", trl=6),
                _patent("CN215792497U", "一种印刷生产线", ipc_codes="B41F", trl=3),
            ],
        )
    with session_scope(db_url) as s:
        by_ipc = list_records(s, "achievement", scope=WUXI, query=RecordQuery(filters={"ipc": "H01M"}))
        by_trl = list_records(s, "achievement", scope=WUXI, query=RecordQuery(filters={"trl_min": 5}))
        by_q = list_records(s, "achievement", scope=WUXI, query=RecordQuery(q="印刷"))
        assert [p.items[0].record.title for p in (by_ipc, by_trl, by_q)] == [
            "一种锂电池隔膜",
            "一种锂电池隔膜",
            "一种印刷生产线",
        ]
        with pytest.raises(ValueError, match="不能按"):
            list_records(s, "achievement", scope=WUXI, query=RecordQuery(filters={"password": "x"}))
        archive_record(s, "achievement", by_q.items[0].id, scope=WUXI)
        assert list_records(s, "achievement", scope=WUXI, query=RecordQuery()).total == 1


def test_create_refuses_duplicates_and_other_zones(db_url: str) -> None:
    with session_scope(db_url) as s:
        create_record(s, _patent("CN114081026A", "一种锂电池隔膜"), scope=WUXI)
        with pytest.raises(Conflict):
            create_record(s, _patent("CN114081026A", "一种锂电池隔膜"), scope=WUXI)
        with pytest.raises(ZoneAccessDenied):
            create_record(s, _patent("CN215792497U", "一种印刷生产线"), scope=CHENGDU)


def test_stored_matches_hide_targets_the_reader_may_not_see(db_url: str) -> None:
    with session_scope(db_url) as s:
        upsert_records(
            s, "demand", [Demand(zone_code="chengdu", title="锂电池隔膜", organization="成都公司")]
        )
        upsert_records(
            s,
            "achievement",
            [
                _patent("CN114081026A", "一种锂电池隔膜", visibility="shared"),
                _patent("CN215792497U", "一种隔膜生产线"),
            ],
        )
    with session_scope(db_url) as s:
        ids = {
            i.record.title: i.id
            for i in list_records(s, "achievement", scope=WUXI, query=RecordQuery()).items
        }
        replace_matches(
            s,
            source_kind="demand",
            source_id=1,
            source_zone="chengdu",
            target_kind="achievement",
            matches=[
                NewMatch(ids["一种隔膜生产线"], 0.9, ["隔膜"], "wuxi"),
                NewMatch(ids["一种锂电池隔膜"], 0.8, ["锂电池"], "wuxi"),
            ],
        )
    with session_scope(db_url) as s:
        seen = list_matches(s, source_kind="demand", source_id=1, scope=CHENGDU)
    assert [(m.target_id, m.rank, m.is_cross_zone) for m in seen] == [(ids["一种锂电池隔膜"], 2, True)]


def test_stamps_are_keyset_paged_through_ties_and_see_archival(db_url: str) -> None:
    titles = [f"一种锂电池隔膜{i}" for i in range(5)]
    with session_scope(db_url) as s:  # one upsert stamps every row with the same updated_at
        upsert_records(s, "achievement", [_patent(f"CN11408102{i}A", t) for i, t in enumerate(titles)])
    with session_scope(db_url) as s:
        stamps = list(iter_stamps(s, "achievement", since=None, batch_size=2))
        assert [st.id for st in stamps] == sorted(st.id for st in stamps) and len(stamps) == 5
        assert len({st.updated_at for st in stamps}) == 1 and not any(st.is_archived for st in stamps)
        assert list(iter_stamps(s, "achievement", since=stamps[0].updated_at)) == []
        archive_record(s, "achievement", stamps[2].id, scope=WUXI)
    with session_scope(db_url) as s:
        after = list(iter_stamps(s, "achievement", since=stamps[0].updated_at))
    assert [(st.id, st.is_archived) for st in after] == [(stamps[2].id, True)]
