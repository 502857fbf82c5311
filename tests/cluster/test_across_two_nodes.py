"""Shards on two Ray nodes started as separate processes (``ray start``), as on two machines.

The driver runs in a process of its own (``two_node_driver.py``): a driver whose cluster fails is ended by
Ray at once, and it once ended the whole pytest run without a word. Here a failure names what failed and
shows the tail of the nodes' logs."""

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

from .conftest import import_ray

pytestmark = [pytest.mark.slow, pytest.mark.ray]
RAY = Path(sys.executable).with_name("ray")
ROOT = Path(__file__).resolve().parents[2]


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
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
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


def _alive(nodes: list[subprocess.Popen], temp_dir: Path, *, settle: float = 5.0) -> bool:
    """Both nodes running a moment after the second raylet made its sockets. A raylet that fails to bind
    dies within a second of starting (``ray start --block`` notices later), and a driver connected to a
    cluster whose raylet died is ended by Ray, so the cluster is checked before the driver connects."""
    sockets = temp_dir / "session_latest" / "sockets"
    deadline = time.monotonic() + 60
    while not (sockets / "raylet.1").exists():
        if time.monotonic() > deadline or any(n.poll() is not None for n in nodes):
            return False
        time.sleep(0.5)
    time.sleep(settle)
    return all(n.poll() is None for n in nodes) and _raylets_running(temp_dir)


def _raylets_running(temp_dir: Path) -> bool:
    """No raylet log of this session reports a fatal signal or exception."""
    for log in (temp_dir / "session_latest" / "logs").glob("raylet*.out"):
        text = log.read_text(errors="replace")
        if "SIGABRT" in text or "Unhandled exception" in text:
            return False
    return True


def _head_sockets(temp_dir: Path) -> bool:
    """The head's raylet and object store have made their sockets. A second raylet of the same session
    names its sockets after the ones that exist when it starts (``plasma_store``, then ``plasma_store.1``),
    so it must start after the head's exist (seen: both took ``plasma_store``, and the second died on
    "bind: Address already in use")."""
    sockets = temp_dir / "session_latest" / "sockets"
    return (sockets / "plasma_store").exists() and (sockets / "raylet").exists()


def _start_nodes() -> tuple[list[subprocess.Popen], str, Path]:
    """A head node offering resource ``shard_a`` and a second raylet offering ``shard_b``, every port
    chosen here (a port Ray picks at random may be one a just-stopped cluster still holds). Both nodes
    write into the head's session directory (a worker node's ``--temp-dir`` is ignored)."""
    port, dashboard, *ports = _free_ports(2 + 2 * len(PORTS))
    address = f"127.0.0.1:{port}"
    temp_dir = Path(tempfile.mkdtemp(prefix="tbray"))
    head = _start(
        "--head",
        f"--temp-dir={temp_dir}",
        f"--port={port}",
        f"--dashboard-port={dashboard}",
        *_node_ports(ports[: len(PORTS)]),
        "--num-cpus=1",
        "--resources",
        json.dumps({"shard_a": 1}),
    )
    nodes = [head]
    deadline = time.monotonic() + 90
    while head.poll() is None and time.monotonic() < deadline:
        if _head_sockets(temp_dir):
            nodes.append(
                _start(
                    f"--address={address}",
                    *_node_ports(ports[len(PORTS) :]),
                    "--num-cpus=1",
                    "--resources",
                    json.dumps({"shard_b": 1}),
                )
            )
            break
        time.sleep(0.5)
    return nodes, address, temp_dir


def _logs(temp_dir: Path, lines: int = 15) -> str:
    """The last lines of the raylets' and the GCS's logs, for a failure message."""
    folder = temp_dir / "session_latest" / "logs"
    parts = []
    for path in sorted(folder.glob("raylet*.out")) + sorted(folder.glob("gcs_server.out")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {path.name}\n" + "\n".join(tail))
    return "\n".join(parts)


def _forget(address: str) -> None:
    """``ray stop`` would also forget the cluster: later ray.init() calls must not look for it."""
    current = Path("/tmp/ray/ray_current_cluster")
    if current.exists() and current.read_text().strip().endswith(address.rpartition(":")[2]):
        current.unlink()


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[tuple[str, Path]]:
    import_ray()
    for _ in range(ATTEMPTS):
        nodes, address, temp_dir = _start_nodes()
        if len(nodes) == 2 and _alive(nodes, temp_dir):
            break
        for process in reversed(nodes):
            _stop(process)
        _forget(address)
    else:
        pytest.fail(f"two Ray nodes did not stay up in {ATTEMPTS} attempts\n{_logs(temp_dir)}")
    try:
        yield address, temp_dir
    finally:
        for process in reversed(nodes):
            _stop(process)
        _forget(address)


def test_shards_pinned_to_two_nodes_rank_as_one_engine(two_nodes: tuple[str, Path]) -> None:
    address, temp_dir = two_nodes
    run = subprocess.run(
        [sys.executable, "-m", "tests.cluster.two_node_driver", address],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    failure = f"the driver failed ({run.returncode}):\n{run.stderr[-3000:]}\n{_logs(temp_dir)}"
    assert run.returncode == 0, failure
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["nodes"] == 2  # one shard per raylet
    assert sum(summary["records_per_shard"]) == summary["records"] and min(summary["records_per_shard"]) > 0
    assert summary["queries_with_matches"] > summary["queries"] / 3  # not a comparison of empty lists
    assert summary["differing"] == []  # same top 10, scores and reasons as the single-process engine
