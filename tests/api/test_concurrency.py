"""Concurrent requests through a real server (uvicorn in a thread), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from ..live import serve
from .conftest import Api


@pytest.fixture
def served(api_all_dbs: Api) -> Iterator[tuple[Api, str]]:
    with serve(api_all_dbs.client.app) as url:
        yield api_all_dbs, url


def test_parallel_run_matching_of_one_record_all_succeed_alike(served: tuple[Api, str]) -> None:
    """Issue 9 #13: 10 parallel POST /demands/1/match on PostgreSQL gave 4 × 409 (a unique-key race)."""
    api, base = served
    url = f"{base}/api/v1/demands/{api.ids['wuxi_private']}/match"
    headers = api.headers("wuxi_corp")
    start = threading.Barrier(10)

    def run(_: int) -> httpx.Response:
        start.wait()
        return httpx.post(url, headers=headers, timeout=120)

    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(run, range(10)))
    assert [r.status_code for r in responses] == [200] * 10, [r.text[:200] for r in responses]
    results = {
        tuple((m["target_kind"], m["target_id"], m["rank"]) for m in r.json()["data"]) for r in responses
    }
    assert len(results) == 1 and next(iter(results))
    stored = httpx.get(url.removesuffix("/match") + "/matches", headers=headers, timeout=30).json()["data"]
    assert {tuple((m["target_kind"], m["target_id"], m["rank"]) for m in stored)} == results
