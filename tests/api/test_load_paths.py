"""What made 100 load-test clients fail (docs/reliability.md, Load test), reproduced on a real server
with a small worker-thread pool so the test needs a handful of requests instead of a hundred.

1. A write's transaction stayed open until FastAPI had validated the response on another worker thread:
   with every thread taken by writers waiting for SQLite's write lock, the lock holder could not finish,
   and all stood still until the busy timeout made the waiters 503s.
2. Run-matching requests waited for the match index on worker threads, so reads queued behind them.
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
from techbridge.services import matching

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
    monkeypatch.setattr(matching, "INDEX_WAIT_S", 8.0)
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
        began = time.monotonic()
        read = httpx.get(demand, headers=headers, timeout=60)
        read_seconds = time.monotonic() - began
        fcntl.flock(held, fcntl.LOCK_UN)
        statuses = [f.result().status_code for f in waiting]
    assert read.status_code == 200 and read_seconds < 2.0, read_seconds
    assert statuses == [200] * (THREADS + 2)


def test_run_matching_waits_its_turn_a_bounded_time(
    small_server: tuple[Api, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, base = small_server
    monkeypatch.setattr(matching, "INDEX_WAIT_S", 30.0)
    monkeypatch.setattr(record_routes, "MATCHING_WAIT_S", 0.5)
    headers = api.headers("wuxi_corp")
    run = f"{base}/api/v1/demands/{api.ids['wuxi_private']}/match"
    assert httpx.post(run, headers=headers, timeout=60).status_code == 200
    (lock_file,) = (tmp_path / "data" / "match-index").glob("*.lock")
    with lock_file.open("w") as held, ThreadPoolExecutor(record_routes.MATCHING_AT_ONCE + 1) as pool:
        fcntl.flock(held, fcntl.LOCK_EX)
        inside = [
            pool.submit(httpx.post, run, headers=headers, timeout=60)
            for _ in range(record_routes.MATCHING_AT_ONCE)
        ]
        time.sleep(0.5)
        late = httpx.post(run, headers=headers, timeout=60)
        fcntl.flock(held, fcntl.LOCK_UN)
        assert {f.result().status_code for f in inside} == {200}
    assert late.status_code == 503 and int(late.headers["Retry-After"]) >= 1
    assert "请稍后重试" in late.json()["detail"]
