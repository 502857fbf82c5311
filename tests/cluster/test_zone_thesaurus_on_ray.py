"""The Ray path expands a zone's demands with its own words as one engine does (driver and shards)."""

from __future__ import annotations

from types import ModuleType

import pytest

from techbridge.match import Filters, Kind, MatchEngine
from techbridge.match.distributed import Cluster, Query, ShardedMatcher
from techbridge.text.thesaurus import Thesaurus, packaged_thesaurus

from ..match.catalogue import BATTERY, SOFTWARE, achievement, demand

pytestmark = [pytest.mark.ray]


def test_sharded_ranking_uses_the_zone_s_own_words(local_ray: ModuleType) -> None:
    docs = [achievement(f"a{i}", title) for i, title in enumerate([*BATTERY, *SOFTWARE, "酒糟烘干装置"])]
    zone_words = Thesaurus.parse(["term,related,relation", "白酒,酒糟|SiC,下位"], source="wuxi")
    thesauri = {"wuxi": packaged_thesaurus().extended(zone_words)}
    single = MatchEngine.build(docs)
    single.zone_thesauri = thesauri
    matcher = ShardedMatcher(docs, cluster=Cluster(shards=2), chunk=4, zone_thesauri=thesauri)
    asked = [
        Query(demand("白酒烘干", zone_code=zone), Kind.ACHIEVEMENT, Filters()) for zone in ("wuxi", "chengdu")
    ]
    expected = [
        single.rank(q.doc, target_kind=q.target_kind, top_k=5, filters=q.filters, include_weak=True)
        for q in asked
    ]
    assert matcher.rank_many(asked, top_k=5, include_weak=True) == expected

    def related(matches) -> list[str]:
        return [r.text for m in matches for r in m.reasons if r.code == "related_terms"]

    wuxi, chengdu = expected
    assert related(wuxi) == ["记录使用需求用词的相关词: 酒糟 (白酒)"]
    assert related(chengdu) == []
