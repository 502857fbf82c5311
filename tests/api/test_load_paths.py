"""What made 100 load-test clients fail (docs/reliability.md, Load test), reproduced on a real server
with a small worker-thread pool so the test needs a handful of requests instead of a hundred.

1. A write's transaction stayed open until FastAPI had validated the response on another worker thread:
   with every thread taken by writers waiting for SQLite's write lock, the lock holder could not finish,
   and all stood still until the busy timeout made the waiters 503s.
2. Run-matching requests waited for the match index on worker threads, so reads queued behind them.
3. Run-matching requests that waited their bound (20 s) for their turn were 503s; now one that cannot
   start within a few seconds is queued as a worker job and answered 202.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import pytest

from techbridge.api.routers import records as record_routes
from techbridge.services import records as record_service
from techbridge.services.worker import run_pending
from techbridge.store.db import session_scope
from techbridge.store.matches import delete_matches

from ..live import serve
from .conftest import Api, make_api

THREADS = 4
BUSY_WAIT_S = 3.0


class FewThreads:
    """The app with ``tokens`` worker threads (the production server has 40)."""

    def __init__(self, app: Any, tokens: int) -> None:
        self.app, self.tokens = app, tokens

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = self.tokens
        await self.app(scope, receive, send)


@pytest.fixture
def small_server(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[Api, str]]:
    api = make_api(f"{sqlite_url}?timeout={BUSY_WAIT_S}", data_dir=tmp_path / "data")
    with serve(FewThreads(api.client.app, THREADS)) as url:
        yield api, url


def test_writes_do_not_stall_when_every_worker_thread_waits_for_the_write_lock(
    small_server: tuple[Api, str],
) -> None:
    api, base = small_server
    headers = api.headers("wuxi_admin")
    start = threading.Barrier(THREADS * 3)

    def create(n: int) -> tuple[int, float]:
        body = {"title": f"并发写入需求{n}号锂电池隔膜", "organization": "无锡并发测试公司"}
        start.wait()
        began = time.monotonic()
        response = httpx.post(f"{base}/api/v1/demands", json=body, headers=headers, timeout=60)
        return response.status_code, time.monotonic() - began

    with ThreadPoolExecutor(THREADS * 3) as pool:
        results = list(pool.map(create, range(THREADS * 3)))
    assert [status for status, _ in results] == [201] * (THREADS * 3)
    assert max(seconds for _, seconds in results) < BUSY_WAIT_S  # nobody sat out a busy timeout


def test_reads_are_served_while_run_matching_requests_wait_for_the_index(
    small_server: tuple[Api, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, base = small_server
    monkeypatch.setattr(record_service, "RUN_NOW_WAIT_S", 8.0)
    headers = api.headers("wuxi_corp")
    demand = f"{base}/api/v1/demands/{api.ids['wuxi_private']}"
    assert httpx.post(f"{demand}/match", headers=headers, timeout=60).status_code == 200
    (lock_file,) = (tmp_path / "data" / "match-index").glob("*.lock")
    with lock_file.open("w") as held, ThreadPoolExecutor(THREADS + 2) as pool:
        fcntl.flock(held, fcntl.LOCK_EX)  # as ``match --all`` holds it
        waiting = [
            pool.submit(httpx.post, f"{demand}/match", headers=headers, timeout=60)
            for _ in range(THREADS + 2)
        ]
        time.sleep(1.0)  # all of them are waiting now
        read = httpx.get(demand, headers=headers, timeout=60)
        # Answered while every run request still waits for the index: none can finish before the lock is
        # released (or before its 8 s wait runs out), so a read queued behind them would find them done.
        still_waiting = not any(f.done() for f in waiting)
        fcntl.flock(held, fcntl.LOCK_UN)
        statuses = [f.result().status_code for f in waiting]
    assert read.status_code == 200 and still_waiting
    assert statuses == [200] * (THREADS + 2)


def test_run_matching_that_cannot_start_soon_is_queued_as_a_job_a_worker_completes(
    small_server: tuple[Api, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every slot taken and the index held: the late request is accepted as a job (202), not a 503."""
    api, base = small_server
    monkeypatch.setattr(record_service, "RUN_NOW_WAIT_S", 0.5)
    headers = api.headers("wuxi_corp")
    run = f"{base}/api/v1/demands/{api.ids['wuxi_private']}/match"
    assert httpx.post(run, headers=headers, timeout=60).status_code == 200
    (lock_file,) = (tmp_path / "data" / "match-index").glob("*.lock")
    with lock_file.open("w") as held, ThreadPoolExecutor(record_routes.MATCHING_AT_ONCE) as pool:
        fcntl.flock(held, fcntl.LOCK_EX)  # as ``match --all`` holds it
        inside = [
            pool.submit(httpx.post, run, headers=headers, timeout=60)
            for _ in range(record_routes.MATCHING_AT_ONCE)
        ]
        time.sleep(0.2)  # both slots taken; their wait for the index runs out too
        late = httpx.post(run, headers=headers, timeout=60)
        early = [f.result() for f in inside]
        fcntl.flock(held, fcntl.LOCK_UN)
    for answer in (late, *early):
        assert answer.status_code == 202, answer.text
        assert answer.headers["Location"] == answer.json()["job_url"]
    # One record, one queued run, however many asked for it.
    assert {a.json()["job"]["id"] for a in (late, *early)} == {late.json()["job"]["id"]}
    body = late.json()
    assert body["job"]["state"] == "queued" and body["job"]["kind"] == "match_record"
    assert body["matches_url"] == f"/api/v1/demands/{api.ids['wuxi_private']}/matches"
    assert "后台任务" in body["detail"]
    polled = httpx.get(f"{base}{body['job_url']}", headers=headers, timeout=60)
    assert polled.status_code == 200 and polled.json()["state"] == "queued"
    settings = api.client.app.state.settings
    with session_scope(api.url) as session:  # the job's result replaces what is stored now
        delete_matches(session, kind="demand", ids=[api.ids["wuxi_private"]])
    assert run_pending(api.url, settings) >= 1
    done = httpx.get(f"{base}{body['job_url']}", headers=headers, timeout=60).json()
    assert done["state"] == "succeeded" and done["result"]["matched"] > 0, done
    matches = httpx.get(f"{base}{body['matches_url']}", headers=headers, timeout=60).json()
    assert matches["count"] > 0
    assert httpx.post(run, headers=headers, timeout=60).status_code == 200  # free again: answered now
