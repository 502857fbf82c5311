"""Batch matching over the store: results stored with reasons, zone isolation, incremental re-runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from techbridge.cli import _register, app
from techbridge.config import Settings, get_settings
from techbridge.domain.access import Scope
from techbridge.domain.records import Achievement, Demand, Expert, Instrument, PilotPlatform
from techbridge.services.matching import run_batch
from techbridge.store.db import session_scope
from techbridge.store.matches import list_matches
from techbridge.store.records import archive_record, iter_records, upsert_records


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
    _add(db_url, "expert", Expert(name="周教授", fields=["材料科学与工程"], bio="锂电池隔膜与涂层", **wuxi))
    _add(db_url, "instrument", Instrument(name="热重分析仪", description="隔膜涂层耐热性测试", **wuxi))
    _add(
        db_url,
        "pilot_platform",
        PilotPlatform(
            name="新能源材料中试平台", industry_chains=["新能源"], capabilities="隔膜涂覆中试线", **wuxi
        ),
    )
    return db_url


def test_batch_stores_ranked_matches_with_reasons_and_zone_isolation(seeded: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    seen = []
    report = run_batch(seeded, settings=settings, progress=lambda done, total: seen.append((done, total)))
    assert report.indexed == 8 and report.removed == 0  # every record of every kind
    assert seen[-1][0] == seen[-1][1] == 4 + 4 + 1  # demand × 4 kinds, 4 achievements, 1 expert
    demand_id = _ids(seeded, "demand")["锂电池隔膜涂覆工艺"]
    achievements = _ids(seeded, "achievement")
    stored = _stored(seeded, demand_id, "achievement")
    ranked = [m.target_id for m in stored]
    assert achievements["锂电池隔膜回收方法"] not in ranked  # another zone's private record
    assert ranked[:2] == [
        achievements["一种锂电池隔膜陶瓷涂层及其制备方法"],
        achievements["耐高温锂电池隔膜"],
    ]
    assert ranked[-1] == achievements["区块链数据存储方法"]
    top = stored[0]
    codes = {r["code"] for r in top.reasons}
    assert {"title_terms", "ipc", "zone"} <= codes
    assert stored[1].is_cross_zone and any("跨园区共享" in r["text"] for r in stored[1].reasons)
    for kind in ("expert", "instrument", "pilot_platform"):
        assert len(_stored(seeded, demand_id, kind)) == 1
    assert (tmp_path / "data" / "match-index" / "engine.json").exists()


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
    get_settings.cache_clear()
    _register()
    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    result = runner.invoke(app, ["match", "--all"])
    assert result.exit_code == 0, result.output
    assert "保存" in result.output and "匹配" in result.output
    one = runner.invoke(app, ["match", "demand", "1", "--top-k", "2"])
    assert one.exit_code == 0, one.output
    assert "理由" in one.output and "命中关键词" in one.output
    get_settings.cache_clear()
