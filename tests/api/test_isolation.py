"""Zone isolation through the API: another zone's private record never shows, by any route."""

from __future__ import annotations

import csv
import io

import pytest

from .conftest import Api

WUXI_READERS = ["wuxi_admin", "wuxi_corp", "wuxi_uni", "zhang"]


@pytest.mark.parametrize("reader", WUXI_READERS)
def test_private_record_of_another_zone_is_invisible_everywhere(api_all_dbs: Api, reader: str) -> None:
    api = api_all_dbs
    hidden = api.ids["cd_private"]
    listed = api.get("/demands?per_page=200", reader).json()  # type: ignore[attr-defined]
    assert hidden not in [d["id"] for d in listed["data"]]
    assert {d["title"] for d in listed["data"]} == {"锂电池隔膜涂覆技术", "储能电站热管理方案"}
    searched = api.get("/demands?q=隔膜", reader).json()  # type: ignore[attr-defined]
    assert [d["title"] for d in searched["data"]] == ["锂电池隔膜涂覆技术"]
    assert api.get("/demands?zone_code=chengdu", reader).json()["count"] == 0  # type: ignore[attr-defined]
    for path in (f"/demands/{hidden}", f"/demands/{hidden}/matches"):
        response = api.get(path, reader)
        assert response.status_code == 404, path  # type: ignore[attr-defined]
        assert "不存在" in response.json()["detail"]  # type: ignore[attr-defined]
    headers = api.headers(reader)
    assert (
        api.client.patch(
            f"/api/v1/demands/{hidden}", json={"title": "改掉它的标题"}, headers=headers
        ).status_code
        == 404
    )
    assert api.client.delete(f"/api/v1/demands/{hidden}", headers=headers).status_code == 404
    exported = api.get("/exports/demands?format=csv", reader).text  # type: ignore[attr-defined]
    assert "成都机密隔膜需求" not in exported and "锂电池隔膜涂覆技术" in exported


def test_a_zone_admin_sees_other_zones_only_through_what_they_share(api_all_dbs: Api) -> None:
    titles = {d["title"] for d in api_all_dbs.get("/demands", "cd_admin").json()["data"]}  # type: ignore[attr-defined]
    assert titles == {"储能电站热管理方案", "成都机密隔膜需求"}
    assert api_all_dbs.get(f"/demands/{api_all_dbs.ids['wuxi_private']}", "cd_admin").status_code == 404  # type: ignore[attr-defined]


def test_the_platform_admin_sees_every_zone(api_all_dbs: Api) -> None:
    assert api_all_dbs.get("/demands", "root").json()["count"] == 3  # type: ignore[attr-defined]


def test_match_results_drop_private_targets_and_show_both_zones(api_all_dbs: Api) -> None:
    api = api_all_dbs
    body = api.get(f"/demands/{api.ids['wuxi_private']}/matches", "wuxi_corp").json()  # type: ignore[attr-defined]
    assert body["count"] == 1
    (match,) = body["data"]
    assert match["target_id"] == api.ids["cd_shared_patent"] and match["target_title"] == "一种隔膜涂覆装置"
    assert match["target_owner"] == "四川大学"
    assert (match["source_zone"], match["target_zone"], match["is_cross_zone"]) == ("wuxi", "chengdu", True)
    assert match["reasons"] == [{"code": "title_terms", "text": "标题命中关键词: 涂覆", "terms": []}]
    root = api.get(f"/demands/{api.ids['wuxi_private']}/matches", "root").json()  # type: ignore[attr-defined]
    assert [m["target_title"] for m in root["data"]] == ["成都私有隔膜专利", "一种隔膜涂覆装置"]


def test_shared_records_of_other_zones_are_read_only(api: Api) -> None:
    shared = api.ids["cd_shared_patent"]
    assert api.get(f"/achievements/{shared}", "wuxi_admin").status_code == 200  # type: ignore[attr-defined]
    response = api.client.patch(
        f"/api/v1/achievements/{shared}", json={"title": "改成无锡的"}, headers=api.headers("wuxi_admin")
    )
    assert response.status_code == 403
    assert "园区" in response.json()["detail"]
    assert (
        api.client.delete(f"/api/v1/achievements/{shared}", headers=api.headers("wuxi_admin")).status_code
        == 403
    )


def test_expert_contact_stays_inside_the_experts_zone(api: Api) -> None:
    expert = api.ids["cd_expert"]
    outside = api.get(f"/experts/{expert}", "wuxi_admin").json()  # type: ignore[attr-defined]
    assert outside["name"] == "王五" and outside["contact"] is None
    listed = api.get("/experts", "wuxi_corp").json()["data"]  # type: ignore[attr-defined]
    assert {e["name"]: e["contact"] for e in listed} == {"王五": None, "张三": "13900000000"}
    assert api.get(f"/experts/{expert}", "cd_admin").json()["contact"] == "13800000000"  # type: ignore[attr-defined]
    assert api.get(f"/experts/{expert}", "root").json()["contact"] == "13800000000"  # type: ignore[attr-defined]
    exported = api.get("/exports/experts?format=csv", "wuxi_admin").text  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert len(rows) == 3 and "13800000000" not in exported and "13900000000" in exported


def test_an_import_cannot_write_into_another_zone(api: Api) -> None:
    content = (
        "需求名称,需求单位,园区代码\n成都的新需求标题,成都乙公司,chengdu\n无锡的新需求标题,无锡甲公司,\n"
    )
    response = api.client.post(
        "/api/v1/imports/demands?dry_run=false",
        files={"file": ("demands.csv", content.encode("utf-8"), "text/csv")},
        headers=api.headers("wuxi_admin"),
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["row"] == 2 and "只能导入到本园区 wuxi" in error["reason"]
    assert api.get("/demands?q=新需求", "root").json()["count"] == 0  # type: ignore[attr-defined]
