"""Import benchmark: time and peak memory of `import_file` at the seed's Wuxi scale and at 1,000,000 rows.

Rows are synthesised from real patent titles (../shared/data/cn-patent-ipc-titles) by recombining the
head of one title with the tail of another, so no record repeats; each gets a unique publication number.
Each import runs in a fresh child process so its peak RSS is its own.

    python benchmarks/bench_import.py [--sizes 5151,1000000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
WORK = ROOT / "benchmarks" / "results" / "tmp"
HEADERS = ["专利名称", "公开号", "专利类型", "IPC分类号", "成果单位", "技术成熟度", "转化方式", "园区代码"]
OWNERS = [f"示例大学{i:03d}" for i in range(300)]


def synth_achievements(n: int, path: Path) -> Path:
    if path.exists():
        return path
    rows = list(csv.DictReader((SHARED / "cn-patent-ipc-titles" / "patent_titles_ipc_subclasses.csv").open()))
    titles = [r["patent_title"] for r in rows]
    ipcs = [r["true_subclasses_all"].replace("|", ";") for r in rows]
    rng = random.Random(7)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADERS)
        for i in range(n):
            a, b = rng.randrange(len(titles)), rng.randrange(len(titles))
            head, tail = titles[a], titles[b]
            title = head[: max(2, len(head) // 2)] + tail[len(tail) // 2 :]
            kind, suffix = ("发明专利", "A") if i % 3 else ("实用新型", "U")
            writer.writerow(
                [
                    title,
                    f"CN{300000000 + i}{suffix}",
                    kind,
                    ipcs[a],
                    rng.choice(OWNERS),
                    rng.randint(1, 9),
                    "转让;许可",
                    "wuxi",
                ]
            )
    return path


def synth_demands(n: int, path: Path) -> Path:
    if path.exists():
        return path
    papers = [json.loads(line) for line in (SHARED / "csl-benchmark" / "csl_dev_test_joined.jsonl").open()]
    rng = random.Random(11)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["编号", "需求名称", "需求描述", "关键词", "需求单位", "园区代码"])
        for i in range(n):
            p, q = rng.choice(papers), rng.choice(papers)
            writer.writerow(
                [
                    f"D{i:06d}",
                    "寻求" + p["title"][:60],
                    p["abstract"][:300] + q["abstract"][:100],
                    ";".join(p["keywords"]),
                    f"示例企业{i % 500:03d}",
                    "wuxi",
                ]
            )
    return path


CHILD = """
import sys, time, resource
from pathlib import Path
from techbridge.ingest.importer import import_file
from techbridge.store.db import init_db
url, kind, path = sys.argv[1:4]
init_db(url)
start = time.perf_counter()
report = import_file(url, kind, Path(path), zone_code="wuxi", batch_size=5000)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{elapsed:.2f} {peak:.0f} {report.inserted}")
"""


def run_import(url: str, kind: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url, kind, str(path)], capture_output=True, text=True, check=True
    )
    seconds, peak_mib, inserted = out.stdout.split()
    return {"seconds": float(seconds), "peak_mib": float(peak_mib), "inserted": int(inserted)}


def fresh_sqlite(name: str) -> str:
    db = WORK / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{db}"


def fresh_postgres(base: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5151,1000000")
    parser.add_argument(
        "--postgres", default="", help="URL of a PostgreSQL server database to create scratch DBs from"
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="Measure PostgreSQL only")
    args = parser.parse_args()
    backends = ([] if args.skip_sqlite else [("sqlite", None)]) + (
        [("postgres", args.postgres)] if args.postgres else []
    )
    results = []
    for backend, base in backends:
        for size in (int(s) for s in args.sizes.split(",")):
            name = f"bench_{backend}_{size}"
            url = fresh_sqlite(name) if base is None else fresh_postgres(base, name)
            achievements = synth_achievements(size, WORK / f"achievements_{size}.csv")
            row = {"backend": backend, "achievements": size, **run_import(url, "achievement", achievements)}
            if size == 5151:  # the seed's Wuxi figures: 5,151 patents and 1,383 demands
                demands = run_import(url, "demand", synth_demands(1383, WORK / "demands_1383.csv"))
                row["demands_1383"] = demands
            print(json.dumps(row, ensure_ascii=False), flush=True)
            results.append(row)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    out = ROOT / "benchmarks" / "results" / f"{stamp}-import-{'-'.join(b for b, _ in backends)}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()
