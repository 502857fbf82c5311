"""Memory and latency of ``techbridge serve --workers N`` on one shared, memory-mapped match index.

Run by hand (the 1M run only under ``flock /work/notes/heavy.lock``):

    python benchmarks/bench_workers.py [--size 1000000] [--workers 1 4] [--requests 40]

1. A SQLite store of ``--size`` achievements and 50 demands (``bench_match_service.generate``: real titles
   recombined with real abstract sentences), and its match index built once into a data directory (the
   service's own sync, no encoder: encoding a million records takes hours on 2 cores).
2. ``techbridge serve --workers N`` for each N against that store and data directory. Concurrent
   ``POST /api/v1/demands/{id}/match`` requests warm it until every worker has mapped the snapshot; then
   PSS, USS and RSS of each worker (psutil), and the latency of single-demand matching through HTTP, one
   request at a time (p50/p95).
3. The baseline in the same run: the code of ``BASELINE_REV`` (main before the index was mapped: each
   process reads the whole snapshot into its own memory), from ``git archive``, served with one worker
   on a copy of the same index in its format; and in one process, ``MatchEngine.rank`` on the snapshot
   read into memory against the same snapshot mapped. ``--baseline-rev REV`` compares with other code,
   serving the same mapped index (``c9ff930`` cannot open a store made with later migrations).

The store and index under ``results/tmp/workers-SIZE`` are kept and reused by later runs (building the 1M
index takes about 20 minutes); delete the directory to rebuild them.

Targets (issue 11): the PSS of 4 workers summed under 1.5× that of one; latency within 1.2× of the
baseline's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
BASELINE_REV = "c9ff930"  # main before snapshots were mapped
PASSWORD = "shared-index-measure-7421"
DEMANDS = 50  # bench_match_service.DEMANDS: demand ids 1..50


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _env(data_dir: Path, url: str, src: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "TECHBRIDGE_DATABASE_URL": url, "TECHBRIDGE_DATA_DIR": str(data_dir)}
    env["TECHBRIDGE_ENCODER"] = "none"  # as the index was built (the default, auto, now finds M3E-small)
    env.pop("TECHBRIDGE_SECRET_KEY", None)  # dev: the server generates one in the data dir
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def build_index(url: str, data_dir: Path) -> float:
    """The index of the store, as the service keeps it (snapshot + state), built by one sync."""
    from techbridge.config import Settings
    from techbridge.services import matching
    from techbridge.store.db import session_scope

    started = time.perf_counter()
    settings = Settings(data_dir=data_dir, database_url=url, encoder="none")
    with session_scope(url) as session, matching._open_index(session, settings) as index:
        upsert = index.engine.upsert  # the service segments in-process; here both cores help
        index.engine.upsert = lambda docs, **options: upsert(docs, workers=2, **options)  # type: ignore[method-assign]
        index.sync(session)
    return time.perf_counter() - started


def create_admin(url: str) -> None:
    from techbridge.domain.accounts import Role
    from techbridge.services.accounts import create_user
    from techbridge.store.accounts import find_user_row
    from techbridge.store.db import session_scope

    with session_scope(url) as session:
        if find_user_row(session, "bench") is None:
            create_user(session, username="bench", password=PASSWORD, role=Role.PLATFORM_ADMIN)


def baseline_index(data_dir: Path, baseline_dir: Path) -> None:
    """The same index in the baseline's format: arrays hard-linked, keys and manifest back in JSON."""
    from techbridge.match.keys import load_key_map, load_keys

    shutil.rmtree(baseline_dir, ignore_errors=True)
    shutil.copytree(data_dir, baseline_dir, copy_function=os.link)
    for state_file in (baseline_dir / "match-index").glob("*/state.json"):
        snapshot = state_file.parent / json.loads(state_file.read_text(encoding="utf-8"))["snapshot"]
        meta_file = snapshot / "engine.json"
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        meta["keys"] = list(load_keys(snapshot, mmap=True)[0])
        meta_file.unlink()  # a hard link: write a new file, not into the shared one
        meta_file.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        stamps = {
            key: (epoch + timedelta(microseconds=micros)).isoformat()
            for key, micros in load_key_map(snapshot / "manifest", mmap=True).items()
        }
        (snapshot / "manifest.json").write_text(json.dumps(stamps), encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``techbridge serve`` in a child process (own process group, so it is stopped with its workers)."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        args = [sys.executable, "-c", "from techbridge.cli import main; main()", "serve"]
        args += ["--port", str(self.port)] + (["--workers", str(workers)] if workers > 1 else [])
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.workers = workers
        deadline = time.monotonic() + 120
        while True:
            assert self.proc.poll() is None, f"serve exited, see {log}"
            assert time.monotonic() < deadline, "serve did not start"
            try:
                httpx.get(f"{self.base}/openapi.json", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        token = httpx.post(
            f"{self.base}/login", json={"username": "bench", "password": PASSWORD}, timeout=60
        ).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def worker_processes(self) -> list[psutil.Process]:
        main = psutil.Process(self.proc.pid)
        if self.workers == 1:
            return [main]
        # uvicorn's workers are the server's children (forked or spawned); not its resource tracker
        return [p for p in main.children() if not any("resource_tracker" in a for a in p.cmdline())]

    def supervisor(self) -> psutil.Process | None:
        return None if self.workers == 1 else psutil.Process(self.proc.pid)

    def match(self, demand_id: int) -> float:
        started = time.perf_counter()
        response = httpx.post(f"{self.base}/demands/{demand_id}/match", headers=self.headers, timeout=300)
        response.raise_for_status()
        return time.perf_counter() - started

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def _maps_snapshot(process: psutil.Process) -> bool:
    return any("/snapshot-" in m.path for m in process.memory_maps(grouped=True))


def warm(server: Server, *, mapped: bool) -> int:
    """Concurrent requests until every worker has loaded the index; returns the requests sent."""
    sent, deadline = 0, time.monotonic() + 1800
    with ThreadPoolExecutor(max(2 * server.workers, 2)) as pool:
        while True:
            ids = [1 + (sent + i) % DEMANDS for i in range(max(2 * server.workers, 2))]
            list(pool.map(server.match, ids))
            sent += len(ids)
            workers = server.worker_processes()
            if not mapped or all(_maps_snapshot(p) for p in workers):
                return sent
            assert time.monotonic() < deadline, "not every worker loaded the index"


_SMAPS_FIELDS = ("Rss", "Pss", "Private_Clean", "Private_Dirty", "Anonymous")


def _region(path: str) -> str:
    if "/snapshot-" in path:
        return "snapshot"  # the mapped index arrays
    if not path or path.startswith("[heap]") or path.startswith("[anon"):
        return "anonymous"  # malloc's heap and arenas, numpy's and Python's own allocations
    if ".so" in path:
        return "libraries"
    return "other"  # stacks, other mapped files (jieba's cache, the SQLite store, .pyc are not mapped)


def smaps(pid: int) -> dict[str, dict[str, float]]:
    """Where a process's memory is, by kind of mapping (/proc/PID/smaps), in MiB: Private_* is what it
    holds alone (USS), Pss its share of everything."""
    totals: dict[str, dict[str, float]] = {}
    region = "other"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head, _, rest = line.partition(" ")
        if "-" in head and not head.endswith(":"):  # a mapping's header: address range, perms, ..., path
            fields = line.split(maxsplit=5)
            region = _region(fields[5] if len(fields) > 5 else "")
        elif head[:-1] in _SMAPS_FIELDS:
            row = totals.setdefault(region, dict.fromkeys(_SMAPS_FIELDS, 0.0))
            row[head[:-1]] += int(rest.split()[0]) / 1024
    return {name: {k: round(v, 1) for k, v in row.items()} for name, row in sorted(totals.items())}


def memory(server: Server) -> dict:
    def info(process: psutil.Process) -> dict:
        full = process.memory_full_info()
        figures = {k: getattr(full, k) / 2**20 for k in ("pss", "uss", "rss")}
        return {"pid": process.pid, **figures, "smaps": smaps(process.pid)}

    workers = [info(p) for p in server.worker_processes()]
    supervisor = server.supervisor()
    return {
        "workers": workers,
        "pss_mib": sum(w["pss"] for w in workers),
        "uss_mib": sum(w["uss"] for w in workers),
        "supervisor": None if supervisor is None else info(supervisor),
    }


def latency(server: Server, requests: int) -> dict:
    ms = np.array([server.match(1 + i % DEMANDS) for i in range(requests)]) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "n": requests}


def run_server(env: dict[str, str], workers: int, *, requests: int, log: Path, mapped: bool) -> dict:
    server = Server(env, workers, log)
    try:
        warm_requests = warm(server, mapped=mapped)
        result = {"n_workers": workers, "warm_requests": warm_requests, **memory(server)}
        result["latency"] = latency(server, requests)
        result["after_latency"] = memory(server)
        result["load_average"] = os.getloadavg()
        return result
    finally:
        server.stop()


def interleaved(baseline_env: dict[str, str], env: dict[str, str], requests: int, work: Path) -> dict:
    """Single-demand latency of the baseline and of one mapped worker, both running, request by request
    in turn: a machine shared with other jobs slows both alike. (Memory is not read here: the two
    servers hold different copies, and nothing else maps the snapshot.)"""
    servers = {
        "baseline": Server(baseline_env, 1, work / "interleaved-baseline.log"),
        "mapped": Server(env, 1, work / "interleaved-mapped.log"),
    }
    try:
        times: dict[str, list[float]] = {name: [] for name in servers}
        for server in servers.values():
            server.match(1)  # loads the index
        for i in range(requests):
            for name, server in servers.items():
                times[name].append(server.match(1 + i % DEMANDS) * 1000)
        result = {
            name: {"p50_ms": float(np.percentile(t, 50)), "p95_ms": float(np.percentile(t, 95))}
            for name, t in times.items()
        }
        result["p50_ratio"] = result["mapped"]["p50_ms"] / result["baseline"]["p50_ms"]
        result["p95_ratio"] = result["mapped"]["p95_ms"] / result["baseline"]["p95_ms"]
        result["load_average"] = os.getloadavg()
        return result
    finally:
        for server in servers.values():
            server.stop()


def update_cost(snapshot: str) -> dict:
    """What one process holds privately for a mapped snapshot, and after one record changed in it."""
    from _common import RealText

    from techbridge.match import Kind, MatchEngine

    text = RealText()
    demand, (doc,) = text.demands(1)[0], list(text.achievements(1, seed=99, prefix="changed"))
    del text
    MatchEngine().analyzer.tokenize(demand.title)  # jieba's dictionary is not the index's
    process = psutil.Process()
    started = process.memory_full_info().uss
    engine = MatchEngine.load(Path(snapshot), mmap=True)
    engine.rank(demand, target_kind=Kind.ACHIEVEMENT, top_k=20)
    loaded = process.memory_full_info().uss
    engine.upsert([doc])
    engine.rank(demand, target_kind=Kind.ACHIEVEMENT, top_k=20)
    changed = process.memory_full_info().uss
    return {
        "vocabulary_terms": len(engine.lexical.vocab),
        "private_after_load_mib": (loaded - started) / 2**20,
        "private_after_one_change_mib": (changed - loaded) / 2**20,
    }


def engine_latency(snapshot: str, queries: int) -> dict:
    """``rank`` on the snapshot read into memory and on the same snapshot mapped, interleaved."""
    from _common import RealText

    from techbridge.match import Kind, MatchEngine

    engines = {
        "copied": MatchEngine.load(Path(snapshot)),
        "mapped": MatchEngine.load(Path(snapshot), mmap=True),
    }
    demands = RealText().demands(queries)
    times: dict[str, list[float]] = {name: [] for name in engines}
    for demand in demands[:5]:  # first touches
        for engine in engines.values():
            engine.rank(demand, target_kind=Kind.ACHIEVEMENT, top_k=20)
    for demand in demands:
        for name, engine in engines.items():
            started = time.perf_counter()
            engine.rank(demand, target_kind=Kind.ACHIEVEMENT, top_k=20)
            times[name].append(time.perf_counter() - started)
    return {
        name: {"p50_ms": float(np.percentile(t, 50) * 1000), "p95_ms": float(np.percentile(t, 95) * 1000)}
        for name, t in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 4])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--engine-queries", type=int, default=200)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--baseline-rev",
        default=BASELINE_REV,
        help="code to compare with; another than the default serves the same mapped index (a store made "
        "by newer code has migrations the default does not know)",
    )
    parser.add_argument("--prepare-only", action="store_true", help="build the store and index, then stop")
    parser.add_argument("--engine-latency", help=argparse.SUPPRESS)
    parser.add_argument("--update-cost", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.update_cost:
        print(json.dumps(update_cost(args.update_cost)))  # noqa: T201
        return
    if args.engine_latency:
        print(json.dumps(engine_latency(args.engine_latency, args.engine_queries)))  # noqa: T201
        return

    from _common import echo, source_at, write_result
    from bench_match_service import generate

    work = ROOT / "benchmarks" / "results" / "tmp" / f"workers-{args.size}"
    work.mkdir(parents=True, exist_ok=True)
    store, data_dir = work / "store.sqlite3", work / "data"
    figures: dict = {"achievements": args.size, "demands": DEMANDS, "load_average_start": os.getloadavg()}
    started = time.perf_counter()
    generate(store, args.size)
    url = _url(store)
    create_admin(url)
    figures["store_s"] = time.perf_counter() - started
    if not list(data_dir.glob("match-index/*/state.json")):
        figures["index_build_s"] = build_index(url, data_dir)
    echo("store and index ready", figures)
    if args.prepare_only:
        return
    (snapshot,) = data_dir.glob("match-index/*/snapshot-*")
    figures["snapshot_mib"] = sum(p.stat().st_size for p in snapshot.rglob("*") if p.is_file()) / 2**20

    runs = []
    baseline_env = None
    if not args.no_baseline:
        copied = args.baseline_rev == BASELINE_REV
        if copied:
            baseline_index(data_dir, work / "baseline-data")
        baseline_src = source_at(args.baseline_rev, work / "baseline-src")
        baseline_env = _env(work / "baseline-data" if copied else data_dir, url, baseline_src)
        log = work / "serve-baseline.log"
        result = run_server(baseline_env, 1, requests=args.requests, log=log, mapped=not copied)
        runs.append({"code": f"baseline {args.baseline_rev}", **result})
        echo("baseline", runs[-1])
    for workers in args.workers:
        result = run_server(
            _env(data_dir, url),
            workers,
            requests=args.requests,
            log=work / f"serve-{workers}.log",
            mapped=True,
        )
        runs.append({"code": "mapped", **result})
        echo(f"{workers} workers", runs[-1])
    figures["runs"] = runs
    if baseline_env is not None:
        figures["interleaved"] = interleaved(baseline_env, _env(data_dir, url), args.requests, work)
        echo("interleaved", figures["interleaved"])
    figures["engine_rank"] = json.loads(
        subprocess.check_output(
            [
                sys.executable,
                __file__,
                "--engine-latency",
                str(snapshot),
                "--engine-queries",
                str(args.engine_queries),
            ],
            cwd=ROOT,
        )
    )
    echo("engine rank", figures["engine_rank"])
    cost = subprocess.check_output([sys.executable, __file__, "--update-cost", str(snapshot)])
    figures["one_process"] = json.loads(cost)
    echo("one process", figures["one_process"])
    mapped = {r["n_workers"]: r for r in runs if r["code"] == "mapped"}
    if 1 in mapped and 4 in mapped:
        figures["pss_ratio_4_vs_1"] = mapped[4]["pss_mib"] / mapped[1]["pss_mib"]
    baseline = next((r for r in runs if r["code"].startswith("baseline")), None)
    if baseline is not None:
        for workers, run in mapped.items():
            figures[f"latency_p50_ratio_{workers}_vs_baseline"] = (
                run["latency"]["p50_ms"] / baseline["latency"]["p50_ms"]
            )
    figures["load_average_end"] = os.getloadavg()
    echo("written", write_result("workers", figures))


if __name__ == "__main__":
    main()
