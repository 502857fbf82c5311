"""Batch matching on Ray: demands/s on 1 and 2 shard workers of one CPU each, against one process.

Run by hand, one heavy run at a time on a shared machine:
``flock /work/notes/heavy.lock .venv/bin/python benchmarks/bench_cluster.py [--size N] [--demands N]``.
Achievements are synthesised as in bench_match_speed.py (real titles with real abstract sentences).
Without the sentence encoder (lexical, label and product signals; TECHBRIDGE_ENCODER=none semantics):
encoding a million texts takes hours on two cores, and the dense signal is per record, so sharding
changes nothing in it. The single-process baseline runs in the same run; every list of the cluster runs
is compared with it (records, scores, signals, reasons).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time

from _common import RealText, echo, peak_rss_mib, write_result

from techbridge.match import Filters, Kind, MatchEngine
from techbridge.match.distributed import Cluster, Query, ShardedMatcher, connected

TOP_K = 20  # what ``match --all`` stores


def _cpu() -> float:
    return sum(resource.getrusage(resource.RUSAGE_SELF)[:2])


def _queries(text: RealText, n: int) -> list[Query]:
    """Demands matched as batch matching does: against achievements, within the demand's zone."""
    return [Query(d, Kind.ACHIEVEMENT, Filters(zone=d.zone_code)) for d in text.demands(n)]


def single_process(text: RealText, size: int, queries: list[Query]) -> tuple[dict, list]:
    started = time.perf_counter()
    engine = MatchEngine.build(text.achievements(size), workers=2)
    build_s = time.perf_counter() - started
    started, cpu = time.perf_counter(), _cpu()
    results = [engine.rank(q.doc, target_kind=q.target_kind, top_k=TOP_K, filters=q.filters) for q in queries]
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
    figures = {
        "build_s": build_s,
        "rank_s": elapsed,
        "demands_per_s": len(queries) / elapsed,
        "rank_cpu_s": cpu,
        "demands_per_cpu_s": len(queries) / cpu,
        "peak_rss_mib": peak_rss_mib()["self"],
        "load_average": os.getloadavg(),
    }
    del engine
    gc.collect()
    return figures, results


def on_ray(text: RealText, size: int, queries: list[Query], workers: int, expected: list) -> dict:
    cluster = Cluster(address="auto", shards=workers, cpus_per_shard=1)
    with connected(cluster):
        started = time.perf_counter()
        matcher = ShardedMatcher(text.achievements(size), cluster=cluster)
        build_s = time.perf_counter() - started
        before, driver_before = matcher.info(), _cpu()
        started = time.perf_counter()
        results = matcher.rank_many(queries, top_k=TOP_K)
        elapsed = time.perf_counter() - started
        info, driver_cpu = matcher.info(), _cpu() - driver_before
    # CPU seconds do not grow when other work shares the cores, wall-clock seconds do: the projection
    # is the throughput with a dedicated core per worker (the slowest worker sets the pace).
    cpu = [after["cpu_s"] - first["cpu_s"] for first, after in zip(before, info, strict=True)]
    differ = [i for i, (a, b) in enumerate(zip(results, expected, strict=True)) if a != b]
    return {
        "workers": workers,
        "build_s": build_s,
        "rank_s": elapsed,
        "demands_per_s": len(queries) / elapsed,
        "records_per_worker": [i["records"] for i in info],
        "peak_rss_mib_per_worker": [i["peak_rss_mib"] for i in info],
        "rank_cpu_s_per_worker": cpu,
        "driver_rank_cpu_s": driver_cpu,
        "demands_per_cpu_s_of_slowest_worker": len(queries) / max(cpu),
        "driver_peak_rss_mib": peak_rss_mib()["self"],
        "lists_compared": len(results),
        "lists_differing": len(differ),
        "first_differing": differ[:5],
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000, help="achievements")
    parser.add_argument("--demands", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    os.environ.setdefault("TECHBRIDGE_ENCODER", "none")  # no encoder: see the module docstring
    text = RealText()
    queries = _queries(text, args.demands)
    figures: dict = {"achievements": args.size, "demands": args.demands, "top_k": TOP_K, "encoder": None}
    figures["load_average_start"] = os.getloadavg()
    figures["single_process"], expected = single_process(text, args.size, queries)
    echo("single process", figures["single_process"])
    figures["ray"] = []
    for workers in args.workers:
        result = on_ray(text, args.size, queries, workers, expected)
        echo(f"ray, {workers} worker(s)", result)
        figures["ray"].append(result)
    by_workers = {r["workers"]: r["demands_per_s"] for r in figures["ray"]}
    by_cpu = {r["workers"]: r["demands_per_cpu_s_of_slowest_worker"] for r in figures["ray"]}
    if 1 in by_workers and 2 in by_workers:
        figures["speedup_2_over_1"] = by_workers[2] / by_workers[1]
        figures["speedup_2_over_1_by_cpu_time"] = by_cpu[2] / by_cpu[1]
        figures["speedup_target"] = 1.8
    figures["speedup_2_over_single_process"] = (
        by_workers.get(2, 0) / figures["single_process"]["demands_per_s"]
    )
    echo({k: v for k, v in figures.items() if k.startswith("speedup")})
    echo("written", write_result("cluster", figures))


if __name__ == "__main__":
    main()
