"""Every record route: the happy path per kind, and the 401/403/404/409/422 answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.services.matching import run_batch

from .conftest import Api

NEW_RECORDS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "organizations": ("name", {"name": "无锡新材料有限公司", "kind": "企业"}, {"city": "无锡"}),
    "demands": ("title", {"title": "高镍正极材料包覆", "organization": "无锡丙公司"}, {"budget_max": 300}),
    "achievements": (
        "title",
        {"title": "一种正极包覆方法", "publication_number": "CN114081026A"},
        {"trl": 6},
    ),
    "experts": ("name", {"name": "赵六", "fields": "储能;电池"}, {"title": "教授"}),
    "instruments": ("name", {"name": "场发射扫描电镜", "owner": "江南大学"}, {"hourly_fee": 300}),
    "pilot-platforms": (
        "name",
        {"name": "锂电中试线", "industry_chains": ["新能源"]},
        {"capacity": "年 50 项"},
    ),
}


@pytest.mark.parametrize("path", NEW_RECORDS)
def test_zone_admin_creates_reads_updates_and_archives_every_kind(api: Api, path: str) -> None:
    label, body, change = NEW_RECORDS[path]
    headers = api.headers("wuxi_admin")
    created = api.client.post(f"/api/v1/{path}", json=body, headers=headers)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["zone_code"] == "wuxi" and record[label] == body[label]
    detail = api.client.get(f"/api/v1/{path}/{record['id']}", headers=headers).json()
    assert detail == record
    updated = api.client.patch(f"/api/v1/{path}/{record['id']}", json=change, headers=headers)
    assert updated.status_code == 200, updated.text
    assert all(updated.json()[k] == v for k, v in change.items())
    assert api.client.post(f"/api/v1/{path}", json=body, headers=headers).status_code == 409
    archived = api.client.delete(f"/api/v1/{path}/{record['id']}", headers=headers)
    assert archived.status_code == 200 and archived.json()["archived_at"]
    listed = api.client.get(f"/api/v1/{path}?q={body[label]}", headers=headers).json()
    assert listed["count"] == 0
    again = api.client.get(f"/api/v1/{path}?q={body[label]}&include_archived=true", headers=headers).json()
    assert again["count"] == 1


def test_list_filters_sorts_and_pages(api: Api) -> None:
    page = api.get("/demands?sort=title&per_page=1&page=2", "root").json()  # type: ignore[attr-defined]
    assert (page["count"], page["page"], page["per_page"], len(page["data"])) == (3, 2, 1, 1)
    assert page["data"][0]["title"] == "成都机密隔膜需求"
    shared = api.get("/demands?visibility=shared", "root").json()  # type: ignore[attr-defined]
    assert [d["title"] for d in shared["data"]] == ["储能电站热管理方案"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("sort=password", "sort"), ("nosuch=1", "nosuch"), ("page=0", "page"), ("per_page=1000", "per_page")],
)
def test_bad_list_parameters_are_422_naming_the_parameter(api: Api, query: str, field: str) -> None:
    response = api.get(f"/demands?{query}", "root")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert response.json()["errors"][0]["field"] == field  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", ["/demands/999999", "/demands/2147483648", "/demands/abc"])
def test_missing_or_malformed_ids(api: Api, path: str) -> None:
    response = api.get(path, "root")
    assert response.status_code == (404 if path.endswith("999999") else 422)  # type: ignore[attr-defined]


def test_enterprise_writes_only_its_own_organisations_records(api: Api) -> None:
    corp, other = api.headers("wuxi_corp"), api.headers("wuxi_other")
    created = api.client.post("/api/v1/demands", json={"title": "固态电解质界面改性"}, headers=corp)
    assert created.status_code == 201 and created.json()["organization"] == "无锡甲公司"
    demand = created.json()["id"]
    assert (
        api.client.patch(
            f"/api/v1/demands/{demand}", json={"title": "别家改的标题"}, headers=other
        ).status_code
        == 403
    )
    assert api.client.delete(f"/api/v1/demands/{demand}", headers=other).status_code == 403
    # Nor may the owner give the record away or move it to another zone.
    for change in ({"organization": "无锡乙公司"}, {"zone_code": "chengdu"}):
        assert api.client.patch(f"/api/v1/demands/{demand}", json=change, headers=corp).status_code == 403
    for body in (
        {"title": "替别家发布的需求", "organization": "无锡乙公司"},
        {"title": "发到成都的需求", "zone_code": "chengdu"},
    ):
        response = api.client.post("/api/v1/demands", json=body, headers=corp)
        assert response.status_code == 403 and "无锡甲公司" in response.json()["detail"]


def test_university_publishes_achievements_and_expert_edits_own_profile(api: Api) -> None:
    uni = api.client.post(
        "/api/v1/achievements", json={"title": "一种高导热复合材料"}, headers=api.headers("wuxi_uni")
    )
    assert uni.status_code == 201 and uni.json()["owner"] == "江南大学"
    zhang = api.headers("zhang")
    own = api.ids["wuxi_expert"]
    assert (
        api.client.patch(f"/api/v1/experts/{own}", json={"bio": "储能材料"}, headers=zhang).status_code == 200
    )
    assert (
        api.client.post("/api/v1/demands", json={"title": "专家不能发需求"}, headers=zhang).status_code == 403
    )


def test_invalid_bodies_are_422_with_chinese_reasons(api: Api) -> None:
    headers = api.headers("wuxi_admin")
    response = api.client.post(
        "/api/v1/demands", json={"title": "短", "organization": "无锡甲公司"}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "title", "reason": "太短, 至少 4 个字", "value": "短"}]
    missing_owner = api.client.post("/api/v1/demands", json={"title": "管理员未填需求单位"}, headers=headers)
    assert missing_owner.status_code == 422 and missing_owner.json()["errors"][0]["field"] == "organization"
    unknown = api.client.patch(
        f"/api/v1/demands/{api.ids['wuxi_private']}", json={"colour": "red"}, headers=headers
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "colour"
    bad_json = api.client.post(
        "/api/v1/demands", content=b"{", headers={**headers, "content-type": "application/json"}
    )
    assert bad_json.status_code == 422


def _scores(client: TestClient, path: str, headers: dict[str, str]) -> dict[tuple[str, int], float]:
    found = client.get(path, headers=headers).json()["data"]
    return {(m["target_kind"], m["target_id"]): m["score"] for m in found}


def test_run_matching_uses_the_apps_settings(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real engine behind POST .../match, with the app's index directory and weights (issue 9 #14)."""
    monkeypatch.chdir(tmp_path)  # where the process default (./var) would put the index
    demand, headers = api.ids["wuxi_private"], api.headers("wuxi_corp")
    matches = f"/api/v1/demands/{demand}/matches"
    weights = {"lexical": 2.0, "ipc": 0.0}
    every = {"min_match": 0.0}  # the seed is tiny: keep every candidate, however weak
    settings = Settings(
        database_url=api.url,
        secret_key="test-secret",
        data_dir=tmp_path / "app",
        match_weights=weights,
        match_params=every,
    )
    client = TestClient(create_app(settings))
    ran = client.post(f"/api/v1/demands/{demand}/match", headers=headers)
    assert ran.status_code == 200, ran.text
    by_app = {(m["target_kind"], m["target_id"]): m["score"] for m in ran.json()["data"]}
    assert ("achievement", api.ids["cd_shared_patent"]) in by_app  # the engine's own ranking
    reasons = [r for m in ran.json()["data"] for r in m["reasons"]]
    assert reasons and all({"code", "text"} <= set(r) <= {"code", "text", "terms"} for r in reasons)
    assert (tmp_path / "app" / "match-index").is_dir()
    assert not (tmp_path / "var").exists()
    # Batch matching with the same settings ranks the same; with the default weights it does not.
    batch = Settings(data_dir=tmp_path / "batch", match_weights=weights, match_params=every)
    run_batch(api.url, settings=batch, full=True)
    assert _scores(client, matches, headers) == pytest.approx(by_app)
    run_batch(api.url, settings=Settings(data_dir=tmp_path / "default", match_params=every), full=True)
    assert _scores(client, matches, headers) != pytest.approx(by_app)


def test_run_matching_needs_ownership(api: Api) -> None:
    demand = api.ids["wuxi_private"]
    assert (
        api.client.post(f"/api/v1/demands/{demand}/match", headers=api.headers("wuxi_other")).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("path", "field", "limit"),
    [
        ("/demands", "industry_chain", 50),
        ("/achievements", "discipline", 50),
        ("/achievements", "industry_chain", 50),
        ("/organizations", "province", 20),
        ("/organizations", "city", 50),
    ],
)
def test_an_overlong_value_is_422_on_every_database(
    api_all_dbs: Api, path: str, field: str, limit: int
) -> None:
    """SQLite stored these (201) where PostgreSQL refused them: now a 422 naming the field on both."""
    body = {"title": "一种测试方法与装置", "organization": "无锡甲公司", "name": "无锡新材料有限公司"}
    headers = api_all_dbs.headers("wuxi_admin")
    response = api_all_dbs.client.post(
        f"/api/v1{path}", json={**body, field: "长" * (limit + 1)}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    fits = api_all_dbs.client.post(f"/api/v1{path}", json={**body, field: "长" * limit}, headers=headers)
    assert fits.status_code == 201, fits.text
