"""A small two-zone world: a Wuxi demand, Wuxi and Chengdu resources, some shared, some private."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from techbridge.domain.records import Achievement, Demand, Expert, Instrument, PilotPlatform
from techbridge.store.db import session_scope
from techbridge.store.records import table_for, upsert_records


@pytest.fixture
def world(db_url: str) -> dict[str, int]:
    """Ids by short name; ``url`` is the database."""
    records = {
        "demand": (
            "demand",
            Demand(
                zone_code="wuxi",
                title="锂电池隔膜涂覆工艺",
                organization="无锡甲电池公司",
                industry_chain="新能源",
            ),
        ),
        "chengdu_demand": (
            "demand",
            Demand(
                zone_code="chengdu",
                title="航空发动机叶片检测",
                organization="成都乙公司",
                visibility="shared",
            ),
        ),
        "patent": ("achievement", Achievement(zone_code="wuxi", title="一种陶瓷涂覆隔膜", owner="江南大学")),
        "expert": (
            "expert",
            Expert(zone_code="chengdu", name="李教授", organization="四川大学", visibility="shared"),
        ),
        "private_instrument": (
            "instrument",
            Instrument(zone_code="chengdu", name="扫描电镜", owner="成都所"),
        ),
        "pilot": (
            "pilot_platform",
            PilotPlatform(zone_code="chengdu", name="成都新材料中试平台", visibility="shared"),
        ),
    }
    ids: dict[str, int] = {}
    with session_scope(db_url) as s:
        for name, (kind, record) in records.items():
            upsert_records(s, kind, [record])
            table = table_for(kind)
            ids[name] = s.scalar(select(table.id).where(table.natural_key == record.natural_key()))
    return ids
