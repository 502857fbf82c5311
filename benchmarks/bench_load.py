"""Load benchmark: the real server (uvicorn, demo data) under 50 and 100 locust clients, on SQLite and
PostgreSQL.

Each run: load the demo into a fresh database (``techbridge demo``), issue an API token per demo user,
start ``techbridge serve`` and ``techbridge worker`` in their own processes (as deployed), run ``locust
--headless`` (``benchmarks/locustfile.py``: mixed reads, searches, creates and run-matching) for
``--seconds``, wait (``--drain`` seconds at most) for the worker to finish every run-matching answered
202 (queued), stop both, then read back every demand a create got a 2xx for: one missing or different is
a lost write, as is a queued run-matching job that did not succeed. Prints a table and writes
``benchmarks/results/<stamp>-load.json``. Targets (issue 9): 0 5xx and 0 lost writes on both stores,
p95 under 1 s for reads at 50 clients on PostgreSQL.

    .venv/bin/python benchmarks/bench_load.py                            # SQLite, 50 and 100 clients
    .venv/bin/python benchmarks/bench_load.py --postgres postgresql+psycopg://u:p@127.0.0.1/postgres
    .venv/bin/python benchmarks/bench_load.py --stores postgres --clients 50 --seconds 60 --postgres URL
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
TMP = HERE / "results" / "tmp"
LOAD_USERS = ("wuxi_admin", "chengdu_admin", "wuxi_enterprise", "chengdu_enterprise")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from techbridge.cli import main; main()", *args]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database(store: str, postgres: str, work: Path) -> str:
    if store == "sqlite":
        return f"sqlite:///{work / 'techbridge.sqlite3'}"
    name = f"tb_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return postgres.rsplit("/", 1)[0] + f"/{name}"


def _drop(url: str, postgres: str) -> None:
    if url.startswith("postgresql"):
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


def _tokens(url: str) -> dict[str, str]:
    from techbridge.services import accounts
    from techbridge.store.accounts import find_user_row, row_to_user
    from techbridge.store.db import get_engine, session_scope

    with session_scope(url) as session:
        issued = {
            name: accounts.issue_token(
                session, user=row_to_user(find_user_row(session, name)), name="负载测试"
            ).token
            for name in LOAD_USERS
        }
    get_engine(url).dispose()
    return issued


def _lost_writes(url: str, created: list[dict]) -> list[dict]:
    """Creates that got a 2xx whose demand is not in the store (or holds another title)."""
    from techbridge.domain.access import Scope
    from techbridge.store.db import get_engine, session_scope
    from techbridge.store.records import get_records

    with session_scope(url) as session:
        found = get_records(session, "demand", [c["id"] for c in created], scope=Scope.platform())
    get_engine(url).dispose()
    return [c for c in created if c["id"] not in found or found[c["id"]].record.title != c["title"]]


def _job_states(url: str, job_ids: list[int]) -> dict[int, str]:
    from techbridge.store.db import get_engine, session_scope
    from techbridge.store.jobs import get_job

    with session_scope(url) as session:
        states = {job_id: get_job(session, job_id).state for job_id in set(job_ids)}
    get_engine(url).dispose()
    return states


def _drain(url: str, job_ids: list[int], seconds: float) -> tuple[dict[int, str], float]:
    """Wait until the worker has finished every queued job (or ``seconds`` pass): their states and the
    time it took."""
    started = time.monotonic()
    while True:
        states = _job_states(url, job_ids)
        if all(state in ("succeeded", "failed", "cancelled") for state in states.values()):
            break
        if time.monotonic() - started > seconds:
            break
        time.sleep(1.0)
    return states, time.monotonic() - started


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        _cli("serve", "--port", str(port)), env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 300  # serve loads the encoder and syncs the index before it listens
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit(f"server did not start, see {log}")


def _profile(server: subprocess.Popen[bytes], seconds: int, out: Path) -> subprocess.Popen[bytes]:
    """Sample the server's threads, waiting ones included, with py-spy (collapsed stacks in ``out``)."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(server.pid),
            "--idle", "--threads", "--rate", "20", "--format", "raw", "--duration", str(seconds),
            "--output", str(out), "--nonblocking",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip


def run(
    store: str,
    clients: int,
    seconds: int,
    url: str,
    env: dict[str, str],
    work: Path,
    *,
    profile: bool,
    drain: float,
    worker_during: bool = True,
) -> dict:
    port = _free_port()
    stem = work / f"{store}-{clients}"
    load_before = os.getloadavg()
    server = _serve(env, port, stem.with_suffix(".server.log"))
    worker_log = stem.with_suffix(".worker.log")

    def start_worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            _cli("worker"), env=env, stdout=worker_log.open("ab"), stderr=subprocess.STDOUT
        )

    worker = start_worker() if worker_during else None
    sampler = _profile(server, seconds, stem.with_suffix(".pyspy.txt")) if profile else None
    try:
        locust_env = {
            **env,
            "BENCH_TOKENS": json.dumps(_tokens(url)),
            "BENCH_CREATED": str(stem.with_suffix(".created.json")),
            "BENCH_QUEUED": str(stem.with_suffix(".queued.json")),
            "BENCH_SUMMARY": str(stem.with_suffix(".summary.json")),
        }
        subprocess.run(
            [
                sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
                "--users", str(clients), "--spawn-rate", str(max(1, clients // 5)),
                "--run-time", f"{seconds}s",
                "--host", f"http://127.0.0.1:{port}", "--only-summary", "--stop-timeout", "30",
                "--loglevel", "WARNING",
            ],
            env=locust_env, check=False, stdout=stem.with_suffix(".locust.log").open("wb"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        queued = json.loads(stem.with_suffix(".queued.json").read_text(encoding="utf-8"))
        worker = worker or start_worker()
        job_states, drain_seconds = _drain(url, queued, drain)
    finally:
        if sampler is not None:
            sampler.wait()
        _stop(server)
        if worker is not None:
            _stop(worker)
    summary = json.loads(stem.with_suffix(".summary.json").read_text(encoding="utf-8"))
    created = json.loads(stem.with_suffix(".created.json").read_text(encoding="utf-8"))
    statuses = summary["statuses"]
    server_log = stem.with_suffix(".server.log").read_text(encoding="utf-8", errors="replace")
    return {
        "store": store,
        "clients": clients,
        "seconds": seconds,
        "requests": sum(n for key, n in statuses.items() if not key.startswith("error")),
        "5xx": sum(n for key, n in statuses.items() if key.endswith(" 5xx")),
        "connection_errors": sum(n for key, n in statuses.items() if key.endswith("connection error")),
        "created": len(created),
        "lost_writes": len(_lost_writes(url, created)),
        "queued_202": len(queued),
        "queued_jobs": len(job_states),
        "queued_jobs_not_done": sum(state != "succeeded" for state in job_states.values()),
        "drain_seconds": round(drain_seconds, 1),
        "worker": "during" if worker_during else "after",
        "tracebacks_in_server_log": server_log.count("Traceback"),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "statuses": statuses,
        "groups": summary["groups"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stores", nargs="+", choices=("sqlite", "postgres"), default=None)
    parser.add_argument("--clients", nargs="+", type=int, default=[50, 100])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--worker",
        choices=("during", "after"),
        default="during",
        help="Run the job worker beside the server during the load (as deployed) or start it after",
    )
    parser.add_argument(
        "--drain", type=float, default=300, help="Seconds to wait for queued run-matching jobs after a run"
    )
    parser.add_argument(
        "--profile", action="store_true", help="Sample the server with py-spy (stacks in results/tmp/)"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TECHBRIDGE_TEST_POSTGRES_URL", ""),
        help="A PostgreSQL URL whose server may create databases (default: TECHBRIDGE_TEST_POSTGRES_URL)",
    )
    args = parser.parse_args()
    stores = args.stores or (["sqlite", "postgres"] if args.postgres else ["sqlite"])
    results = []
    for store in stores:
        work = TMP / f"load-{store}-{uuid.uuid4().hex[:6]}"
        work.mkdir(parents=True)
        url = _database(store, args.postgres, work)
        env = {
            **os.environ,
            "TECHBRIDGE_DATABASE_URL": url,
            "TECHBRIDGE_DATA_DIR": str(work / "data"),
            "TECHBRIDGE_SECRET_KEY": uuid.uuid4().hex,
        }
        try:
            started = time.perf_counter()
            subprocess.run(_cli("demo"), env=env, check=True, stdout=subprocess.DEVNULL)
            print(f"{store}: demo loaded in {time.perf_counter() - started:.0f} s", flush=True)  # noqa: T201
            for clients in args.clients:
                result = run(
                    store,
                    clients,
                    args.seconds,
                    url,
                    env,
                    work,
                    profile=args.profile,
                    drain=args.drain,
                    worker_during=args.worker == "during",
                )
                results.append(result)
                reads = result["groups"].get("read", {})
                print(  # noqa: T201
                    f"{store} {clients} clients: {result['requests']} requests, 5xx {result['5xx']}, "
                    f"connection errors {result['connection_errors']}, lost writes {result['lost_writes']} "
                    f"of {result['created']}, read p95 {reads.get('p95_ms')} ms, queued (202) "
                    f"{result['queued_202']} ({result['queued_jobs']} jobs, not done "
                    f"{result['queued_jobs_not_done']} after {result['drain_seconds']} s)",
                    flush=True,
                )
        finally:
            _drop(url, args.postgres)
    sys.path.insert(0, str(HERE))
    from _common import write_result

    print(f"results: {write_result('load', {'cpus': os.cpu_count(), 'runs': results})}")  # noqa: T201


if __name__ == "__main__":
    main()
