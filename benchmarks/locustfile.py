"""Locust users for the load benchmark (``bench_load.py`` runs it): mixed reads, searches, creates and
run-matching through the REST API, as the demo's zone admins and enterprises.

Reads ``BENCH_TOKENS`` (JSON: username → API token, issued before the run so no user hashes a password
under load), writes every demand a create got a 2xx for to ``BENCH_CREATED``, the job of every run-matching
answered 202 (queued for the worker) to ``BENCH_QUEUED``, and a summary (status codes, per-group latency
percentiles) to ``BENCH_SUMMARY`` when the run stops.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from collections import Counter
from typing import Any

from locust import HttpUser, between, events, task
from locust.stats import StatsEntry

TOKENS: dict[str, str] = json.loads(os.environ.get("BENCH_TOKENS", "{}"))
TERMS = "锂电池 隔膜 涂覆 储能 光伏 传感器 芯片 机器人 催化剂 氢能 合金 纳米 检测 算法 节能 电机".split()
GROUPS = ("read", "search", "create", "match")
_users = itertools.cycle(sorted(TOKENS))
created: list[dict[str, Any]] = []
queued: list[int] = []
statuses: Counter[str] = Counter()


@events.request.add_listener
def _count(name: str, response: Any, exception: Exception | None, **_kw: Any) -> None:
    status = getattr(response, "status_code", 0) or 0
    group = name.split(":", 1)[0]
    statuses[f"{group} {status // 100}xx" if status else f"{group} connection error"] += 1
    if exception is not None and not status:
        statuses[f"error {type(exception).__name__}"] += 1


@events.test_stop.add_listener
def _summary(environment: Any, **_kw: Any) -> None:
    groups = {}
    for group in (*GROUPS, "setup"):
        merged = StatsEntry(environment.stats, group, "ALL", use_response_times_cache=False)
        for entry in environment.stats.entries.values():
            if entry.name.split(":", 1)[0] == group:
                merged.extend(entry)
        if merged.num_requests:
            groups[group] = {
                "requests": merged.num_requests,
                "failures": merged.num_failures,
                "p50_ms": merged.get_response_time_percentile(0.5),
                "p95_ms": merged.get_response_time_percentile(0.95),
                "p99_ms": merged.get_response_time_percentile(0.99),
                "max_ms": round(merged.max_response_time or 0),
            }
    summary = {
        "statuses": dict(sorted(statuses.items())),
        "groups": groups,
        "created": len(created),
        "queued": len(queued),
    }
    if path := os.environ.get("BENCH_SUMMARY"):
        with open(path, "w", encoding="utf-8") as out:
            json.dump(summary, out, ensure_ascii=False, indent=2)
    if path := os.environ.get("BENCH_CREATED"):
        with open(path, "w", encoding="utf-8") as out:
            json.dump(created, out, ensure_ascii=False)
    if path := os.environ.get("BENCH_QUEUED"):
        with open(path, "w", encoding="utf-8") as out:
            json.dump(queued, out)


class PlatformUser(HttpUser):
    """One client: a zone officer or an enterprise working through the API with a short think time."""

    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.username = next(_users)
        self.headers = {"Authorization": f"Bearer {TOKENS[self.username]}"}
        self.zone = self.username.split("_", 1)[0]
        self.demands = self._ids("demands")
        self.achievements = self._ids("achievements")
        # Run matching only where this user may: its zone's demands (admins), its own new ones (all).
        self.mine = [i for i, zone in self.demands if zone == self.zone] if "admin" in self.username else []

    def _ids(self, path: str) -> list[tuple[int, str]]:
        page = self.client.get(f"/api/v1/{path}?per_page=200", headers=self.headers, name=f"setup: {path}")
        return [(r["id"], r["zone_code"]) for r in page.json()["data"]] if page.ok else []

    @task(6)
    def read(self) -> None:
        choice = random.random()
        if choice < 0.4 and self.demands:
            self.client.get(
                f"/api/v1/demands/{random.choice(self.demands)[0]}", headers=self.headers, name="read: demand"
            )
        elif choice < 0.7 and self.achievements:
            achievement = random.choice(self.achievements)[0]
            self.client.get(
                f"/api/v1/achievements/{achievement}", headers=self.headers, name="read: achievement"
            )
        elif self.demands:
            demand = random.choice(self.demands)[0]
            self.client.get(f"/api/v1/demands/{demand}/matches", headers=self.headers, name="read: matches")

    @task(3)
    def search(self) -> None:
        kind = random.choice(("demands", "achievements"))
        term = random.choice(TERMS)
        self.client.get(
            f"/api/v1/{kind}?q={term}&page={random.randint(1, 3)}",
            headers=self.headers,
            name=f"search: {kind}",
        )

    @task(1)
    def create(self) -> None:
        words = random.sample(TERMS, 3)
        title = f"{''.join(words)}负载测试需求{uuid.uuid4().hex[:8]}"
        body: dict[str, Any] = {"title": title, "keywords": words, "description": "负载测试写入, 检查不丢失"}
        if "admin" in self.username:
            body["organization"] = f"负载测试企业({self.zone})"
        response = self.client.post("/api/v1/demands", json=body, headers=self.headers, name="create: demand")
        if response.status_code // 100 == 2:
            record = response.json()
            created.append({"id": record["id"], "title": title, "by": self.username})
            self.mine.append(record["id"])

    @task(1)
    def match(self) -> None:
        if not self.mine:
            return self.read()
        demand = random.choice(self.mine)
        response = self.client.post(
            f"/api/v1/demands/{demand}/match", headers=self.headers, name="match: demand"
        )
        if response.status_code == 202:  # busy: queued as a worker job, which must still get done
            queued.append(response.json()["job"]["id"])
        return None
