"""The pure permission rules: who may write which record, and what readers outside a zone see."""

from __future__ import annotations

import pytest

from techbridge.domain.accounts import Role, User, can_write, fill_ownership, redact
from techbridge.domain.records import (
    Achievement,
    Demand,
    Expert,
    Instrument,
    Organization,
    PilotPlatform,
    Record,
)

PLATFORM = User(id=1, username="root", role=Role.PLATFORM_ADMIN)
WUXI_ADMIN = User(id=2, username="wuxi_admin", role=Role.ZONE_ADMIN, zone_code="wuxi")
CORP = User(id=3, username="corp", role=Role.ENTERPRISE, zone_code="wuxi", organization="无锡甲公司")
UNI = User(id=4, username="uni", role=Role.UNIVERSITY, zone_code="wuxi", organization="江南大学")
EXPERT = User(
    id=5, username="zhang", display_name="张三", role=Role.EXPERT, zone_code="wuxi", organization="江南大学"
)

OWN_RECORDS: list[tuple[str, Record]] = [
    ("organization", Organization(zone_code="wuxi", name="无锡甲公司")),
    ("demand", Demand(zone_code="wuxi", title="锂电池隔膜涂覆", organization="无锡甲公司")),
    ("achievement", Achievement(zone_code="wuxi", kind="know_how", title="隔膜工艺", owner="无锡甲公司")),
    ("expert", Expert(zone_code="wuxi", name="李四", organization="无锡甲公司")),
    ("instrument", Instrument(zone_code="wuxi", name="扫描电镜", owner="无锡甲公司")),
    ("pilot_platform", PilotPlatform(zone_code="wuxi", name="中试线", operator="无锡甲公司")),
]


@pytest.mark.parametrize(("kind", "record"), OWN_RECORDS)
def test_organisations_write_only_their_own_records_in_their_zone(kind: str, record: Record) -> None:
    assert can_write(CORP, kind, record)
    assert not can_write(UNI, kind, record)
    assert can_write(WUXI_ADMIN, kind, record) and can_write(PLATFORM, kind, record)
    moved = record.model_copy(update={"zone_code": "chengdu"})
    assert not can_write(CORP, kind, moved) and not can_write(WUXI_ADMIN, kind, moved)
    assert can_write(PLATFORM, kind, moved)


def test_experts_write_only_their_own_profile() -> None:
    own = Expert(zone_code="wuxi", name="张三", organization="江南大学")
    assert can_write(EXPERT, "expert", own)
    assert not can_write(EXPERT, "expert", own.model_copy(update={"name": "王五"}))
    assert not can_write(EXPERT, "achievement", Achievement(zone_code="wuxi", title="成果", owner="江南大学"))


def test_expert_contact_is_hidden_outside_the_zone() -> None:
    expert = Expert(zone_code="chengdu", name="王五", contact="138", visibility="shared")
    assert redact(CORP, expert).contact is None  # type: ignore[attr-defined]
    assert redact(PLATFORM, expert).contact == "138"  # type: ignore[attr-defined]
    home = User(id=9, username="cd_admin", role=Role.ZONE_ADMIN, zone_code="chengdu")
    assert redact(home, expert).contact == "138"  # type: ignore[attr-defined]


def test_new_records_default_to_the_users_zone_and_organisation() -> None:
    assert fill_ownership(CORP, "demand", {"title": "x"}) == {
        "title": "x",
        "zone_code": "wuxi",
        "organization": "无锡甲公司",
    }
    assert fill_ownership(EXPERT, "expert", {})["name"] == "张三"
    assert "organization" not in fill_ownership(WUXI_ADMIN, "demand", {})


def test_platform_admin_sees_every_zone() -> None:
    assert PLATFORM.scope.zone_code is None and CORP.scope.zone_code == "wuxi"
