"""A Ray cluster for the tests of sharded matching (tests/cluster/): local, started per module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType

import pytest

from ..conftest import _require_or_skip


def import_ray() -> ModuleType:
    """Ray, or a skip (a failure in CI, where TECHBRIDGE_TEST_REQUIRE_ALL=1)."""
    try:
        import ray
    except ImportError:
        _require_or_skip("Ray (pip install -e '.[cluster]')")
    return ray


@pytest.fixture(scope="module")
def local_ray() -> Iterator[ModuleType]:
    """A local Ray cluster of 4 logical CPUs (shards ask for one each), shut down after the module."""
    ray = import_ray()
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")  # as distributed.connected chooses
    ray.init(
        address="local", num_cpus=4, namespace="techbridge", include_dashboard=False, log_to_driver=False
    )
    yield ray
    ray.shutdown()
