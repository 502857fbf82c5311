"""``match --all`` on a Ray cluster stores what a run in one process stores, even when a shard is killed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from techbridge.cli import _register, app
from techbridge.config import Settings
from techbridge.domain.records import Achievement, Demand
from techbridge.match import distributed
from techbridge.match.distributed import Cluster
from techbridge.services import matching
from techbridge.services.matching import run_batch
from techbridge.store.db import get_engine, session_scope
from techbridge.store.records import upsert_records
from techbridge.store.tables import MatchResultRow

from .realdata import catalogue, queries

ZONES = ("wuxi", "chengdu")


def _seed(url: str) -> None:
    """600 real catalogue records as achievements and the bench's real demands, over two zones."""
    docs = catalogue(600)
    achievements = [
        Achievement(
            title=d.title,
            abstract=d.text,
            ipc_codes=d.labels.get("ipc", []),
            discipline=(d.labels.get("discipline") or [None])[0],
            trl=d.trl,
            zone_code=ZONES[i % 2],
            visibility="shared" if d.is_shared else "private",
        )
        for i, d in enumerate(docs)
    ]
    demands = [
        Demand(title=d.title[:200], description=d.text, organization="某企业", zone_code=ZONES[i % 2])
        for i, (d, _) in enumerate(queries(docs)[:105])
        if d.kind == "demand" and len(d.title) >= 4
    ]
    with session_scope(url) as session:
        upsert_records(session, "achievement", achievements)
        upsert_records(session, "demand", demands)


def _stored(url: str) -> list[tuple]:
    with session_scope(url) as session:
        rows = session.scalars(select(MatchResultRow)).all()
        return sorted(
            (
                r.source_kind,
                r.source_id,
                r.target_kind,
                r.rank,
                r.target_id,
                r.score,
                r.reasons,
                r.target_zone,
            )
            for r in rows
        )


@pytest.fixture(scope="module")
def seeded_copies(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> list[Path]:
    """Three identical databases: for the run in one process, on the cluster, and from the CLI."""
    folder = tmp_path_factory.mktemp("batch")
    first = folder / "one.sqlite3"
    shutil.copyfile(_sqlite_template, first)
    _seed(f"sqlite:///{first}")
    get_engine(f"sqlite:///{first}").dispose()
    copies = [first]
    for name in ("ray.sqlite3", "cli.sqlite3"):
        copies.append(folder / name)
        shutil.copyfile(first, copies[-1])
    return copies


@pytest.mark.slow
@pytest.mark.ray
def test_a_killed_shard_is_restarted_and_the_run_stores_the_same_matches(
    local_ray: ModuleType, seeded_copies: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone, clustered = (f"sqlite:///{p}" for p in seeded_copies[:2])
    monkeypatch.setattr(matching, "BATCH_SOURCES", 60)  # several stored batches, so one can die midway
    monkeypatch.setattr(distributed, "CHUNK", 100)  # records on every shard
    totals: list[int] = []
    report = run_batch(
        alone, settings=Settings(data_dir=tmp_path / "one"), progress=lambda d, t: totals.append(t)
    )
    expected = _stored(alone)
    work = totals[-1]  # (source, target kind) pairs ranked; indexing reports on the same callback
    assert report.sources > 600 and len(expected) > 1000

    killed: list[int] = []
    restarted: list[int] = []

    def shard_zero() -> object:
        names = [a["name"] for a in local_ray.util.list_named_actors(all_namespaces=True)]
        name = next(n for n in names if n.startswith("shard-0-"))
        return local_ray.get_actor(name, namespace="techbridge")

    def progress(done: int, total: int) -> None:
        if total != work:
            return  # indexing
        if done == 60:  # the first batch is stored: kill shard 0's process before the next one
            pid = local_ray.get(shard_zero().info.remote())["pid"]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        if done == total:
            restarted.append(local_ray.get(shard_zero().info.remote())["pid"])

    again = run_batch(
        clustered, settings=Settings(data_dir=tmp_path / "ray"), progress=progress, cluster=Cluster()
    )
    assert killed and restarted and restarted[0] != killed[0]  # Ray restarted the shard in a new process
    assert (again.sources, again.stored) == (report.sources, report.stored)
    assert _stored(clustered) == expected  # none missing, none twice, same scores and reasons


@pytest.mark.slow
@pytest.mark.ray
def test_cli_match_all_with_ray_auto(
    local_ray: ModuleType, seeded_copies: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--ray auto`` with 3 shards stores what one process stores (reusing this test's cluster)."""
    monkeypatch.setattr(distributed, "CHUNK", 100)
    monkeypatch.setenv("TECHBRIDGE_DATABASE_URL", f"sqlite:///{seeded_copies[2]}")
    monkeypatch.setenv("TECHBRIDGE_DATA_DIR", str(tmp_path / "data"))
    _register()
    result = CliRunner().invoke(app, ["match", "--all", "--ray", "auto", "--shards", "3"])
    assert result.exit_code == 0, result.output
    assert "保存" in result.output
    if not _stored(f"sqlite:///{seeded_copies[0]}"):
        run_batch(f"sqlite:///{seeded_copies[0]}", settings=Settings(data_dir=tmp_path / "one"))
    assert _stored(f"sqlite:///{seeded_copies[2]}") == _stored(f"sqlite:///{seeded_copies[0]}")


def test_without_the_option_ray_is_never_imported(sqlite_url: str, tmp_path: Path) -> None:
    """A plain ``match --all`` must run where Ray is not installed."""
    code = """
import sys
from typer.testing import CliRunner
from techbridge.cli import _register, app
_register()
result = CliRunner().invoke(app, ["match", "--all"])
assert result.exit_code == 0, result.output
assert "ray" not in sys.modules, "ray imported"
"""
    env = {**os.environ, "TECHBRIDGE_DATABASE_URL": sqlite_url, "TECHBRIDGE_DATA_DIR": str(tmp_path)}
    _seed(sqlite_url)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
