"""Speed of the matching engine at 10k, 100k and 1M achievements, and batch matching 1,383 × 5,151.

Run by hand: ``.venv/bin/python benchmarks/bench_match_speed.py [--sizes 10000 100000 1000000]``.
Each size runs in its own process so peak memory is measured per size. Achievements are synthesised by
recombining real titles (patents, CSL papers) with real abstract sentences; no record repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from _common import RealText, cpu_seconds, echo, peak_rss_mib, write_result

from techbridge.match import Kind, MatchEngine

WORKERS = 2  # this machine has 2 cores


def _latency(engine: MatchEngine, demands: list) -> dict[str, float]:
    times = []
    for demand in demands:
        started = time.perf_counter()
        engine.rank(demand, target_kind=Kind.ACHIEVEMENT, top_k=10)
        times.append(time.perf_counter() - started)
    ms = np.array(times) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def one_size(size: int) -> dict:
    text = RealText()
    started, cpu_started = time.perf_counter(), cpu_seconds()
    engine = MatchEngine.build(text.achievements(size), workers=WORKERS)
    build_s, build_cpu_s = time.perf_counter() - started, cpu_seconds() - cpu_started
    demands = text.demands(1000)
    latency = _latency(engine, demands[:300])
    started = time.perf_counter()
    for _ in engine.rank_many(demands, target_kind=Kind.ACHIEVEMENT, top_k=10):
        pass
    throughput = len(demands) / (time.perf_counter() - started)
    return {
        "achievements": size,
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        **latency,
        "batch_qps": throughput,
        "peak_rss_mib": peak_rss_mib(),
        "load_average": os.getloadavg(),  # other work on the machine inflates wall-clock figures
    }


def wuxi_batch() -> dict:
    """The seed's Wuxi figures: 1,383 demands against 5,151 achievements, top 20 each with reasons."""
    text = RealText()
    engine = MatchEngine.build(text.achievements(5151, seed=3))
    demands = text.demands(1383, seed=5)
    started = time.perf_counter()
    results = list(engine.rank_many(demands, target_kind=Kind.ACHIEVEMENT, top_k=20))
    elapsed = time.perf_counter() - started
    return {
        "demands": len(demands),
        "achievements": 5151,
        "batch_s": elapsed,
        "pairs": sum(map(len, results)),
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--wuxi", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one)))  # noqa: T201
        return
    if args.wuxi:
        print(json.dumps(wuxi_batch()))  # noqa: T201
        return
    figures = {"wuxi_batch": json.loads(subprocess.check_output([sys.executable, __file__, "--wuxi"]))}
    echo("wuxi", figures["wuxi_batch"])
    figures["sizes"] = []
    for size in args.sizes:
        result = json.loads(subprocess.check_output([sys.executable, __file__, "--one", str(size)]))
        echo(size, result)
        figures["sizes"].append(result)
    echo("written", write_result("match-speed", figures))


if __name__ == "__main__":
    main()
