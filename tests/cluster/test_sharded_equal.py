"""Sharded ranking on a local Ray cluster equals one engine: same records, scores, signals and reasons."""

from __future__ import annotations

from types import ModuleType

import pytest

from techbridge.match import Kind, MatchDoc, MatchEngine
from techbridge.match.distributed import CHUNK, Cluster, Query, ShardedMatcher

from .realdata import catalogue, queries

pytestmark = [pytest.mark.slow, pytest.mark.ray]


@pytest.fixture(scope="module")
def docs() -> list[MatchDoc]:
    return catalogue(20_000)


@pytest.fixture(scope="module")
def single(docs: list[MatchDoc]) -> MatchEngine:
    return MatchEngine.build(docs, workers=2)


@pytest.mark.parametrize("shards", [2, 3])
def test_shards_rank_exactly_as_one_engine(
    local_ray: ModuleType, docs: list[MatchDoc], single: MatchEngine, shards: int
) -> None:
    assert len(docs) >= 20_000
    matcher = ShardedMatcher(docs, cluster=Cluster(shards=shards))
    info = matcher.info()
    sizes = [i["records"] for i in info]
    assert max(sizes) - min(sizes) <= CHUNK  # shards take chunks in turn
    assert sum(i["records"] for i in info) == len(docs) and len({i["pid"] for i in info}) == shards
    asked = [Query(doc, Kind.ACHIEVEMENT, filters) for doc, filters in queries(docs)]
    for include_weak in (False, True):
        expected = [
            single.rank(
                q.doc, target_kind=q.target_kind, top_k=20, filters=q.filters, include_weak=include_weak
            )
            for q in asked
        ]
        got = matcher.rank_many(asked, top_k=20, include_weak=include_weak)
        assert sum(1 for m in expected if m) > len(asked) * 0.6  # most queries find matches
        assert any(r.code == "ipc" for m in expected for match in m for r in match.reasons)
        for query, want, have in zip(asked, expected, got, strict=True):
            assert have == want, query.doc.title  # ids, calibrated scores, signals (exact floats), reasons
