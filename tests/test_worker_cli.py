"""``techbridge worker``: as a command (``--once``) and as the child process ``demo --serve`` starts."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from techbridge.cli import _register, app
from techbridge.config import get_settings
from techbridge.domain.records import Demand
from techbridge.services import jobs
from techbridge.store import jobs as job_store
from techbridge.store.db import init_db, session_scope
from techbridge.store.records import upsert_records

runner = CliRunner()
_register()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    monkeypatch.setenv("TECHBRIDGE_DATABASE_URL", url)
    monkeypatch.setenv("TECHBRIDGE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    init_db(url)
    with session_scope(url) as s:
        upsert_records(
            s, "demand", [Demand(title="锂电池隔膜涂覆工艺", organization="无锡甲公司", zone_code="wuxi")]
        )
    yield url
    get_settings.cache_clear()


def _queue_batch(url: str) -> int:
    with session_scope(url) as s:
        return jobs.submit(s, kind="batch_match", params={}, user=None, zone_code="wuxi").id


def _state(url: str, job_id: int) -> str:
    with session_scope(url) as s:
        return job_store.get_job(s, job_id).state


def test_worker_once_runs_the_due_jobs_and_exits(database: str) -> None:
    job_id = _queue_batch(database)
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "共运行 1 个任务" in result.output
    assert _state(database, job_id) == "succeeded"


def test_the_worker_process_demo_serve_starts_runs_jobs_and_stops_on_sigterm(database: str) -> None:
    # Imported here: importing a command module registers its commands, and `_register()` above must
    # keep the order docs/cli.md lists them in.
    from techbridge.cli.worker import start_worker_process

    process = start_worker_process()
    try:
        job_id = _queue_batch(database)
        deadline = time.monotonic() + 120
        while _state(database, job_id) != "succeeded":
            assert process.poll() is None, "the worker exited early"
            assert time.monotonic() < deadline, "the worker did not run the job"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    assert code == 0
