"""A busy database degrades gracefully: writers wait, then get 503 + Retry-After, never a 500.

A long import or ``techbridge match --all`` holds SQLite's single write lock. Here a second real
connection holds it (``BEGIN IMMEDIATE``, as an import's transaction does) while the app is used.
The URL's ``timeout`` shortens the busy wait so the test does not sit out the production default.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.services import records as record_service
from techbridge.services.worker import run_pending
from techbridge.store.accounts import ApiTokenRow, UserSessionRow
from techbridge.store.db import session_scope

from .conftest import PASSWORD, Api, make_api

BUSY_WAIT_S = 0.3


@pytest.fixture
def busy_api(tmp_path: Path, sqlite_url: str) -> Api:
    url = f"{sqlite_url}?timeout={BUSY_WAIT_S}"
    api = make_api(url, data_dir=tmp_path / "data")
    # Server errors must come back as responses here, as a real client would see them.
    api.client = TestClient(api.client.app, raise_server_exceptions=False)
    return api


@contextmanager
def write_lock_held(url: str) -> Iterator[None]:
    """Hold the database's write lock from another connection, as a long import does."""
    other = sqlite3.connect(url.removeprefix("sqlite:///").split("?")[0], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _age_tokens(url: str) -> None:
    with session_scope(url) as session:
        session.execute(update(ApiTokenRow).values(last_used_at=datetime.now(UTC) - timedelta(hours=1)))


def _last_used(url: str, api: Api, user: str) -> datetime | None:
    with session_scope(url) as session:
        rows = session.scalars(select(ApiTokenRow)).all()
        (row,) = [r for r in rows if api.tokens[user].startswith(r.prefix)]
        return row.last_used_at


def test_a_write_during_a_long_import_is_503_with_retry_after(busy_api: Api) -> None:
    headers = busy_api.headers("wuxi_admin")
    body = {"title": "高镍正极材料包覆工艺", "organization": "无锡丙公司"}
    with write_lock_held(busy_api.url):
        busy = busy_api.client.post("/api/v1/demands", json=body, headers=headers)
        read = busy_api.client.get("/api/v1/demands", headers=headers)
    assert busy.status_code == 503, busy.text
    assert int(busy.headers["Retry-After"]) >= 1
    assert "数据库繁忙" in busy.json()["detail"]
    assert read.status_code == 200  # WAL: readers go on while the import writes
    assert busy_api.client.post("/api/v1/demands", json=body, headers=headers).status_code == 201


def test_a_writer_waits_for_a_short_transaction_instead_of_failing(busy_api: Api) -> None:
    headers = busy_api.headers("wuxi_admin")
    body = {"title": "储能电池热失控预警", "organization": "无锡丙公司"}

    def hold_briefly() -> None:
        with write_lock_held(busy_api.url):
            held.set()
            time.sleep(BUSY_WAIT_S / 3)

    held = threading.Event()
    holder = threading.Thread(target=hold_briefly)
    holder.start()
    held.wait(5)
    created = busy_api.client.post("/api/v1/demands", json=body, headers=headers)
    holder.join()
    assert created.status_code == 201, created.text


def test_token_bookkeeping_never_fails_a_request(busy_api: Api, caplog: pytest.LogCaptureFixture) -> None:
    _age_tokens(busy_api.url)
    before = _last_used(busy_api.url, busy_api, "wuxi_corp")
    with caplog.at_level("WARNING", logger="techbridge.store.db"), write_lock_held(busy_api.url):
        read = busy_api.client.get("/api/v1/demands", headers=busy_api.headers("wuxi_corp"))
    assert read.status_code == 200, read.text
    # One busy wait, then the write is given up: counted, not timed (a loaded runner took 2.8 s).
    skipped = [r for r in caplog.records if r.getMessage().startswith("bookkeeping write skipped")]
    assert len(skipped) == 1
    assert _last_used(busy_api.url, busy_api, "wuxi_corp") == before  # skipped, not failed
    assert busy_api.client.get("/api/v1/demands", headers=busy_api.headers("wuxi_corp")).status_code == 200
    assert _last_used(busy_api.url, busy_api, "wuxi_corp") != before  # recorded once the lock is free


def test_web_form_during_a_long_import_is_a_503_page(busy_api: Api, tmp_path: Path) -> None:
    settings = Settings(database_url=busy_api.url, secret_key="test-secret", data_dir=tmp_path / "data")
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    login = BeautifulSoup(client.get("/login").text, "html.parser")
    token = login.select_one("input[name=csrf_token]")["value"]
    signed_in = client.post(
        "/login",
        data={"username": "wuxi_admin", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    form = BeautifulSoup(client.get("/demands/new").text, "html.parser")
    csrf = form.select_one("input[name=csrf_token]")["value"]
    with session_scope(busy_api.url) as session:  # the session's last-seen is due to be written
        session.execute(update(UserSessionRow).values(last_seen_at=datetime.now(UTC) - timedelta(hours=1)))
    with write_lock_held(busy_api.url):
        page = client.get("/demands", follow_redirects=False)
        busy = client.post(
            "/demands/new",
            data={"csrf_token": csrf, "title": "高镍正极材料包覆工艺", "organization": "无锡丙公司"},
            follow_redirects=False,
        )
    assert page.status_code == 200, page.text[:500]  # bookkeeping skipped, the page shown
    assert busy.status_code == 503, busy.text[:500]
    assert int(busy.headers["Retry-After"]) >= 1
    assert "数据库繁忙" in busy.text


def test_run_matching_while_match_all_holds_the_index_is_queued(
    busy_api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request waits a few seconds for the index that ``techbridge match --all`` holds, then the work
    is queued for the worker (202 and the job), and the worker does it once the index is free."""
    monkeypatch.setattr(record_service, "RUN_NOW_WAIT_S", BUSY_WAIT_S)
    run = f"/api/v1/demands/{busy_api.ids['wuxi_private']}/match"
    headers = busy_api.headers("wuxi_corp")
    assert busy_api.client.post(run, headers=headers).status_code == 200
    (lock_file,) = (tmp_path / "data" / "match-index").glob("*.lock")
    with lock_file.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as run_batch holds it for its whole run
        queued = busy_api.client.post(run, headers=headers)
    assert queued.status_code == 202, queued.text
    job_url = queued.headers["Location"]
    assert busy_api.client.get(job_url, headers=headers).json()["state"] == "queued"
    assert run_pending(busy_api.url, busy_api.client.app.state.settings) >= 1
    assert busy_api.client.get(job_url, headers=headers).json()["state"] == "succeeded"
    assert busy_api.client.post(run, headers=headers).status_code == 200
