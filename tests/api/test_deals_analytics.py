"""Deals and analytics over HTTP: roles, transitions, and isolation (another zone's private deals never show).

Uses the seeded app of conftest.py: wuxi and chengdu zones, a wuxi private demand, chengdu's shared and
private patents.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from techbridge.services import deals

from .conftest import Api


def _post(api: Api, path: str, user: str, body: dict[str, Any]) -> Any:
    return api.client.post(f"/api/v1{path}", headers=api.headers(user), json=body)


def _start(api: Api, user: str, demand: str, patent: str) -> Any:
    return _post(
        api,
        "/deals",
        user,
        {"demand_id": api.ids[demand], "resources": [{"kind": "achievement", "id": api.ids[patent]}]},
    )


def test_officer_runs_a_deal_through_its_stages(api: Api) -> None:
    created = _start(api, "wuxi_admin", "wuxi_private", "cd_shared_patent")
    assert created.status_code == 201, created.text
    deal = created.json()
    assert (deal["zone_code"], deal["stage"], deal["stage_label_zh"]) == ("wuxi", "matched", "已撮合")
    assert deal["resources"][0]["zone_code"] == "chengdu"
    deal_id = deal["id"]
    moved = _post(
        api, f"/deals/{deal_id}/transitions", "wuxi_admin", {"to_stage": "contacted", "note": "已电话联系"}
    )
    assert moved.status_code == 200 and moved.json()["events"][-1]["note"] == "已电话联系"
    skipped = _post(api, f"/deals/{deal_id}/transitions", "wuxi_admin", {"to_stage": "pilot_test"})
    assert skipped.status_code == 409 and "跳过阶段" in skipped.json()["detail"]
    contract = _post(
        api,
        f"/deals/{deal_id}/transitions",
        "wuxi_admin",
        {
            "to_stage": "pilot_test",
            "note": "双方同意直接进入中试",
            "contract_value": 80,
            "attachments": [{"name": "合同.pdf", "size": 1024, "content_type": "application/pdf"}],
        },
    )
    assert contract.status_code == 200, contract.text
    body = contract.json()
    assert body["contract_value"] == 80 and body["events"][-1]["attachments"][0]["name"] == "合同.pdf"
    assert set(body["stage_days"]) == {"matched", "contacted", "pilot_test"}
    no_reason = _post(api, f"/deals/{deal_id}/drop", "wuxi_admin", {"reason": ""})
    assert no_reason.status_code == 422
    dropped = _post(api, f"/deals/{deal_id}/drop", "wuxi_admin", {"reason": "中试失败"})
    assert dropped.json()["stage"] == "dropped" and dropped.json()["drop_reason"] == "中试失败"


def test_enterprise_starts_only_on_its_own_demand_and_cannot_advance(api: Api) -> None:
    own = _start(api, "wuxi_corp", "wuxi_private", "cd_shared_patent")
    assert own.status_code == 201, own.text
    other = _start(api, "wuxi_other", "wuxi_shared", "cd_shared_patent")
    assert other.status_code == 403  # 储能电站热管理方案 belongs to 无锡甲公司
    advance = _post(api, f"/deals/{own.json()['id']}/transitions", "wuxi_corp", {"to_stage": "contacted"})
    assert advance.status_code == 403
    assert api.get("/deals", "wuxi_corp").json()["count"] == 1  # type: ignore[attr-defined]
    assert api.get("/deals", "wuxi_other").json()["count"] == 0  # type: ignore[attr-defined]
    assert api.get(f"/deals/{own.json()['id']}", "wuxi_other").status_code == 404  # type: ignore[attr-defined]


def test_private_patent_of_another_zone_cannot_be_linked(api: Api) -> None:
    assert _start(api, "wuxi_admin", "wuxi_private", "cd_private_patent").status_code == 404


def test_deal_isolation_and_analytics_isolation(api: Api) -> None:
    # chengdu's own private deal on its own private patent: never visible to wuxi, in lists or numbers.
    cd = _start(api, "cd_admin", "cd_private", "cd_private_patent").json()
    _post(api, f"/deals/{cd['id']}/transitions", "cd_admin", {"to_stage": "contacted"})
    wx = _start(api, "wuxi_admin", "wuxi_private", "cd_shared_patent").json()
    assert [d["id"] for d in api.get("/deals", "wuxi_admin").json()["data"]] == [wx["id"]]  # type: ignore[attr-defined]
    assert api.get(f"/deals/{cd['id']}", "wuxi_admin").status_code == 404  # type: ignore[attr-defined]
    # chengdu supplied wuxi's deal, so it sees it; and its own.
    assert {d["id"] for d in api.get("/deals", "cd_admin").json()["data"]} == {cd["id"], wx["id"]}  # type: ignore[attr-defined]

    funnel = api.get("/analytics/funnel", "wuxi_admin").json()  # type: ignore[attr-defined]
    # wuxi: one deal, at 已撮合; chengdu's deal (reached 已对接) must not count.
    assert (funnel["total"], [s["reached"] for s in funnel["stages"]][:2]) == (1, [1, 0])
    platform = api.get("/analytics/funnel", "root").json()  # type: ignore[attr-defined]
    assert (platform["total"], [s["reached"] for s in platform["stages"]][:2]) == (2, [2, 1])
    by_zone = api.get("/analytics/by-zone", "wuxi_admin").json()  # type: ignore[attr-defined]
    assert [r["key"] for r in by_zone["rows"]] == ["wuxi"]
    flows = api.get("/analytics/cross-zone", "cd_admin").json()["flows"]  # type: ignore[attr-defined]
    assert [(f["demand_zone"], f["supplier_zone"]) for f in flows] == [("wuxi", "chengdu")]
    # A zone admin may not ask for another zone's numbers; the platform admin may.
    assert api.get("/analytics/funnel", "wuxi_admin", params={"zone": "chengdu"}).status_code == 403  # type: ignore[attr-defined]
    picked = api.get("/analytics/funnel", "root", params={"zone": "chengdu"}).json()  # type: ignore[attr-defined]
    assert picked["total"] == 2  # chengdu's own deal and the one it supplied


def test_analytics_endpoints_export_and_report(api: Api) -> None:
    _start(api, "wuxi_admin", "wuxi_private", "cd_shared_patent")
    coverage = api.get("/analytics/coverage", "wuxi_admin", params={"threshold": 0.85}).json()  # type: ignore[attr-defined]
    # wuxi open demands: 锂电池隔膜涂覆技术 (best stored match 0.9) and 储能电站热管理方案 (none) → 1 of 2
    assert (coverage["open_demands"], coverage["covered"], coverage["share"]) == (2, 1, 0.5)
    export = api.get("/analytics/funnel/export", "wuxi_admin", params={"format": "xlsx"})  # type: ignore[attr-defined]
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None and sheet["A2"].value == "已撮合" and sheet["B2"].value == 1
    csv_text = api.get("/analytics/by-zone/export", "wuxi_admin").content.decode("utf-8-sig")  # type: ignore[attr-defined]
    assert csv_text.splitlines()[1].startswith("wuxi,1,1,0,0")
    assert api.get("/analytics/nope/export", "wuxi_admin").status_code == 422  # type: ignore[attr-defined]
    report = api.get("/analytics/report/2026-02", "wuxi_admin")  # type: ignore[attr-defined]
    assert report.status_code == 200 and report.json()["zone"] == "wuxi"
    assert api.client.get("/api/v1/analytics/funnel").status_code == 401


def test_a_supplying_zones_officer_sees_the_deal_but_neither_moves_nor_drops_it(api: Api) -> None:
    """``services.deals.require_officer`` is the one rule behind the API and the deal page alike."""
    deal = _start(api, "wuxi_admin", "wuxi_private", "cd_shared_patent").json()
    assert api.get(f"/deals/{deal['id']}", "cd_admin").status_code == 200  # type: ignore[attr-defined]
    for path, body in (
        (f"/deals/{deal['id']}/transitions", {"to_stage": "contacted"}),
        (f"/deals/{deal['id']}/drop", {"reason": "不做了"}),
    ):
        refused = _post(api, path, "cd_admin", body)
        assert refused.status_code == 403 and refused.json()["detail"] == deals.OFFICERS_ONLY
    assert api.get(f"/deals/{deal['id']}", "wuxi_admin").json()["stage"] == "matched"  # type: ignore[attr-defined]


def test_the_deal_list_pages_with_the_total_count(api: Api) -> None:
    made = [
        _start(api, "wuxi_admin", demand, patent).json()["id"]
        for demand, patent in (("wuxi_private", "cd_shared_patent"), ("wuxi_shared", "cd_shared_patent"))
    ]
    first = api.get("/deals", "wuxi_admin", params={"per_page": 1}).json()  # type: ignore[attr-defined]
    second = api.get("/deals", "wuxi_admin", params={"per_page": 1, "page": 2}).json()  # type: ignore[attr-defined]
    beyond = api.get("/deals", "wuxi_admin", params={"per_page": 1, "page": 3}).json()  # type: ignore[attr-defined]
    assert [first["count"], second["count"], beyond["count"]] == [2, 2, 2]
    assert [d["id"] for d in first["data"] + second["data"] + beyond["data"]] == made[::-1]  # newest first
