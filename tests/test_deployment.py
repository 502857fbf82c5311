"""docs/deployment.md runs as written, against a real PostgreSQL server.

Each block marked ``<!-- deployment-test: NAME -->`` is taken from the file and run by bash (shell
blocks) or started as its systemd unit would start it (the unit's ``ExecStart`` with its
``EnvironmentFile``). Only the paths are this test's: ``/opt/techbridge/venv`` is this interpreter's
environment, ``/etc/techbridge``, ``/var/lib/techbridge`` and ``/var/backups/techbridge`` are temporary
directories, the role and database get unique names, and the web port is a free one.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from techbridge.domain.access import Scope
from techbridge.domain.records import Achievement, Demand
from techbridge.services import jobs
from techbridge.store import jobs as job_store
from techbridge.store.db import alembic_config, get_engine, session_scope
from techbridge.store.records import iter_records, upsert_records

from .conftest import POSTGRES_URL, REQUIRE_ALL, _require_or_skip

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "deployment.md"
VENV_BIN = Path(sys.executable).parent
ADMIN_PASSWORD = "Zone-IT-rollout-7319"


def guide_blocks() -> dict[str, str]:
    """The guide's marked blocks by name."""
    found = re.findall(
        r"<!-- deployment-test: ([\w-]+) -->\n```\w+\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S
    )
    return dict(found)


def exec_starts(unit: str) -> list[list[str]]:
    return [line.split("=", 1)[1].split() for line in unit.splitlines() if line.startswith("ExecStart=")]


class Site:
    """The guide's paths mapped into a temporary directory, and its role and database names."""

    def __init__(self, tmp: Path) -> None:
        self.name = f"tbdeploy_{uuid.uuid4().hex[:8]}"
        self.etc, self.data, self.backups = tmp / "etc", tmp / "lib", tmp / "backups"
        self.etc.mkdir()
        self.data.mkdir()
        server = make_url(POSTGRES_URL)
        self.pg_env = {
            "PGHOST": server.host or "127.0.0.1",
            "PGPORT": str(server.port or 5432),
            "PGUSER": server.username or "",
            "PGPASSWORD": server.password or "",
            "PGDATABASE": server.database or "",
        }
        self.url = (
            f"postgresql+psycopg://{self.name}:change-this-password@{self.pg_env['PGHOST']}:"
            f"{self.pg_env['PGPORT']}/{self.name}"
        )

    def localise(self, block: str) -> str:
        block = block.replace("/opt/techbridge/venv/bin/", f"{VENV_BIN}/")
        block = block.replace("/etc/techbridge/techbridge.env", str(self.etc / "techbridge.env"))
        block = block.replace("/var/lib/techbridge", str(self.data))
        block = block.replace("/var/backups/techbridge", str(self.backups))
        block = block.replace("sudo -u postgres ", "")
        # The role and the database (named techbridge in the guide) get this test's name.
        block = re.sub(r"(ROLE |--owner=|@127\.0\.0\.1:5432/|//)techbridge\b", rf"\g<1>{self.name}", block)
        block = re.sub(r"--owner=(\S+) techbridge$", rf"--owner=\1 {self.name}", block, flags=re.M)
        return block.replace("127.0.0.1:5432", f"{self.pg_env['PGHOST']}:{self.pg_env['PGPORT']}")

    def write_settings(self, block: str) -> None:
        """The guide's settings file, with the secret it tells the reader to generate."""
        secret = "TECHBRIDGE_SECRET_KEY=" + secrets.token_urlsafe(48)
        block = re.sub(r"^TECHBRIDGE_SECRET_KEY=.*$", secret, self.localise(block), flags=re.M)
        (self.etc / "techbridge.env").write_text(block, encoding="utf-8")

    def environment(self) -> dict[str, str]:
        """What a unit's EnvironmentFile gives its process (on top of this test's environment)."""
        env = {**os.environ}
        for line in (self.etc / "techbridge.env").read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                env[key] = value
        return env

    def bash(self, block: str, *, stdin: str = "") -> str:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", self.localise(block)],
            input=stdin,
            capture_output=True,
            text=True,
            env={**os.environ, **self.pg_env},
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"{block}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        return done.stdout


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    if not POSTGRES_URL:
        _require_or_skip("PostgreSQL (TECHBRIDGE_TEST_POSTGRES_URL)")
    for tool in ("pg_dump", "pg_restore", "psql", "createdb"):
        if shutil.which(tool) is None:
            _require_or_skip(tool)
    site = Site(tmp_path)
    yield site
    get_engine(site.url).dispose()
    get_engine.cache_clear()
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{site.name}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{site.name}"'))
    admin.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(site: Site, command: list[str], **env: str) -> subprocess.Popen:
    command = [site.localise(part) for part in command]
    return subprocess.Popen(
        command,
        env={**site.environment(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen, timeout: float) -> int:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


def _seed(url: str) -> None:
    wuxi = {"zone_code": "wuxi"}
    with session_scope(url) as session:
        upsert_records(
            session,
            "demand",
            [
                Demand(
                    title="锂电池隔膜陶瓷涂层",
                    description="需要锂电池隔膜陶瓷涂层的制备方法",
                    organization="无锡某新能源公司",
                    **wuxi,
                )
            ],
        )
        upsert_records(
            session,
            "achievement",
            [
                Achievement(title=f"一种锂电池隔膜陶瓷涂层制备方法{i}号", ipc_codes=["H01M"], **wuxi)
                for i in range(30)
            ],
        )


def _snapshot_mappers(server: subprocess.Popen) -> set[int]:
    """Worker pids that map the match index's snapshot."""
    mappers = set()
    for worker in psutil.Process(server.pid).children():
        maps = Path(f"/proc/{worker.pid}/maps").read_text(encoding="utf-8")
        if "/match-index/" in maps and "/snapshot-" in maps:
            mappers.add(worker.pid)
    return mappers


def _serve_and_check(site: Site, unit: str) -> None:
    """The web unit's command, with its workers, answers concurrent requests; they share the index."""
    (command,) = exec_starts(unit)
    workers = int(command[command.index("--workers") + 1])
    port = _free_port()
    command[command.index("--port") + 1] = str(port)
    server = _start(site, command)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "serve did not start"
            try:
                httpx.get(f"{base}/openapi.json", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        children = psutil.Process(server.pid).children()
        assert len(children) >= workers
        # Forked from the server process (sharing its loaded modules), not spawned afresh.
        assert sum(c.cmdline() == psutil.Process(server.pid).cmdline() for c in children) == workers
        token = httpx.post(
            f"{base}/login", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=30
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        with session_scope(site.url) as session:
            (demand,) = list(iter_records(session, "demand", scope=Scope.platform()))

        def request(i: int) -> int:
            with httpx.Client(timeout=60) as client:  # one connection each: the kernel spreads them
                if i % 2:
                    return client.get(f"{base}/demands", headers=headers).status_code
                return client.post(f"{base}/demands/{demand.id}/match", headers=headers).status_code

        with ThreadPoolExecutor(8) as pool:
            for _ in range(10):
                assert set(pool.map(request, range(16))) == {200}
                if len(_snapshot_mappers(server)) >= 2:
                    break
        # Two or more worker processes ranked with the same snapshot, each through a read-only map.
        assert len(_snapshot_mappers(server)) >= 2
        matches = httpx.get(
            f"{base}/demands/{demand.id}/matches?target_kind=achievement", headers=headers, timeout=30
        ).json()
        assert matches["data"], matches
    finally:
        assert _stop(server, timeout=30) == 0


@pytest.mark.postgres
@pytest.mark.slow
def test_the_deployment_guide_runs_as_written(site: Site, tmp_path: Path) -> None:
    blocks = guide_blocks()
    assert set(blocks) == {
        "database", "settings", "init", "web", "nginx", "worker", "batch", "backup", "restore", "upgrade"
    }  # fmt: skip
    site.bash(blocks["database"])
    site.write_settings(blocks["settings"])
    assert site.environment()["TECHBRIDGE_ENVIRONMENT"] == "production"
    output = site.bash(blocks["init"], stdin=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert "admin" in output
    assert "change-this-password" not in output  # init-db once printed the database URL with it
    _seed(site.url)

    _serve_and_check(site, blocks["web"])

    (worker_command,) = exec_starts(blocks["worker"])
    worker = _start(site, worker_command)
    with session_scope(site.url) as session:
        job_id = jobs.submit(session, kind="batch_match", params={}, user=None, zone_code="wuxi").id
    deadline = time.monotonic() + 120
    while _job_state(site.url, job_id) != "succeeded":  # the worker ran a matching job
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
        assert time.monotonic() < deadline, "the worker did not run the job"
        time.sleep(0.3)
    assert _stop(worker, timeout=60) == 0  # SIGTERM within TimeoutStopSec=60

    (batch_command,) = exec_starts(blocks["batch"])
    assert "OnCalendar=*-*-* 02:00:00" in blocks["batch"]
    batch = [site.localise(part) for part in batch_command]
    done = subprocess.run(batch, env=site.environment(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr

    (site.data / "deal-files" / "1").mkdir(parents=True)
    (site.data / "deal-files" / "1" / "contract.pdf").write_bytes(b"%PDF-1.4 test")
    site.bash(blocks["backup"])
    assert list(site.backups.glob("techbridge-*.dump")) and list(site.backups.glob("deal-files-*.tar.gz"))
    before = _titles(site.url)
    with session_scope(site.url) as session:  # a change after the backup, which the restore undoes
        upsert_records(session, "achievement", [Achievement(title="备份之后的新成果", zone_code="wuxi")])
    shutil.rmtree(site.data / "deal-files")
    site.bash(blocks["restore"])
    assert _titles(site.url) == before
    assert (site.data / "deal-files" / "1" / "contract.pdf").read_bytes() == b"%PDF-1.4 test"
    assert list(site.data.glob("match-index/*/state.json"))  # rebuilt by match --all --full

    _check_nginx(blocks["nginx"], tmp_path)


def _job_state(url: str, job_id: int) -> str:
    with session_scope(url) as session:
        return job_store.get_job(session, job_id).state


def _titles(url: str) -> list[str]:
    get_engine(url).dispose()  # the restore replaced the tables under any pooled connection
    with session_scope(url) as session:
        return sorted(s.record.title for s in iter_records(session, "achievement", scope=Scope.platform()))


def _check_nginx(config: str, tmp_path: Path) -> None:
    """``nginx -t`` on the guide's server blocks, where nginx and openssl are installed (not in CI)."""
    if shutil.which("nginx") is None or shutil.which("openssl") is None:
        return
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=tb.example.cn",
         "-keyout", str(key), "-out", str(cert), "-days", "1"],
        check=True, capture_output=True,
    )  # fmt: skip
    config = config.replace("/etc/ssl/certs/tb.example.cn.pem", str(cert))
    config = config.replace("/etc/ssl/private/tb.example.cn.key", str(key))
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n{config}\n}}\n", encoding="utf-8")
    done = subprocess.run(
        ["nginx", "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.postgres
def test_init_db_upgrades_an_existing_database(site: Site) -> None:
    """The guide's upgrade step on a database of an older release: migrated, records kept."""
    from alembic import command
    from alembic.script import ScriptDirectory

    blocks = guide_blocks()
    site.bash(blocks["database"])
    site.write_settings(blocks["settings"])
    config = alembic_config(site.url)
    head = ScriptDirectory.from_config(config).get_current_head()
    older = ScriptDirectory.from_config(config).get_revision(head).down_revision
    command.upgrade(config, str(older))  # the database as the previous release left it
    with get_engine(site.url).begin() as conn:
        conn.execute(text("INSERT INTO site_flags (key, value) VALUES ('kept', 'yes')"))
    get_engine(site.url).dispose()
    site.bash(blocks["upgrade"])
    with get_engine(site.url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
        assert conn.execute(text("SELECT value FROM site_flags WHERE key = 'kept'")).scalar_one() == "yes"


def test_the_guide_links_from_the_readme() -> None:
    assert "(docs/deployment.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert not REQUIRE_ALL or shutil.which("pg_dump"), "CI installs postgresql, which brings pg_dump"


def test_serve_refuses_reload_with_several_workers() -> None:
    done = subprocess.run(
        [str(VENV_BIN / "techbridge"), "serve", "--reload", "--workers", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "--reload 与 --workers 不能同时使用" in done.stderr
