"""The two-node test's driver, in its own process: ``python -m tests.cluster.two_node_driver ADDRESS``.

A Ray driver whose cluster fails is ended by Ray (``_exit``) without a word, so the test runs it here and
pytest lives to report the failure with the nodes' logs. Prints one JSON line: what the test checks."""

from __future__ import annotations

import json
import sys
import time

import ray

from techbridge.match import Kind, MatchEngine
from techbridge.match.distributed import Cluster, Query, ShardedMatcher, connected

from .realdata import catalogue, queries


def main(address: str) -> dict:
    docs = catalogue(4_000)
    single = MatchEngine.build(docs)
    cluster = Cluster(address=address, shards=2, resources=({"shard_a": 1}, {"shard_b": 1}))
    with connected(cluster):
        deadline = time.monotonic() + 90
        while len([n for n in ray.nodes() if n["Alive"]]) < 2:
            if time.monotonic() > deadline:
                raise SystemExit("the second node did not join")
            time.sleep(1)
        matcher = ShardedMatcher(docs, cluster=cluster, chunk=500)
        info = matcher.info()
        asked = [Query(doc, Kind.ACHIEVEMENT, filters) for doc, filters in queries(docs)]
        got = matcher.rank_many(asked, top_k=10)
    expected = [single.rank(q.doc, target_kind=q.target_kind, top_k=10, filters=q.filters) for q in asked]
    return {
        "records": len(docs),
        "nodes": len({i["node_id"] for i in info}),
        "records_per_shard": [i["records"] for i in info],
        "queries": len(asked),
        "queries_with_matches": sum(1 for m in expected if m),
        "differing": [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e],
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
