"""Latency of one record's matching through the service (store + persisted index) after one change.

What the web 运行匹配 button and ``POST /api/v1/demand/{id}/match`` cost: ``match_record`` for one demand,
right after one achievement was edited, over a SQLite store of ``--size`` achievements (100,000 by
default). Achievements are synthesised by recombining real titles with real abstract sentences (as in
``bench_match_speed.py``); the catalogue is dated a day back, as if imported earlier.

The baseline is the code of ``BASELINE_REV`` (each call scans every record of the store and rewrites the
whole index), taken with ``git archive`` and measured in the same run on a copy of the same database.

- warm: calls in one long-lived process, as in the web server;
- cold: one call in a fresh process, as ``techbridge match demand ID`` makes it.

    python benchmarks/bench_match_service.py [--size 100000] [--rounds 20] [--baseline-rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "results" / "tmp"
BASELINE_REV = "6748f0b"  # the last commit before incremental sync
DEMANDS = 50


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def generate(path: Path, size: int) -> None:
    """A store of ``size`` achievements and ``DEMANDS`` demands, all last changed a day ago."""
    from _common import RealText
    from sqlalchemy import update

    from techbridge.domain.records import Achievement, Demand
    from techbridge.store.db import get_engine, init_db, session_scope
    from techbridge.store.records import table_for, upsert_records

    if path.exists():
        return
    staged = path.with_suffix(".partial")
    staged.unlink(missing_ok=True)
    init_db(_url(staged))
    text = RealText()
    docs = text.achievements(size)
    with session_scope(_url(staged)) as session:
        while chunk := list(islice(docs, 5000)):
            upsert_records(
                session,
                "achievement",
                [
                    Achievement(
                        external_id=doc.id,
                        title=doc.title[:300],
                        abstract=doc.text,
                        ipc_codes=doc.labels.get("ipc", []),
                        discipline=(doc.labels.get("discipline") or [None])[0],
                        trl=doc.trl,
                        zone_code="wuxi",
                        visibility="shared" if doc.is_shared else "private",
                    )
                    for doc in chunk
                ],
            )
        demands = [
            Demand(title=d.title[:200], description=d.text, organization="示例企业", zone_code="wuxi")
            for d in text.demands(DEMANDS)
        ]
        upsert_records(session, "demand", demands)
        day_ago = datetime.now(UTC) - timedelta(days=1)
        for kind in ("achievement", "demand"):
            table = table_for(kind)
            session.execute(update(table).values(created_at=day_ago, updated_at=day_ago))
    get_engine(_url(staged)).dispose()  # closing the last connection checkpoints the WAL into the file
    staged.rename(path)


def _match(url: str, demand_id: int) -> float:
    """Seconds of one ``match_record`` for the demand, committed as a request would."""
    from techbridge.config import get_settings
    from techbridge.domain.access import Scope
    from techbridge.services.matching import match_record
    from techbridge.store.db import session_scope

    started = time.perf_counter()
    with session_scope(url) as session:
        match_record(session, "demand", demand_id, scope=Scope.platform(), settings=get_settings())
    return time.perf_counter() - started


def _edit_one(url: str, round_no: int) -> None:
    """Edit one achievement (a different one each round), as a zone officer saving a form would."""
    from techbridge.domain.access import Scope
    from techbridge.store.db import session_scope
    from techbridge.store.records import get_record, update_record

    with session_scope(url) as session:
        record_id = 1000 + round_no
        title = get_record(session, "achievement", record_id, scope=Scope.platform()).record.title
        update_record(session, "achievement", record_id, {"title": f"{title} 改进型"}, scope=Scope.platform())


def measure(url: str, *, rounds: int) -> dict:
    """Build the index with a first call, then edit one achievement and match the demand, ``rounds``
    times, in this process."""
    import techbridge

    build_s = _match(url, 1)
    warm = []
    for round_no in range(rounds):
        _edit_one(url, round_no)
        warm.append(_match(url, 1))
    return {
        "code": techbridge.__file__,
        "first_call_s": build_s,
        "warm_ms": [t * 1000 for t in warm],
        "warm_p50_ms": float(np.percentile(warm, 50) * 1000),
        "unchanged_ms": _match(url, 1) * 1000,
        "load_average": os.getloadavg(),
    }


def cold(url: str, *, round_no: int) -> float:
    """One edit, then one call in this fresh process (the index is read from disk)."""
    _edit_one(url, round_no)
    return _match(url, 1) * 1000


def _child(src: Path, *args: str) -> dict | float:
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT / 'benchmarks'}"}
    return json.loads(subprocess.check_output([sys.executable, __file__, *args], env=env, cwd=ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--baseline-rounds", type=int, default=3)
    parser.add_argument("--cold", type=int, default=3, help="fresh-process calls per version")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--cold-call", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, rounds=args.rounds)))  # noqa: T201
        return
    if args.cold_call is not None:
        print(json.dumps(cold(os.environ["BENCH_URL"], round_no=args.cold_call)))  # noqa: T201
        return

    from _common import echo, source_at, write_result

    WORK.mkdir(parents=True, exist_ok=True)
    database = WORK / f"service-{args.size}.sqlite3"
    started = time.perf_counter()
    generate(database, args.size)
    echo("store ready", f"{time.perf_counter() - started:.0f} s")
    versions = {
        "baseline": (source_at(BASELINE_REV, WORK / "baseline-src"), args.baseline_rounds),
        "incremental": (ROOT / "src", args.rounds),
    }
    figures: dict = {"achievements": args.size, "demands": DEMANDS, "baseline_rev": BASELINE_REV}
    for name, (src, rounds) in versions.items():
        copy = WORK / f"service-{name}.sqlite3"
        shutil.copyfile(database, copy)
        data_dir = WORK / f"service-{name}-data"
        shutil.rmtree(data_dir, ignore_errors=True)
        os.environ.update(TECHBRIDGE_DATA_DIR=str(data_dir), BENCH_URL=_url(copy))
        result = _child(src, "--measure", _url(copy), "--rounds", str(rounds))
        assert isinstance(result, dict) and result["code"].startswith(str(src)), result
        result["cold_ms"] = [_child(src, "--cold-call", str(rounds + i)) for i in range(args.cold)]
        echo(name, result)
        figures[name] = result
    echo("written", write_result("match-service", figures))


if __name__ == "__main__":
    main()
