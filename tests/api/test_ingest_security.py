"""Issue 9 through the API: upload and row caps, hostile files, model numbers, and what import messages may
reveal about other zones. Each test is the attack or failure the audit reported."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.domain.access import Scope
from techbridge.domain.records import Achievement
from techbridge.store.db import session_scope
from techbridge.store.records import create_record

from .conftest import Api

DEMAND_HEADER = "需求名称,需求单位\n"


def _import(
    api: Api, content: bytes, *, name: str = "d.csv", dry_run: bool = True, kind: str = "demands", **kw: str
) -> object:
    return api.client.post(
        f"/api/v1/imports/{kind}?dry_run={str(dry_run).lower()}",
        files={"file": (name, content, "application/octet-stream")},
        headers=api.headers("wuxi_admin"),
        params=kw or None,
    )


def _capped_client(api: Api, **limits: int) -> TestClient:
    settings = Settings(database_url=api.url, secret_key="test-secret", **limits)  # type: ignore[arg-type]
    return TestClient(create_app(settings))


# -- item 1 and 8: bounded work per request ---------------------------------------------------------


def test_an_upload_over_the_cap_is_refused_with_413_naming_the_cli(api: Api) -> None:
    client = _capped_client(api, upload_max_mb=1)
    big = (DEMAND_HEADER + "锂电池隔膜涂覆技术,无锡甲公司\n" * 60_000).encode()
    assert len(big) > 1024 * 1024
    response = client.post(
        "/api/v1/imports/demands?dry_run=true",
        files={"file": ("d.csv", big, "text/csv")},
        headers=api.headers("wuxi_admin"),
    )
    assert response.status_code == 413, response.text
    detail = response.json()["detail"]
    assert "1 MB" in detail and "techbridge import" in detail


def test_an_import_over_the_row_cap_is_refused_with_413_naming_the_cli(api: Api) -> None:
    client = _capped_client(api, upload_max_rows=5)
    rows = "".join(f"锂电池隔膜涂覆技术第{i}号,无锡甲公司\n" for i in range(6))
    response = client.post(
        "/api/v1/imports/demands?dry_run=false",
        files={"file": ("d.csv", (DEMAND_HEADER + rows).encode(), "text/csv")},
        headers=api.headers("wuxi_admin"),
    )
    assert response.status_code == 413, response.text
    detail = response.json()["detail"]
    assert "5 行" in detail and "techbridge import demand d.csv --zone wuxi" in detail
    assert api.get("/demands?q=锂电池隔膜涂覆技术第", "root").json()["count"] == 0  # type: ignore[attr-defined]
    five = DEMAND_HEADER + rows.split("\n", 1)[1]
    ok = client.post(
        "/api/v1/imports/demands?dry_run=true",
        files={"file": ("d.csv", five.encode(), "text/csv")},
        headers=api.headers("wuxi_admin"),
    )
    assert ok.status_code == 200 and ok.json()["inserted"] == 5


# -- item 10: hostile files and bodies are 4xx with a reason, never 500 ------------------------------


def test_a_csv_cell_over_the_field_limit_names_the_row(api: Api) -> None:
    content = DEMAND_HEADER + "锂电池隔膜涂覆技术,无锡甲公司\n" + "x" * 140_000 + ",无锡甲公司\n"
    response = _import(api, content.encode())
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    detail = response.json()["detail"]  # type: ignore[attr-defined]
    assert "d.csv" in detail and "第 3 行" in detail and "131,072" in detail


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read(api: Api, encoding: str) -> None:
    content = (
        DEMAND_HEADER + "氢燃料电池双极板,无锡甲公司\nPEM electrolyser stack test,无锡甲公司\n"
    ).encode(encoding)
    response = _import(api, content)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert response.json()["inserted"] == 2  # type: ignore[attr-defined]


def test_binary_garbage_with_nul_bytes_is_a_clear_error(api: Api) -> None:
    response = _import(api, DEMAND_HEADER.encode() + b"\x00\x01\x02abc\x00\xff\xfe,x\n" * 50)
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    assert "d.csv" in response.json()["detail"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["d.json", "d.jsonl"])
def test_json_nested_50k_deep_is_a_clear_error(api: Api, name: str) -> None:
    response = _import(api, b"[" * 50_000 + b"]" * 50_000, name=name)
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert "嵌套" in body["detail"] or any("嵌套" in e["reason"] for e in body["errors"])


def test_a_lone_surrogate_in_an_import_file_is_a_row_error(api_all_dbs: Api) -> None:
    api = api_all_dbs
    rows = [
        {"需求名称": "\ud800锂电池隔膜涂覆技术", "需求单位": "无锡甲公司"},
        {"需求名称": "储能热管理\udfff方案", "需求单位": "无锡甲公司", "\ud800备注": "x"},
    ]
    content = "\n".join(json.dumps(r) for r in rows).encode()  # ensure_ascii keeps the \ud800 escapes
    response = _import(api, content, name="d.jsonl")
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["inserted"] == 0 and body["error_count"] == 2
    assert all("无效字符" in e["reason"] for e in body["errors"])


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_lone_surrogate_in_a_json_body_is_422_on_both_stores(api_all_dbs: Api, method: str) -> None:
    api = api_all_dbs
    path = "/api/v1/demands" if method == "post" else f"/api/v1/demands/{api.ids['wuxi_private']}"
    body = '{"title": "\\ud800锂电池隔膜涂覆技术", "organization": "无锡甲公司", "keywords": ["\\udc00"]}'
    response = api.client.request(
        method.upper(),
        path,
        content=body.encode(),
        headers={**api.headers("wuxi_admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert "无效字符" in response.text
    assert api.get("/demands?q=锂电池隔膜涂覆技术", "root").json()["count"] == 1  # type: ignore[attr-defined]


# -- item 9: different model numbers are different demands ------------------------------------------


def test_titles_with_different_model_numbers_are_all_created(api_all_dbs: Api) -> None:
    api = api_all_dbs
    titles = ["型号 1-12 测试需求", "型号 11-2 测试需求", "型号 11.2 测试需求", "型号112测试需求"]
    for title in titles:
        response = api.client.post(
            "/api/v1/demands",
            json={"title": title, "organization": "无锡甲公司"},
            headers=api.headers("wuxi_admin"),
        )
        assert response.status_code == 201, (title, response.text)
    again = api.client.post(
        "/api/v1/demands",
        json={"title": "型号１－１２ 测试需求。", "organization": "无锡甲公司"},
        headers=api.headers("wuxi_admin"),
    )
    assert again.status_code == 409 and "需求已存在" in again.json()["detail"]


def test_import_of_two_model_numbers_inserts_both(api: Api) -> None:
    content = DEMAND_HEADER + "规格 2-13 型号需求,无锡甲公司\n规格 21-3 型号需求,无锡甲公司\n"
    response = _import(api, content.encode(), dry_run=False)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert (body["inserted"], body["skipped"]) == (2, 0)
    assert api.get("/demands?q=型号需求", "wuxi_admin").json()["count"] == 2  # type: ignore[attr-defined]


# -- item 12: import messages name only what the importer may see ------------------------------------


@pytest.fixture
def chengdu_patents(api: Api) -> dict[str, int]:
    made = {
        "private": Achievement(
            zone_code="chengdu",
            publication_number="CN113000001A",
            title="成都机密钛合金涂层",
            owner="四川大学",
        ),
        "shared": Achievement(
            zone_code="chengdu",
            publication_number="CN113000002A",
            title="成都共享隔膜装置",
            owner="四川大学",
            visibility="shared",
        ),
    }
    with session_scope(api.url) as s:
        return {key: create_record(s, record, scope=Scope.platform()).id for key, record in made.items()}


def test_a_dry_run_does_not_confirm_another_zones_private_patent(
    api: Api, chengdu_patents: dict[str, int]
) -> None:
    content = "专利名称,公开号,申请人\n我方的钛合金涂层,CN113000001A,江南大学\n"
    body = _import(api, content.encode(), kind="achievements").json()  # type: ignore[attr-defined]
    assert body["inserted"] == 0 and body["error_count"] == 1  # still refused: the number is taken
    text = json.dumps(body, ensure_ascii=False)
    assert "其他园区" not in text and "成都" not in text and "chengdu" not in text
    assert f"编号 {chengdu_patents['private']}" not in text and "机密" not in text
    private_reason = body["errors"][0]["reason"]
    # A shared patent may be named: the importer can open it anyway.
    content = "专利名称,公开号,申请人\n我方的隔膜装置,CN113000002A,江南大学\n"
    body = _import(api, content.encode(), kind="achievements").json()  # type: ignore[attr-defined]
    assert f"编号 {chengdu_patents['shared']}" in body["errors"][0]["reason"]
    assert body["errors"][0]["reason"] != private_reason


def test_creating_a_patent_another_zone_holds_privately_does_not_name_it(
    api: Api, chengdu_patents: dict[str, int]
) -> None:
    response = api.client.post(
        "/api/v1/achievements",
        json={"title": "我方的钛合金涂层", "publication_number": "CN113000001A", "owner": "江南大学"},
        headers=api.headers("wuxi_admin"),
    )
    assert response.status_code == 409
    assert f"编号 {chengdu_patents['private']}" not in response.json()["detail"]


def test_a_near_duplicate_warning_never_names_another_zones_private_demand(api: Api) -> None:
    # 成都乙公司's private demand "成都机密隔膜需求" is seeded in chengdu; Wuxi must learn nothing of it.
    content = DEMAND_HEADER + "成都机密隔膜需求。,成都乙公司\n"
    body = _import(api, content.encode()).json()  # type: ignore[attr-defined]
    assert body["inserted"] == 1
    assert not any("已有记录" in w for w in body["warnings"]), body["warnings"]
    mine = DEMAND_HEADER + "一种锂电池隔膜涂覆技术,无锡甲公司\n"  # near the seeded Wuxi demand
    warnings = _import(api, mine.encode()).json()["warnings"]  # type: ignore[attr-defined]
    near = f"第 2 行与已有记录 (编号 {api.ids['wuxi_private']}) 标题近似重复"
    assert warnings == [f"{near} (同一单位 无锡甲公司): 一种锂电池隔膜涂覆技术"]
