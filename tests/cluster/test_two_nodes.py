"""Shards on two Ray nodes started as separate processes (``ray start``), as on two machines."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
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


PORTS = ("metrics-export", "runtime-env-agent", "dashboard-agent-grpc", "dashboard-agent-listen")


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free ports, held open together while chosen so none is picked twice."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


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


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[str]:
    """A head node offering resource ``shard_a`` and a second raylet offering ``shard_b``."""
    ray = import_ray()
    assert not ray.is_initialized()
    port, *ports = _free_ports(1 + 2 * len(PORTS))
    address = f"127.0.0.1:{port}"
    head = _start(
        "--head",
        f"--port={port}",
        *_node_ports(ports[: len(PORTS)]),
        "--num-cpus=1",
        "--resources",
        json.dumps({"shard_a": 1}),
    )
    nodes = [head]
    try:
        deadline = time.monotonic() + 90
        while True:  # the worker node can join once the head's GCS answers
            probe = subprocess.run(
                [str(RAY), "status", f"--address={address}"], capture_output=True, timeout=60
            )
            if probe.returncode == 0:
                break
            assert head.poll() is None, head.stderr.read().decode() if head.stderr else "head exited"
            assert time.monotonic() < deadline, probe.stderr.decode()
            time.sleep(1)
        nodes.append(
            _start(
                f"--address={address}",
                *_node_ports(ports[len(PORTS) :]),
                "--num-cpus=1",
                "--resources",
                json.dumps({"shard_b": 1}),
            )
        )
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for process in reversed(nodes):
            _stop(process)
        # ``ray stop`` would also forget the cluster: later ray.init() calls must not look for it.
        current = Path("/tmp/ray/ray_current_cluster")
        if current.exists() and current.read_text().strip().endswith(f":{port}"):
            current.unlink()


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
