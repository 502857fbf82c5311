"""Batch matching over the store: results stored with reasons, zone isolation, incremental re-runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from techbridge.cli import _register, app
from techbridge.config import Settings
from techbridge.domain.access import Scope
from techbridge.domain.deals import DealEvent, DealResource, DealStage
from techbridge.domain.records import Achievement, Demand, Expert, Instrument, PilotPlatform
from techbridge.errors import NotFound
from techbridge.match import Kind
from techbridge.services import matching
from techbridge.services.matching import PAIRS, match_record, run_batch
from techbridge.store.db import get_engine, session_scope, write_best_effort
from techbridge.store.deals import NewDeal, insert_deal
from techbridge.store.facets import latest_match_time
from techbridge.store.matches import list_matches
from techbridge.store.records import archive_record, iter_records, update_record, upsert_records
from techbridge.store.tables import DemandRow, MatchResultRow


def _add(url: str, kind: str, *records) -> dict[str, int]:
    with session_scope(url) as session:
        upsert_records(session, kind, list(records))
        return {s.record.natural_key(): s.id for s in iter_records(session, kind, scope=Scope.platform())}


def _ids(url: str, kind: str) -> dict[str, int]:
    """Title (or name) → database id."""
    with session_scope(url) as session:
        return {
            getattr(s.record, "title", None) or s.record.name: s.id
            for s in iter_records(session, kind, scope=Scope.platform())
        }


def _stored(url: str, demand_id: int, target_kind: str) -> list:
    with session_scope(url) as session:
        return list_matches(
            session,
            source_kind="demand",
            source_id=demand_id,
            target_kind=target_kind,
            scope=Scope.platform(),
        )


@pytest.fixture
def seeded(db_url: str) -> str:
    wuxi = {"zone_code": "wuxi"}
    _add(
        db_url,
        "demand",
        Demand(
            title="锂电池隔膜涂覆工艺",
            description="提升隔膜耐热性",
            organization="无锡某新能源公司",
            industry_chain="新能源",
            **wuxi,
        ),
    )
    _add(
        db_url,
        "achievement",
        Achievement(title="一种锂电池隔膜陶瓷涂层及其制备方法", ipc_codes=["H01M 50/449"], trl=6, **wuxi),
        Achievement(title="耐高温锂电池隔膜", ipc_codes=["H01M"], zone_code="chengdu", visibility="shared"),
        Achievement(
            title="锂电池隔膜回收方法", ipc_codes=["H01M"], zone_code="chengdu"
        ),  # private to chengdu
        Achievement(title="区块链数据存储方法", ipc_codes=["G06F"], **wuxi),
    )
    _add(
        db_url,
        "expert",
        Expert(name="周教授", fields=["材料科学与工程"], bio="锂电池隔膜涂覆工艺与隔膜耐热性", **wuxi),
    )
    _add(
        db_url, "instrument", Instrument(name="热重分析仪", description="锂电池隔膜涂覆层耐热性测试", **wuxi)
    )
    _add(
        db_url,
        "pilot_platform",
        PilotPlatform(
            name="新能源材料中试平台",
            industry_chains=["新能源"],
            capabilities="锂电池隔膜涂覆工艺中试线",
            **wuxi,
        ),
    )
    return db_url


# The seed is a handful of records, too few for 匹配度 to mean what it means over a zone's catalogue
# (every idf is small): tests of what is stored keep every record with evidence.
EVIDENCE_ONLY = {"min_match": 0.0}


def test_batch_stores_ranked_matches_with_reasons_and_zone_isolation(seeded: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", match_params=EVIDENCE_ONLY)
    seen = []
    report = run_batch(seeded, settings=settings, progress=lambda done, total: seen.append((done, total)))
    assert report.indexed == 8 and report.removed == 0  # every record of every kind
    assert seen[-1][0] == seen[-1][1] == 4 + 4 + 1  # demand × 4 kinds, 4 achievements, 1 expert
    demand_id = _ids(seeded, "demand")["锂电池隔膜涂覆工艺"]
    achievements = _ids(seeded, "achievement")
    stored = _stored(seeded, demand_id, "achievement")
    ranked = [m.target_id for m in stored]
    assert achievements["锂电池隔膜回收方法"] not in ranked  # another zone's private record
    assert ranked == [
        achievements["一种锂电池隔膜陶瓷涂层及其制备方法"],
        achievements["耐高温锂电池隔膜"],
    ]  # the blockchain patent shares nothing with the demand: an honest list leaves it out
    top = stored[0]
    codes = {r["code"] for r in top.reasons}
    assert {"title_terms", "ipc", "zone"} <= codes
    assert stored[1].is_cross_zone and any("跨园区共享" in r["text"] for r in stored[1].reasons)
    for kind in ("expert", "instrument", "pilot_platform"):
        assert len(_stored(seeded, demand_id, kind)) == 1
    assert len(list((tmp_path / "data" / "match-index").glob("*/snapshot-*/engine.json"))) == 1


def test_rerun_is_incremental(seeded: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    run_batch(seeded, settings=settings)
    quiet = run_batch(seeded, settings=settings)
    assert (quiet.indexed, quiet.removed, quiet.sources) == (0, 0, 0)
    _add(seeded, "achievement", Achievement(title="锂电池隔膜涂覆设备", ipc_codes=["H01M"], zone_code="wuxi"))
    after_add = run_batch(seeded, settings=settings)
    assert after_add.indexed == 1
    demand_id = _ids(seeded, "demand")["锂电池隔膜涂覆工艺"]
    new_id = _ids(seeded, "achievement")["锂电池隔膜涂覆设备"]
    assert new_id in [m.target_id for m in _stored(seeded, demand_id, "achievement")]
    with session_scope(seeded) as session:
        archive_record(session, "achievement", new_id, scope=Scope.platform())
    after_archive = run_batch(seeded, settings=settings)
    assert after_archive.removed == 1
    assert new_id not in [m.target_id for m in _stored(seeded, demand_id, "achievement")]


@pytest.mark.slow  # loads the 900-record demo first
def test_cli_match_all_and_one_demand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TECHBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.setenv("TECHBRIDGE_DATA_DIR", str(tmp_path / "data"))
    _register()
    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    result = runner.invoke(app, ["match", "--all"])
    assert result.exit_code == 0, result.output
    assert "保存" in result.output and "匹配" in result.output
    one = runner.invoke(app, ["match", "demand", "1", "--top-k", "2"])
    assert one.exit_code == 0, one.output
    assert "理由" in one.output and "双方都提到" in one.output


def test_match_record_seam_stores_in_the_callers_transaction(seeded: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    achievement_id = _ids(seeded, "achievement")["一种锂电池隔膜陶瓷涂层及其制备方法"]
    with session_scope(seeded) as session:
        results = match_record(
            session, "achievement", achievement_id, scope=Scope(zone_code="wuxi"), settings=settings
        )
    demand_id = _ids(seeded, "demand")["锂电池隔膜涂覆工艺"]
    assert [m.id for m in results[Kind.DEMAND]] == [str(demand_id)]
    with session_scope(seeded) as session:
        stored = list_matches(
            session, source_kind="achievement", source_id=achievement_id, scope=Scope.platform()
        )
    assert [m.target_id for m in stored] == [demand_id]
    assert any(r["code"] == "title_terms" for r in stored[0].reasons)
    with session_scope(seeded) as session, pytest.raises(NotFound):  # private to chengdu: absent
        private = _ids(seeded, "achievement")["锂电池隔膜回收方法"]
        match_record(session, "achievement", private, scope=Scope(zone_code="wuxi"), settings=settings)


def _spy_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[int]]]:
    """Record which records a sync loads from the store (kind, ids)."""
    reads: list[tuple[str, list[int]]] = []
    real = matching.get_records

    def spy(session, kind, ids, *, scope):  # type: ignore[no-untyped-def]
        reads.append((kind, list(ids)))
        return real(session, kind, ids, scope=scope)

    monkeypatch.setattr(matching, "get_records", spy)
    return reads


def test_sync_reads_only_records_changed_since_the_watermark(
    seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    run_batch(seeded, settings=settings)
    achievement_id = _ids(seeded, "achievement")["区块链数据存储方法"]
    demand_id = _ids(seeded, "demand")["锂电池隔膜涂覆工艺"]
    with session_scope(seeded) as session:
        update_record(
            session,
            "achievement",
            achievement_id,
            {"title": "锂电池隔膜涂覆工艺装置"},
            scope=Scope.platform(),
        )
    reads = _spy_reads(monkeypatch)
    with session_scope(seeded) as session:
        results = match_record(session, "demand", demand_id, scope=Scope.platform(), settings=settings)
    assert reads == [("achievement", [achievement_id])]
    assert str(achievement_id) in [m.id for m in results[Kind.ACHIEVEMENT][:3]]  # the new title is indexed
    index = next((tmp_path / "data" / "match-index").glob("*/"))
    assert (index / "journal.txt").read_text(encoding="utf-8").split() == [f"achievement/{achievement_id}"]
    files = {path: path.stat().st_mtime_ns for path in index.rglob("*") if path.name != "state.json"}
    with session_scope(seeded) as session:  # nothing changed: nothing read, the index not written
        match_record(session, "demand", demand_id, scope=Scope.platform(), settings=settings)
    assert reads == [("achievement", [achievement_id])]
    assert {path: path.stat().st_mtime_ns for path in index.rglob("*") if path.name != "state.json"} == files


def _rankings(url: str, settings: Settings) -> list[list[tuple[str, float]]]:
    """Every source's ranking against every kind it is matched with, as (id, score) lists."""
    with session_scope(url) as session, matching._open_index(session, settings) as index:
        index.sync(session)
        sources = [doc for kind in PAIRS for doc in matching._live_sources(session, kind)]
        return [
            [(m.id, round(m.score, 6)) for m in index.engine.rank(s, target_kind=t, top_k=50, explain=False)]
            for s in sources
            for t in PAIRS[s.kind]
        ]


def test_incremental_sync_equals_a_full_rebuild(seeded: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "incremental")
    run_batch(seeded, settings=settings)
    achievements = _ids(seeded, "achievement")
    expert_id = _ids(seeded, "expert")["周教授"]
    _add(seeded, "achievement", Achievement(title="锂电池隔膜涂覆设备", ipc_codes=["H01M"], zone_code="wuxi"))
    run_batch(seeded, settings=settings)
    with session_scope(seeded) as session:
        update_record(
            session, "achievement", achievements["耐高温锂电池隔膜"], {"trl": 8}, scope=Scope.platform()
        )
        archive_record(session, "achievement", achievements["区块链数据存储方法"], scope=Scope.platform())
        _open_deal(session, expert_id)
    _rankings(seeded, settings)  # syncs the changes into the journal
    matching._LOADED.clear()  # a fresh process: snapshot plus the journal's keys re-read from the store
    incremental = _rankings(seeded, settings)
    rebuilt = _rankings(seeded, Settings(data_dir=tmp_path / "rebuilt"))
    assert incremental == rebuilt
    assert any(incremental)


def _open_deal(session, expert_id: int) -> None:  # type: ignore[no-untyped-def]
    insert_deal(
        session,
        NewDeal(
            zone_code="wuxi",
            title="隔膜涂层中试",
            demand_id=None,
            enterprise="无锡某新能源公司",
            industry_chain=None,
            resources=[DealResource(kind="expert", record_id=expert_id, zone_code="wuxi")],
            created_by="officer",
        ),
        DealEvent(from_stage=None, to_stage=DealStage.MATCHED, actor="officer", at=datetime.now(UTC)),
    )


def test_databases_sharing_a_data_dir_keep_their_own_index(
    sqlite_url: str, _sqlite_template: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.sqlite3"
    shutil.copyfile(_sqlite_template, other)
    other_url = f"sqlite:///{other}"
    settings = Settings(data_dir=tmp_path / "data")
    for url, title in ((sqlite_url, "锂电池隔膜"), (other_url, "燃料电池催化剂")):
        _add(url, "demand", Demand(title=f"{title}需求", organization="某公司", zone_code="wuxi"))
        _add(url, "achievement", Achievement(title=title, zone_code="wuxi"))
    assert run_batch(sqlite_url, settings=settings).indexed == 2
    assert run_batch(other_url, settings=settings).indexed == 2
    assert run_batch(sqlite_url, settings=settings).indexed == 0  # its own index, untouched by the other
    get_engine(other_url).dispose()
    other.unlink()  # the database is recreated at the same URL with other records
    shutil.copyfile(_sqlite_template, other)
    _add(other_url, "demand", Demand(title="新的技术需求", organization="某公司", zone_code="wuxi"))
    assert run_batch(other_url, settings=settings).indexed == 1  # rebuilt: nothing of the old one is left
    with session_scope(other_url) as session, matching._open_index(session, settings) as index:
        assert sorted(index.seen) == ["demand/1"]


def _expert(name: str, *, max_active_deals: int) -> Expert:
    return Expert(
        name=name,
        fields=["材料科学与工程"],
        bio="锂电池隔膜涂层",
        max_active_deals=max_active_deals,
        zone_code="wuxi",
    )


def test_experts_with_a_full_workload_rank_below_free_ones(db_url: str, tmp_path: Path) -> None:
    _add(
        db_url,
        "demand",
        Demand(title="锂电池隔膜涂层", organization="无锡某新能源公司", zone_code="wuxi"),
    )
    # Identical expertise; the busy expert comes first, so only the workload can put them behind.
    _add(db_url, "expert", _expert("张忙碌", max_active_deals=1))
    _add(db_url, "expert", _expert("李空闲", max_active_deals=1))
    experts, demand_id = _ids(db_url, "expert"), _ids(db_url, "demand")["锂电池隔膜涂层"]
    settings = Settings(data_dir=tmp_path / "data")
    run_batch(db_url, settings=settings)
    assert [m.target_id for m in _stored(db_url, demand_id, "expert")] == [
        experts["张忙碌"],
        experts["李空闲"],
    ]
    with session_scope(db_url) as session:
        _open_deal(session, experts["张忙碌"])
    assert run_batch(db_url, settings=settings).indexed == 1  # the deal moved one expert's workload
    ranked = _stored(db_url, demand_id, "expert")
    assert [m.target_id for m in ranked] == [experts["李空闲"], experts["张忙碌"]]
    assert {"code": "capacity", "text": "专家尚余 0% 对接名额"} in ranked[1].reasons
    assert {"code": "capacity", "text": "专家尚余 100% 对接名额"} in ranked[0].reasons


def test_closed_or_archived_demands_lose_their_matches(seeded: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    _add(
        seeded,
        "demand",
        Demand(
            title="锂电池隔膜耐热改性", description="隔膜陶瓷涂层", organization="某公司", zone_code="wuxi"
        ),
    )
    run_batch(seeded, settings=settings)
    demands = _ids(seeded, "demand")
    closed, archived = demands["锂电池隔膜涂覆工艺"], demands["锂电池隔膜耐热改性"]
    achievement_id = _ids(seeded, "achievement")["一种锂电池隔膜陶瓷涂层及其制备方法"]

    def shown_demands() -> list[int]:
        with session_scope(seeded) as session:
            return [
                m.target_id
                for m in list_matches(
                    session, source_kind="achievement", source_id=achievement_id, scope=Scope.platform()
                )
            ]

    assert sorted(shown_demands()) == sorted([closed, archived])
    with session_scope(seeded) as session:
        update_record(session, "demand", closed, {"status": "closed"}, scope=Scope.platform())
        archive_record(session, "demand", archived, scope=Scope.platform())
    assert shown_demands() == []  # hidden at once, before any sync
    assert _stored(seeded, closed, "achievement") == []
    run_batch(seeded, settings=settings)
    with session_scope(seeded) as session:
        rows = session.scalars(
            select(MatchResultRow).where(
                or_(
                    and_(
                        MatchResultRow.source_kind == "demand",
                        MatchResultRow.source_id.in_([closed, archived]),
                    ),
                    and_(
                        MatchResultRow.target_kind == "demand",
                        MatchResultRow.target_id.in_([closed, archived]),
                    ),
                )
            )
        ).all()
        assert rows == []  # deleted, not just hidden
        results = match_record(
            session, "achievement", achievement_id, scope=Scope.platform(), settings=settings
        )
        assert results[Kind.DEMAND] == []
        assert match_record(session, "demand", closed, scope=Scope.platform(), settings=settings) == {}


def test_batch_reranks_what_a_single_match_already_synced(seeded: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    run_batch(seeded, settings=settings)
    _add(seeded, "achievement", Achievement(title="锂电池隔膜涂覆设备", ipc_codes=["H01M"], zone_code="wuxi"))
    new_id = _ids(seeded, "achievement")["锂电池隔膜涂覆设备"]
    with session_scope(seeded) as session:  # syncs the new achievement into the index first
        match_record(
            session, "expert", _ids(seeded, "expert")["周教授"], scope=Scope.platform(), settings=settings
        )
    report = run_batch(seeded, settings=settings)
    # The demand (its achievement list is stale) and the new achievement itself, nothing else.
    assert report.sources == 2
    demand_id = _ids(seeded, "demand")["锂电池隔膜涂覆工艺"]
    assert new_id in [m.target_id for m in _stored(seeded, demand_id, "achievement")]
    assert run_batch(seeded, settings=settings).sources == 0


def test_matching_a_resource_kind_keeps_the_matches_that_target_it(seeded: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", match_params=EVIDENCE_ONLY)
    run_batch(seeded, settings=settings)
    demand_id = _ids(seeded, "demand")["锂电池隔膜涂覆工艺"]
    instrument_id = _ids(seeded, "instrument")["热重分析仪"]
    with session_scope(seeded) as session:  # an instrument is only ever a target
        assert (
            match_record(session, "instrument", instrument_id, scope=Scope.platform(), settings=settings)
            == {}
        )
    assert [m.target_id for m in _stored(seeded, demand_id, "instrument")] == [instrument_id]


def test_a_quiet_store_is_not_listed_again_once_open_writes_have_landed(
    seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    run_batch(seeded, settings=settings)  # the whole store was written moments before this sync
    listed: list[int] = []
    real = matching.iter_stamps

    def spy(session, kind, *, since):  # type: ignore[no-untyped-def]
        for stamp in real(session, kind, since=since):
            listed.append(stamp.id)
            yield stamp

    monkeypatch.setattr(matching, "iter_stamps", spy)
    run_batch(seeded, settings=settings)
    assert len(listed) == 8  # a write open during the last sync could still land: read its window again
    listed.clear()
    later = datetime.now(UTC) + matching._OVERLAP * 2
    monkeypatch.setattr(matching, "utcnow", lambda: later)
    run_batch(seeded, settings=settings)  # sets the last sync past the window
    listed.clear()
    run_batch(seeded, settings=settings)
    assert listed == []


def test_a_long_journal_is_folded_into_a_new_snapshot(
    seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matching, "_JOURNAL_MIN", 1)
    settings = Settings(data_dir=tmp_path / "data")
    run_batch(seeded, settings=settings)
    index = next((tmp_path / "data" / "match-index").glob("*/"))
    first = [p.name for p in index.glob("snapshot-*")]
    _add(seeded, "achievement", Achievement(title="锂电池隔膜涂覆设备", zone_code="wuxi"))
    run_batch(seeded, settings=settings)
    assert len((index / "journal.txt").read_text(encoding="utf-8").split()) == 1
    assert [p.name for p in index.glob("snapshot-*")] == first
    _add(seeded, "achievement", Achievement(title="锂电池隔膜分切设备", zone_code="wuxi"))
    run_batch(seeded, settings=settings)
    assert not (index / "journal.txt").exists()
    second = [p.name for p in index.glob("snapshot-*")]
    assert len(second) == 1 and second != first  # the old snapshot is gone
    matching._LOADED.clear()
    assert _rankings(seeded, settings) == _rankings(seeded, Settings(data_dir=tmp_path / "rebuilt"))


def _ranked_by(index: matching._Index, sources: list) -> list[list[tuple[str, float]]]:
    return [
        [(m.id, m.score) for m in index.engine.rank(s, target_kind=t, top_k=50, explain=False)]
        for s in sources
        for t in PAIRS[s.kind]
    ]


def test_a_process_keeps_ranking_with_a_mapped_snapshot_another_process_replaced(
    seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Web workers map the snapshot read-only; a writer that folds the journal into a new snapshot deletes
    the old directory, and a worker still holding it ranks on (Linux keeps unlinked mapped files)."""
    monkeypatch.setattr(matching, "_JOURNAL_MIN", 0)
    settings = Settings(data_dir=tmp_path / "data")
    run_batch(seeded, settings=settings)
    matching._LOADED.clear()
    _rankings(seeded, settings)  # this "worker" loads the snapshot from disk
    (worker,) = matching._LOADED.values()
    assert not worker.engine.columns["kind"].flags.writeable  # a map of the snapshot, not a copy
    old = worker.path / str(worker.snapshot)
    with session_scope(seeded) as session:
        sources = [doc for kind in PAIRS for doc in matching._live_sources(session, kind)]
    before = _ranked_by(worker, sources)
    matching._LOADED.clear()  # another process, the writer
    _add(seeded, "achievement", Achievement(title="锂电池隔膜分切设备", zone_code="wuxi"))
    run_batch(seeded, settings=settings)
    assert not old.exists()
    assert not list(worker.path.glob("*.partial"))  # snapshots are written under a temporary name
    maps = Path("/proc/self/maps").read_text(encoding="utf-8")
    assert f"{old}/columns/kind.npy (deleted)" in maps
    assert _ranked_by(worker, sources) == before
    (writer,) = matching._LOADED.values()
    assert writer.snapshot != worker.snapshot
    assert not writer.engine.columns["kind"].flags.writeable  # the writer too serves its new snapshot mapped
    assert _rankings(seeded, settings) == _rankings(seeded, Settings(data_dir=tmp_path / "rebuilt"))


def test_batch_matching_lets_other_writers_in_between_batches(
    seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9 #7: ``match --all`` held one write transaction for its whole run, so writes timed out."""
    monkeypatch.setattr(matching, "BATCH_SOURCES", 1)
    demand_id = _ids(seeded, "demand")["锂电池隔膜涂覆工艺"]
    touch = update(DemandRow).where(DemandRow.id == demand_id).values(description="批量匹配期间的修改")
    written: list[bool] = []

    def progress(done: int, total: int) -> None:  # another writer, waiting 0.2 s at most for the lock
        with Session(get_engine(seeded)) as probe:
            written.append(write_best_effort(probe, lambda connection: connection.execute(touch)))

    report = run_batch(seeded, settings=Settings(data_dir=tmp_path / "data"), full=True, progress=progress)
    assert report.sources > 1 and len(written) > report.sources
    assert all(written)


def test_requests_waiting_for_the_index_are_served_first_come_first_served(
    seeded: str, tmp_path: Path
) -> None:
    """Under load, polling the index lock let later requests overtake earlier ones until some timed out."""
    settings = Settings(data_dir=tmp_path / "data")
    run_batch(seeded, settings=settings)
    release, order = threading.Event(), []

    def hold() -> None:
        with session_scope(seeded) as session, matching._open_index(session, settings, wait=30):
            release.wait(30)

    def wait_turn(n: int) -> None:
        with session_scope(seeded) as session, matching._open_index(session, settings, wait=30):
            order.append(n)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.3)
    waiters = [threading.Thread(target=wait_turn, args=(n,)) for n in range(6)]
    for waiter in waiters:  # arriving one after another
        waiter.start()
        time.sleep(0.2)
    release.set()
    for thread in (holder, *waiters):
        thread.join(30)
    assert order == list(range(6))


def test_a_run_that_finds_nothing_good_enough_still_records_when_it_ran(seeded: str, tmp_path: Path) -> None:
    """An empty list is an answer: the page says 暂无足够相关的… with the time, not "never matched"."""
    settings = Settings(data_dir=tmp_path / "data")
    blockchain = _ids(seeded, "achievement")["区块链数据存储方法"]
    with session_scope(seeded) as session:
        assert latest_match_time(session, source_kind="achievement", source_id=blockchain) is None
        results = match_record(
            session, "achievement", blockchain, scope=Scope(zone_code="wuxi"), settings=settings
        )
    assert results[Kind.DEMAND] == []  # shares nothing with the only demand
    with session_scope(seeded) as session:
        first = latest_match_time(session, source_kind="achievement", source_id=blockchain)
        assert first is not None
        match_record(session, "achievement", blockchain, scope=Scope(zone_code="wuxi"), settings=settings)
    with session_scope(seeded) as session:
        again = latest_match_time(session, source_kind="achievement", source_id=blockchain)
        assert again is not None and again >= first  # one row per record, moved forward
        archive_record(session, "achievement", blockchain, scope=Scope.platform())
    run_batch(seeded, settings=settings)
    with session_scope(seeded) as session:  # an archived record has no matches, and no time for them
        assert latest_match_time(session, source_kind="achievement", source_id=blockchain) is None


def test_warm_up_leaves_the_index_loaded_and_synced_for_the_first_request(
    seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first "run matching" of a fresh server loaded the model and index under the index lock while
    the queue behind it timed out (load test at 100 clients)."""
    settings = Settings(data_dir=tmp_path / "data")
    matching._LOADED.clear()
    assert matching.warm_up(seeded, settings)
    (index,) = matching._LOADED.values()
    assert {key.split("/")[0] for key in index.seen} == {k.value for k in Kind}

    def no_load(*_args: object, **_kw: object) -> None:
        raise AssertionError("the first request loaded the index again")

    monkeypatch.setattr(matching.MatchEngine, "load", no_load)
    demand_id = _ids(seeded, "demand")["锂电池隔膜涂覆工艺"]
    with session_scope(seeded) as session:
        found = match_record(session, "demand", demand_id, scope=Scope.platform(), settings=settings)
    assert found[Kind.ACHIEVEMENT]


def test_warm_up_gives_up_while_match_all_holds_the_index(seeded: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    release, held = threading.Event(), threading.Event()

    def hold() -> None:
        with session_scope(seeded) as session, matching._open_index(session, settings):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(30)
    try:
        assert matching.warm_up(seeded, settings, wait=0.2) is False
    finally:
        release.set()
        holder.join(30)
    assert matching.warm_up(seeded, settings, wait=5)


def test_a_serving_process_runs_its_blas_on_the_request_thread() -> None:
    probe = (
        "import numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "from techbridge.services.matching import one_thread_per_request\n"
        "one_thread_per_request()\n"
        "print(sorted({p['num_threads'] for p in threadpool_info()}))\n"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[1]"


_FREED = """
import psutil
from techbridge.services.matching import one_malloc_arena, return_freed_memory
one_malloc_arena()
process = psutil.Process()
blocks = [bytearray(100_000) for _ in range(1_000)]  # 100 MB in malloc's arena (below its mmap threshold)
del blocks[::2]  # holes the arena keeps: the blocks between them are still in use
held = process.memory_full_info().uss
return_freed_memory()
print((held - process.memory_full_info().uss) / 2**20)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_freed_memory_goes_back_to_the_system() -> None:
    """What a ranking freed leaves the worker after the request instead of staying private to it."""
    done = subprocess.run([sys.executable, "-c", _FREED], capture_output=True, text=True, check=True)
    assert float(done.stdout) > 30  # of the 50 MB freed
