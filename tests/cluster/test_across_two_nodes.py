"""Shards on two Ray nodes started as separate processes (``ray start``), as on two machines.

The first file of this folder on purpose: run after a test that started and shut down a local cluster in
the same process, a second raylet here died at start (its plasma store socket was in use) and Ray ended
the whole pytest process with it."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from techbridge.match import Kind, MatchEngine
from techbridge.match.distributed import Cluster, Query, ShardedMatcher, connected

from .conftest import import_ray
from .realdata import catalogue, queries

pytestmark = [pytest.mark.slow, pytest.mark.ray]
RAY = Path(sys.executable).with_name("ray")


PORTS = (
    "metrics-export",
    "runtime-env-agent",
    "dashboard-agent-grpc",
    "dashboard-agent-listen",
    "node-manager",
    "object-manager",
)
ATTEMPTS = 3


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free ports below the kernel's ephemeral range (32768 and up) and above Ray's worker
    ports (10002-19999): Ray's processes take random ephemeral ports while the nodes start, and one of
    them took a port chosen here for the second raylet (seen: "bind: Address already in use")."""
    chosen: list[int] = []
    for port in random.sample(range(21_000, 32_000), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        chosen.append(port)
        if len(chosen) == n:
            return chosen
    raise RuntimeError("no free ports")


def _node_ports(ports: list[int]) -> list[str]:
    """Fixed ports for a node's agents: two raylets on one machine must not share any, and a port Ray
    picks at random may be the one just chosen for the head (seen: metrics export on the GCS port)."""
    return [f"--{name}-port={port}" for name, port in zip(PORTS, ports, strict=True)]


def _start(*args: str) -> subprocess.Popen:
    """``ray start … --block`` in its own process group, so teardown ends exactly what it started
    (``ray stop`` would end every Ray process on the machine, other people's too)."""
    command = [str(RAY), "start", "--block", "--node-ip-address=127.0.0.1", "--disable-usage-stats", *args]
    return subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass


def _alive(nodes: list[subprocess.Popen], *, settle: float = 5.0) -> bool:
    """Both nodes still running a moment after the second joined. A raylet that fails to bind a port dies
    within a second of starting (and ``ray start --block`` exits with it), and a driver connected to a
    cluster whose raylet died is ended by Ray at once, so the cluster is checked before a test connects."""
    time.sleep(settle)
    return all(n.poll() is None for n in nodes)


def _start_nodes() -> tuple[list[subprocess.Popen], str]:
    """A head node offering resource ``shard_a`` and a second raylet offering ``shard_b``, every port
    chosen here (a port Ray picks at random may be one a just-stopped cluster still holds)."""
    port, dashboard, *ports = _free_ports(2 + 2 * len(PORTS))
    address = f"127.0.0.1:{port}"
    # Each node its own temporary directory (sockets, logs): two raylets of one session on one machine
    # otherwise race for the same plasma store socket (seen: "bind: Address already in use" in
    # PlasmaStore, and the raylet dies).
    sockets = Path(tempfile.mkdtemp(prefix="tbray"))
    head = _start(
        "--head",
        f"--temp-dir={sockets / 'a'}",
        f"--port={port}",
        f"--dashboard-port={dashboard}",
        *_node_ports(ports[: len(PORTS)]),
        "--num-cpus=1",
        "--resources",
        json.dumps({"shard_a": 1}),
    )
    nodes = [head]
    deadline = time.monotonic() + 90
    while head.poll() is None and time.monotonic() < deadline:  # the worker joins once the GCS answers
        probe = subprocess.run([str(RAY), "status", f"--address={address}"], capture_output=True, timeout=60)
        if probe.returncode == 0:
            nodes.append(
                _start(
                    f"--address={address}",
                    f"--temp-dir={sockets / 'b'}",
                    *_node_ports(ports[len(PORTS) :]),
                    "--num-cpus=1",
                    "--resources",
                    json.dumps({"shard_b": 1}),
                )
            )
            break
        time.sleep(1)
    return nodes, address


def _forget(address: str) -> None:
    """``ray stop`` would also forget the cluster: later ray.init() calls must not look for it."""
    current = Path("/tmp/ray/ray_current_cluster")
    if current.exists() and current.read_text().strip().endswith(address.rpartition(":")[2]):
        current.unlink()


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[str]:
    ray = import_ray()
    assert not ray.is_initialized()
    for _ in range(ATTEMPTS):
        nodes, address = _start_nodes()
        if len(nodes) == 2 and _alive(nodes):
            break
        for process in reversed(nodes):
            _stop(process)
        _forget(address)
    else:
        pytest.fail(f"two Ray nodes did not stay up in {ATTEMPTS} attempts")
    try:
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for process in reversed(nodes):
            _stop(process)
        _forget(address)


def test_shards_pinned_to_two_nodes_rank_as_one_engine(two_nodes: str) -> None:
    import ray

    docs = catalogue(4_000)
    single = MatchEngine.build(docs)
    cluster = Cluster(address=two_nodes, shards=2, resources=({"shard_a": 1}, {"shard_b": 1}))
    with connected(cluster):
        deadline = time.monotonic() + 90
        while len([n for n in ray.nodes() if n["Alive"]]) < 2:
            assert time.monotonic() < deadline, "the second node did not join"
            time.sleep(1)
        matcher = ShardedMatcher(docs, cluster=cluster, chunk=500)
        info = matcher.info()
        assert len({i["node_id"] for i in info}) == 2  # one shard per raylet
        assert sum(i["records"] for i in info) == len(docs) and min(i["records"] for i in info) > 0
        asked = [Query(doc, Kind.ACHIEVEMENT, filters) for doc, filters in queries(docs)]
        got = matcher.rank_many(asked, top_k=10)
    expected = [single.rank(q.doc, target_kind=q.target_kind, top_k=10, filters=q.filters) for q in asked]
    assert sum(1 for m in expected if m) > len(asked) / 2
    assert got == expected
