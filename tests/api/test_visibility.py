"""Who may read deals, analytics, bookings and searches (issue 9, items 3, 4, 12 and 13).

Each test plays the attack the audit found. The seed (conftest.py): Wuxi's private demand
锂电池隔膜涂覆技术 of 无锡甲公司, Chengdu's shared patent 一种隔膜涂覆装置 (四川大学) and its private patent.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from techbridge.domain.access import Scope
from techbridge.domain.accounts import Role
from techbridge.domain.records import Achievement, Demand
from techbridge.services import accounts
from techbridge.store.db import session_scope
from techbridge.store.records import create_record

from .conftest import Api

WUXI_DEMAND = "锂电池隔膜涂覆技术"
WUXI_FIRM = "无锡甲公司"
WUXI_SECRET_PATENT = "无锡内部专利-隔膜配方"
NOTE = "无锡内部备注: 报价上限 95 万"
CONTRACT = 87.5
ATTACHMENT = "无锡保密合同.pdf"
BEIJING = ZoneInfo("Asia/Shanghai")


def _add_user(api: Api, username: str, **fields: Any) -> None:
    with session_scope(api.url) as s:
        user = accounts.create_user(s, username=username, password="password-123", **fields)
        api.tokens[username] = accounts.issue_token(s, user=user, name="test").token


def _add_record(api: Api, record: Any) -> int:
    with session_scope(api.url) as s:
        return create_record(s, record, scope=Scope.platform()).id


def _post(api: Api, path: str, user: str, body: dict[str, Any]) -> Any:
    response = api.client.post(f"/api/v1{path}", headers=api.headers(user), json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _wuxi_deal(api: Api) -> int:
    """Wuxi's private demand with Wuxi's private patent and Chengdu's shared one, pushed to pilot test."""
    secret_patent = _add_record(
        api, Achievement(zone_code="wuxi", title=WUXI_SECRET_PATENT, owner="江南大学")
    )
    deal = _post(
        api,
        "/deals",
        "wuxi_admin",
        {
            "demand_id": api.ids["wuxi_private"],
            "resources": [
                {"kind": "achievement", "id": secret_patent},
                {"kind": "achievement", "id": api.ids["cd_shared_patent"]},
            ],
            "note": NOTE,
        },
    )
    _post(
        api,
        f"/deals/{deal['id']}/transitions",
        "wuxi_admin",
        {
            "to_stage": "pilot_test",
            "note": NOTE,
            "contract_value": CONTRACT,
            "attachments": [{"name": ATTACHMENT, "size": 10, "content_type": "application/pdf"}],
        },
    )
    return int(deal["id"])


def _text(response: Any) -> str:
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("application/vnd.openxml"):
        book = load_workbook(io.BytesIO(response.content))
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
        )
    return str(response.text)


WUXI_SECRETS = (WUXI_DEMAND, WUXI_FIRM, WUXI_SECRET_PATENT, NOTE, ATTACHMENT, "87.5", "wuxi_admin")


def _analytics_bodies(api: Api, user: str) -> dict[str, str]:
    month = datetime.now(BEIJING).strftime("%Y-%m")  # the report's months are Beijing months
    paths = [f"/analytics/report/{month}", "/deals"]
    for metric in ("funnel", "by-university", "by-zone", "by-industry-chain", "cross-zone", "deal-map"):
        paths += [
            f"/analytics/{metric}",
            f"/analytics/{metric}/export",
            f"/analytics/{metric}/export?format=xlsx",
        ]
    return {path: _text(api.get(path, user)) for path in paths}


def test_enterprise_of_a_supplier_zone_sees_no_deal_it_is_not_party_to(api: Api) -> None:
    """Item 3: chengdu_enterprise read Wuxi deals through the report and analytics, but not through /deals."""
    _wuxi_deal(api)
    _add_user(api, "cd_corp", role=Role.ENTERPRISE, zone_code="chengdu", organization="成都乙公司")
    for path, body in _analytics_bodies(api, "cd_corp").items():
        for secret in (*WUXI_SECRETS, "一种隔膜涂覆装置"):
            assert secret not in body, (path, secret)
    assert api.get("/analytics/funnel", "cd_corp").json()["total"] == 0  # type: ignore[attr-defined]
    assert api.get("/analytics/by-zone", "cd_corp").json()["rows"] == []  # type: ignore[attr-defined]
    assert api.get("/analytics/cross-zone", "cd_corp").json()["flows"] == []  # type: ignore[attr-defined]


def test_organisations_count_only_the_deals_they_are_party_to(api: Api) -> None:
    """Item 3: an enterprise sees its own deal in its numbers; another enterprise of the zone sees none."""
    deal_id = _wuxi_deal(api)
    month = datetime.now(BEIJING).strftime("%Y-%m")  # the report's months are Beijing months
    own = api.get(f"/analytics/report/{month}", "wuxi_corp").json()  # type: ignore[attr-defined]
    assert own["funnel"]["total"] == 1 and {e["deal_id"] for e in own["activity"]["events"]} == {deal_id}
    other = api.get(f"/analytics/report/{month}", "wuxi_other").json()  # type: ignore[attr-defined]
    assert other["funnel"]["total"] == 0 and other["activity"]["events"] == []
    assert WUXI_DEMAND not in str(other)
    by_university = api.get("/analytics/by-university", "wuxi_other").json()  # type: ignore[attr-defined]
    assert by_university["rows"] == []


def test_a_university_supplying_a_deal_sees_it_without_the_owner_zones_secrets(api: Api) -> None:
    """Items 3 and 4: 四川大学 is party through its shared patent; Wuxi's private side stays hidden."""
    deal_id = _wuxi_deal(api)
    _add_user(api, "scu", role=Role.UNIVERSITY, zone_code="chengdu", organization="四川大学")
    listed = api.get("/deals", "scu").json()  # type: ignore[attr-defined]
    assert [d["id"] for d in listed["data"]] == [deal_id]
    for path, body in _analytics_bodies(api, "scu").items():
        for secret in WUXI_SECRETS:
            assert secret not in body, (path, secret)
    assert api.get("/analytics/funnel", "scu").json()["total"] == 1  # type: ignore[attr-defined]


def test_cross_zone_deal_shows_the_supplier_zone_only_what_it_may_read(api: Api) -> None:
    """Item 4: Chengdu's admin saw Wuxi's private demand, Wuxi's private patent, the enterprise and notes."""
    deal_id = _wuxi_deal(api)
    detail = api.get(f"/deals/{deal_id}", "cd_admin")  # type: ignore[attr-defined]
    listed = api.get("/deals", "cd_admin")  # type: ignore[attr-defined]
    for body in (detail.text, listed.text):
        for secret in WUXI_SECRETS:
            assert secret not in body, secret
    deal = detail.json()
    assert deal["stage"] == "pilot_test" and deal["contract_value"] is None and deal["demand_id"] is None
    assert "其他园区的非公开记录" in deal["title"]
    titles = sorted(r["title"] for r in deal["resources"])
    assert titles == ["一种隔膜涂覆装置", "其他园区的非公开记录"]
    hidden = next(r for r in deal["resources"] if r["title"] == "其他园区的非公开记录")
    assert hidden["record_id"] is None and hidden["zone_code"] == "wuxi"
    assert [(e["to_stage"], e["note"], e["attachments"]) for e in deal["events"]] == [
        ("matched", "", []),
        ("pilot_test", "", []),
    ]
    # The owner zone still reads everything.
    own = api.get(f"/deals/{deal_id}", "wuxi_admin").json()  # type: ignore[attr-defined]
    assert own["title"] == WUXI_DEMAND and own["contract_value"] == CONTRACT
    assert {r["title"] for r in own["resources"]} == {WUXI_SECRET_PATENT, "一种隔膜涂覆装置"}
    assert own["events"][-1]["note"] == NOTE and own["events"][-1]["attachments"][0]["name"] == ATTACHMENT


def test_supplier_zone_admin_analytics_carry_no_owner_zone_detail(api: Api) -> None:
    """Item 3: zone admins get their zone's aggregates; the supplied deal's private detail stays in Wuxi."""
    _wuxi_deal(api)
    for path, body in _analytics_bodies(api, "cd_admin").items():
        for secret in WUXI_SECRETS:
            assert secret not in body, (path, secret)
    funnel = api.get("/analytics/funnel", "cd_admin").json()  # type: ignore[attr-defined]
    assert funnel["total"] == 1  # Chengdu supplied it, so it counts the deal (stage only)
    by_zone = api.get("/analytics/by-zone", "cd_admin").json()  # type: ignore[attr-defined]
    assert [(r["key"], r["contract_value"]) for r in by_zone["rows"]] == [("wuxi", 0.0)]
    wuxi = api.get("/analytics/by-zone", "wuxi_admin").json()  # type: ignore[attr-defined]
    assert [(r["key"], r["contract_value"]) for r in wuxi["rows"]] == [("wuxi", CONTRACT)]


@pytest.mark.parametrize("query", ["q=%", "q=_", "q=%25", "q=__", "q=\\"])
def test_search_wildcards_are_literal(api_all_dbs: Api, query: str) -> None:
    """Item 12: q=% and q=_ matched every record."""
    found = api_all_dbs.get(f"/demands?{query}", "root").json()  # type: ignore[attr-defined]
    assert found["count"] == 0, found


def test_search_still_finds_a_literal_percent(api_all_dbs: Api) -> None:
    _add_record(
        api_all_dbs, Demand(zone_code="wuxi", title="纯度 99.9% 的_硅料提纯", organization="无锡丙公司")
    )
    for needle in ("%", "9%", "_", "% 的_硅"):
        found = api_all_dbs.get("/demands", "root", params={"q": needle}).json()  # type: ignore[attr-defined]
        assert [d["title"] for d in found["data"]] == ["纯度 99.9% 的_硅料提纯"], needle


def test_ipc_filter_wildcards_are_literal(api_all_dbs: Api) -> None:
    """Item 12: ipc=% matched every achievement."""
    _add_record(
        api_all_dbs,
        Achievement(zone_code="wuxi", title="一种负极材料", owner="江南大学", ipc_codes="H01M 4/00"),
    )
    for value, expected in (("%", 0), ("_", 0), ("H01M", 1), ("h01m", 1), ("H01_", 0)):
        found = api_all_dbs.get("/achievements", "root", params={"ipc": value}).json()  # type: ignore[attr-defined]
        assert found["count"] == expected, (value, found)


def test_exports_keep_the_rule_too(api: Api) -> None:
    exported = api.get("/exports/achievements?format=csv", "wuxi_admin").text  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert "成都私有隔膜专利" not in exported and len(rows) == 2  # the header and Chengdu's shared patent


def test_import_preview_does_not_point_at_another_zones_private_record(api: Api) -> None:
    """Item 12 / one path: a near-duplicate warning named Chengdu's private demand (its id) to Wuxi."""
    content = "需求名称,需求单位\n一种成都机密隔膜需求,成都乙公司\n一种储能电站热管理方案,无锡甲公司\n"
    response = api.client.post(
        "/api/v1/imports/demands?dry_run=true",
        files={"file": ("demands.csv", content.encode("utf-8"), "text/csv")},
        headers=api.headers("wuxi_admin"),
    )
    assert response.status_code == 200, response.text
    warnings = response.json()["warnings"]
    assert not any(f"编号 {api.ids['cd_private']})" in w for w in warnings), warnings
    # A near-duplicate the importing zone may read is still flagged.
    assert any(f"编号 {api.ids['wuxi_shared']})" in w for w in warnings), warnings
