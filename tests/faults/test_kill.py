"""Fault tests: ``kill -9`` a real CLI process in the middle of an import or of ``techbridge match --all``.

On SQLite and PostgreSQL: an import is all-or-nothing (nothing of a killed one is left), batch matching
leaves every stored list whole (each batch commits, each list is replaced in one transaction), and a
rerun ends exactly where a clean run ends.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from techbridge.store.accounts import UserRow  # noqa: F401  (registers every table of the schema)
from techbridge.store.db import get_engine
from techbridge.store.tables import DemandRow, ImportLogRow, MatchResultRow

pytestmark = pytest.mark.slow

TERMS = (
    "锂电池 隔膜 涂覆 陶瓷 正极 负极 电解液 储能 热管理 光伏 硅片 逆变器 风电 叶片 复合材料 碳纤维 传感器 "
    "芯片 封装 激光 焊接 机器人 视觉 检测 抗体 疫苗 发酵 催化剂 氢能 燃料电池 涂层 合金 纳米 石墨烯 "
    "半导体 刻蚀 柔性 电机 算法 节能"
).split()
IPC = ["H01M", "H01L", "C08J", "B05C", "F03D", "G01N", "B23K", "G06T", "A61K", "C12N", "B01J", "C22C"]
IMPORT_ROWS = 40_000  # seconds of writing on either database (12,000 rows finished on SQLite before a
# quiet machine saw the transaction held for long enough to kill it)
SOURCES = (60, 700)  # demands, achievements: a few batches of batch matching


def write_demands(path: Path, rows: int, *, seed: int = 7) -> Path:
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["需求名称", "需求单位", "关键词", "需求描述"])
        for i in range(rows):
            words = rnd.sample(TERMS, 4)
            title = f"{''.join(words[:3])}技术需求{i}"
            writer.writerow(
                [title, f"示例企业{i % 97:02d}", ";".join(words), f"希望在{'、'.join(words)}方面合作"]
            )
    return path


def write_achievements(path: Path, rows: int, *, seed: int = 11) -> Path:
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["成果名称", "成果单位", "IPC分类号", "摘要"])
        for i in range(rows):
            words = rnd.sample(TERMS, 4)
            title = f"一种{''.join(words[:3])}方法{i}"
            writer.writerow(
                [title, f"示例大学{i % 13:02d}", rnd.choice(IPC), f"本发明涉及{'、'.join(words)}"]
            )
    return path


def cli(url: str, data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    """The real command in its own process, as an operator runs it."""
    env = {**os.environ, "TECHBRIDGE_DATABASE_URL": url, "TECHBRIDGE_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, "-c", "from techbridge.cli import main; main()", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def run_cli(url: str, data_dir: Path, *args: str) -> str:
    process = cli(url, data_dir, *args)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output.decode()
    return output.decode()


def _write_transaction_open(url: str, table: str) -> bool:
    """Whether another process holds a write transaction on ``table`` right now."""
    if url.startswith("sqlite"):
        probe = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True  # the single write lock is taken
        finally:
            probe.close()
    with get_engine(url).connect() as connection:
        held = connection.execute(
            text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = :table AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
            ),
            {"table": table},
        ).scalar_one()
    return held > 0


def held_for(seconds: float, check: Callable[[], bool]) -> Callable[[], bool]:
    """A condition that holds once ``check()`` has held on every poll for ``seconds``."""
    since: list[float] = []

    def ready() -> bool:
        if not check():
            since.clear()
            return False
        since[:] = since or [time.monotonic()]
        return time.monotonic() - since[0] >= seconds

    return ready


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool], *, timeout: float = 300) -> None:
    """SIGKILL the process once ``ready()`` holds, failing if it finished first."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"the process ended before it could be killed midway: {output[-2000:]}")
        assert time.monotonic() < deadline, "the process never reached the point to kill it at"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _count(url: str, table: type) -> int:
    # A fresh engine each time: no pooled connection survives into the next phase of the test.
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def _demand_titles(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(select(DemandRow.title)).scalars())
    finally:
        engine.dispose()


def test_a_killed_import_leaves_nothing_and_a_rerun_imports_everything(db_url: str, tmp_path: Path) -> None:
    data = write_demands(tmp_path / "需求.csv", IMPORT_ROWS)
    process = cli(db_url, tmp_path / "data", "import", "demand", str(data), "--zone", "wuxi")
    # Killed once it has been writing for a moment (batches of 2,000 rows in one transaction).
    kill_when(process, held_for(0.3, lambda: _write_transaction_open(db_url, "demands")))
    assert _count(db_url, DemandRow) == 0  # all-or-nothing: not one row of the killed import
    assert _count(db_url, ImportLogRow) == 0
    output = run_cli(db_url, tmp_path / "data", "import", "demand", str(data), "--zone", "wuxi")
    assert f"{IMPORT_ROWS}" in output
    expected = {row["需求名称"] for row in csv.DictReader(data.open(encoding="utf-8"))}
    assert _demand_titles(db_url) == expected  # what a clean import stores
    assert _count(db_url, ImportLogRow) == 1
    again = run_cli(db_url, tmp_path / "data", "import", "demand", str(data), "--zone", "wuxi")
    assert _count(db_url, DemandRow) == IMPORT_ROWS and "导入结果" in again  # idempotent


def _stored_matches(url: str) -> list[tuple[str, int, str, int, int, float]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    MatchResultRow.source_kind,
                    MatchResultRow.source_id,
                    MatchResultRow.target_kind,
                    MatchResultRow.target_id,
                    MatchResultRow.rank,
                    MatchResultRow.score,
                ).order_by(
                    MatchResultRow.source_kind,
                    MatchResultRow.source_id,
                    MatchResultRow.target_kind,
                    MatchResultRow.rank,
                )
            ).all()
    finally:
        engine.dispose()
    return [(*row[:5], round(row[5], 6)) for row in rows]


def _lists_are_whole(stored: list[tuple[str, int, str, int, int, float]]) -> None:
    """Every stored list is ranked 1..n without gaps or repeats: no list was left half written."""
    lists: dict[tuple[str, int, str], list[int]] = {}
    for source_kind, source_id, target_kind, _target, rank, _score in stored:
        lists.setdefault((source_kind, source_id, target_kind), []).append(rank)
    assert all(ranks == list(range(1, len(ranks) + 1)) for ranks in lists.values())


def test_a_killed_batch_matching_leaves_whole_lists_and_a_rerun_equals_a_clean_run(
    db_url: str, tmp_path: Path
) -> None:
    demands, achievements = SOURCES
    run_cli(
        db_url,
        tmp_path / "data",
        "import",
        "demand",
        str(write_demands(tmp_path / "d.csv", demands)),
        "--zone",
        "wuxi",
    )
    achievement_file = write_achievements(tmp_path / "a.csv", achievements)
    run_cli(db_url, tmp_path / "data", "import", "achievement", str(achievement_file), "--zone", "wuxi")
    process = cli(db_url, tmp_path / "data", "match", "--all")
    # Killed after some batches were committed, while more are still to come.
    kill_when(process, held_for(0.5, lambda: _count(db_url, MatchResultRow) > 0))
    partial = _stored_matches(db_url)
    assert 0 < len({(kind, i) for kind, i, *_ in partial}) < demands + achievements  # killed midway
    _lists_are_whole(partial)
    run_cli(db_url, tmp_path / "data", "match", "--all")  # the rerun, with the index the kill left
    rerun = _stored_matches(db_url)
    _lists_are_whole(rerun)
    assert len({(s, i) for s, i, *_ in rerun}) == demands + achievements
    # A clean run: a fresh index, every source ranked again.
    run_cli(db_url, tmp_path / "clean", "match", "--all", "--full")
    assert _stored_matches(db_url) == rerun
