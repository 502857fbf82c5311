"""The industry-chain catalogue: shipped defaults, zone overrides and additions, no leaks between zones."""

from __future__ import annotations

import pytest

from techbridge.domain.records import IndustryChain
from techbridge.errors import NotFound
from techbridge.store.catalogue import default_chains, list_chains, remove_chain, save_chain
from techbridge.store.db import session_scope


def test_defaults_cover_the_key_chains() -> None:
    names = {c.name for c in default_chains()}
    assert {"集成电路", "新能源", "生物医药", "智能制造"} <= names
    assert len(names) >= 15  # the seed's Chengdu zone alone covers 15 key manufacturing chains


def test_zone_edits_stay_in_the_zone(db_url: str) -> None:
    with session_scope(db_url) as s:
        save_chain(
            s, IndustryChain(code="new_energy", name="新能源与储能", keywords="储能;氢能", zone_code="wuxi")
        )
        save_chain(s, IndustryChain(code="iot", name="物联网", keywords="传感器", zone_code="wuxi"))
    with session_scope(db_url) as s:
        wuxi = {c.code: c.name for c in list_chains(s, zone_code="wuxi")}
        chengdu = {c.code: c.name for c in list_chains(s, zone_code="chengdu")}
    assert wuxi["new_energy"] == "新能源与储能" and wuxi["iot"] == "物联网"
    assert chengdu["new_energy"] == "新能源" and "iot" not in chengdu
    with session_scope(db_url) as s:
        remove_chain(s, zone_code="wuxi", code="new_energy")
        assert {c.code: c.name for c in list_chains(s, zone_code="wuxi")}["new_energy"] == "新能源"
        with pytest.raises(NotFound):
            remove_chain(s, zone_code="wuxi", code="new_energy")
