"""A zone's own related words: its demands find records that use them, other zones' demands do not, a bad
upload changes nothing, only the zone's administrators (and the platform's) read or change them."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select

from techbridge.config import Settings
from techbridge.domain.access import Scope
from techbridge.domain.accounts import Role, User, officer
from techbridge.domain.records import Achievement, Demand
from techbridge.errors import InvalidInput, PermissionDenied
from techbridge.match import Kind
from techbridge.services import matching, zone_thesaurus
from techbridge.services.matching import match_record, run_batch
from techbridge.store.db import alembic_config, get_engine, session_scope
from techbridge.store.jobs import JobRow
from techbridge.store.matches import list_matches
from techbridge.store.records import iter_records, upsert_records
from techbridge.store.zone_thesaurus import TermRow

WUXI_ADMIN = officer("wuxi")
CHENGDU_ADMIN = officer("chengdu")
PLATFORM = officer(None)
ENTERPRISE = User(id=9, username="wuxi_ent", role=Role.ENTERPRISE, zone_code="wuxi", organization="某酒厂")
GOOD = "term,related,relation\n白酒,酒糟|酱香,下位\n".encode()
QUESTION = "白酒烘干"


# The catalogue is three records, too few for 匹配度 to mean what it means over a zone's catalogue:
# these tests keep every record with evidence (a shared word), which is what a related word supplies.
EVIDENCE_ONLY = {"min_match": 0.0}


@pytest.fixture
def distillery(db_url: str) -> str:
    """A Wuxi and a Chengdu demand that say 白酒, and a shared record that says 酒糟 and no word of
    theirs: nothing for it to be listed by until a zone relates 白酒 to 酒糟."""
    with session_scope(db_url) as session:
        upsert_records(
            session,
            "demand",
            [
                Demand(title=QUESTION, organization="无锡某酒厂", zone_code="wuxi"),
                Demand(title=QUESTION, organization="成都某酒厂", zone_code="chengdu"),
            ],
        )
        upsert_records(
            session,
            "achievement",
            [
                Achievement(title="酒糟综合利用设备", zone_code="xian", visibility="shared"),
                Achievement(title="一种锂电池隔膜", zone_code="xian", visibility="shared"),
                Achievement(title="服务器机箱的散热结构", zone_code="xian", visibility="shared"),
            ],
        )
    return db_url


def _ids(url: str, kind: str) -> dict[str, int]:
    """Zone → id of its first record of ``kind``."""
    with session_scope(url) as session:
        found = reversed(list(iter_records(session, kind, scope=Scope.platform())))
        return {s.record.zone_code: s.id for s in found}


def _found(url: str, zone: str) -> list:
    """The stored achievement matches of ``zone``'s demand."""
    with session_scope(url) as session:
        return list_matches(
            session,
            source_kind="demand",
            source_id=_ids(url, "demand")[zone],
            target_kind="achievement",
            scope=Scope.platform(),
        )


def _replace(url: str, data: bytes, *, user: User = WUXI_ADMIN, zone: str = "wuxi") -> int:
    with session_scope(url) as session:
        return zone_thesaurus.replace(session, user=user, zone_code=zone, data=data)


def _rows(url: str, zone: str = "wuxi") -> list[TermRow]:
    with session_scope(url) as session:
        return zone_thesaurus.rows(session, user=PLATFORM, zone_code=zone)


def _match(url: str, zone: str, settings: Settings) -> list:
    with session_scope(url) as session:
        demand = _ids(url, "demand")[zone]
        return match_record(session, "demand", demand, scope=Scope.platform(), settings=settings)[
            Kind.ACHIEVEMENT
        ]


def test_a_zone_s_related_word_finds_a_record_for_its_own_demands(distillery: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", match_params=EVIDENCE_ONLY)
    assert _match(distillery, "wuxi", settings) == []  # no shared word (and no encoder in the tests)
    assert _replace(distillery, GOOD) == 1
    found = _match(distillery, "wuxi", settings)
    assert [m.id for m in found] == [str(_ids(distillery, "achievement")["xian"])]
    related = [r for r in found[0].reasons if r.code == "related_terms"]
    assert [r.text for r in related] == ["记录使用需求用词的相关词: 酒糟 (白酒)"]
    assert _match(distillery, "chengdu", settings) == []  # another zone's demand: the packaged words only


def test_the_batch_re_ranks_the_zone_s_demands_after_its_words_change(
    distillery: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", match_params=EVIDENCE_ONLY)
    run_batch(distillery, settings=settings)
    assert _found(distillery, "wuxi") == [] and run_batch(distillery, settings=settings).sources == 0
    _replace(distillery, GOOD)
    with session_scope(distillery) as session:  # the upload queued the batch run
        assert session.scalars(select(JobRow.kind)).all() == ["batch_match"]
    report = run_batch(distillery, settings=settings)
    assert report.sources == 1  # Wuxi's demand, not Chengdu's, nothing else
    assert "related_terms" in [r["code"] for r in _found(distillery, "wuxi")[0].reasons]
    assert _found(distillery, "chengdu") == []
    assert run_batch(distillery, settings=settings).sources == 0
    _replace(distillery, b"term,related,relation\n")  # emptied: re-ranked again, the record goes
    assert run_batch(distillery, settings=settings).sources == 1
    assert _found(distillery, "wuxi") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"term,related\n", "上传的文件: 表头应为 term,related,relation"),
        (
            "term,related,relation\n白酒,酒糟,下位\n黄酒,,同义\n".encode(),
            "上传的文件 第 3 行 related: 没有相关词",
        ),
        (
            "term,related,relation\n白酒,酒糟,上位\n".encode(),
            "上传的文件 第 2 行 relation: 应为 同义 或 下位",
        ),
        ("term,related,relation\n酒,酒糟,下位\n".encode(), "上传的文件 第 2 行 term: 词条至少两个字"),
        (
            "term,related,relation\n白酒,酒糟,下位\n白酒,酱香,下位\n".encode(),
            "上传的文件 第 3 行 term: 与第 2 行的词条和关系重复",
        ),
        (
            f"term,related,relation\n{'酒' * 51},酒糟,下位\n".encode(),
            "上传的文件 第 2 行 term: 词条不超过 50 个字",
        ),
        (
            f"term,related,relation\n白酒,{'|'.join(['酒糟'] * 400)},下位\n".encode(),
            "上传的文件 第 2 行 related: 相关词合计不超过 1000 个字",
        ),
        (  # the first bad row is named, whichever check refuses it
            f"term,related,relation\n{'酒' * 51},酒糟,下位\n黄酒,,同义\n".encode(),
            "上传的文件 第 2 行 term: 词条不超过 50 个字",
        ),
        (
            ("term,related,relation\n" + "".join(f"词条{i},相关{i},同义\n" for i in range(2001))).encode(),
            "上传的文件有 2001 行, 一个园区最多 2000 行",
        ),
        ("term,related,relation\n白酒,酒糟,下位\n".encode("gbk"), "上传的文件不是 UTF-8 编码的 CSV"),
    ],
)
def test_a_bad_upload_names_the_row_and_column_and_changes_nothing(
    distillery: str, data: bytes, message: str
) -> None:
    _replace(distillery, GOOD)
    with pytest.raises(InvalidInput) as refused:
        _replace(distillery, data)
    assert refused.value.message == message
    assert _rows(distillery) == [TermRow("白酒", "酒糟|酱香", "下位")]


def test_the_download_is_an_upload_of_the_same_rows(distillery: str) -> None:
    _replace(distillery, "\ufeffterm,related,relation\nIGBT, 绝缘栅 | IGBT模块 ,同义\n".encode())
    text = zone_thesaurus.as_csv(_rows(distillery))
    assert text == "term,related,relation\nIGBT,绝缘栅|IGBT模块,同义\n"
    assert zone_thesaurus.parse_upload(text.encode()) == _rows(distillery)
    assert zone_thesaurus.packaged_csv().startswith("term,related,relation\n功率半导体,")


@pytest.mark.parametrize("user", [CHENGDU_ADMIN, ENTERPRISE], ids=["other-zone-admin", "enterprise"])
def test_only_the_zone_s_administrators_and_the_platform_read_or_change_its_words(
    distillery: str, user: User
) -> None:
    _replace(distillery, GOOD)
    with pytest.raises(PermissionDenied):
        _replace(distillery, b"term,related,relation\n", user=user)
    with session_scope(distillery) as session, pytest.raises(PermissionDenied):
        zone_thesaurus.rows(session, user=user, zone_code="wuxi")
    assert _replace(distillery, GOOD, user=PLATFORM, zone="chengdu") == 1
    assert _rows(distillery) == _rows(distillery, "chengdu") == [TermRow("白酒", "酒糟|酱香", "下位")]


def test_the_table_comes_and_goes_with_its_migration(db_url: str) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "runs01")
    assert "zone_thesaurus_terms" not in inspect(get_engine(db_url)).get_table_names()
    command.upgrade(config, "head")
    get_engine(db_url).dispose()
    assert "zone_thesaurus_terms" in inspect(get_engine(db_url)).get_table_names()
    _replace(db_url, GOOD)
    assert _rows(db_url) == [TermRow("白酒", "酒糟|酱香", "下位")]


def test_a_process_holding_the_index_knows_what_another_s_batch_ranked_with(
    distillery: str, tmp_path: Path
) -> None:
    """A batch run that re-ranked only for related words leaves the index's generation as it was, so a
    process keeps its copy in memory; it still reads which words were ranked with from the state."""
    settings = Settings(data_dir=tmp_path / "data")
    run_batch(distillery, settings=settings)
    held = dict(matching._LOADED)  # this process's copy, from before the upload
    _replace(distillery, GOOD)
    matching._LOADED.clear()  # "another process" runs the batch
    assert run_batch(distillery, settings=settings).sources == 1
    matching._LOADED.update(held)
    assert run_batch(distillery, settings=settings).sources == 0
