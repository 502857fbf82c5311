"""Query strings are checked on every endpoint: bounds on paging, known sort columns, no unknown names.

A misspelt filter that was silently ignored would return the whole list as if it had matched, so every
endpoint in the OpenAPI schema answers an unknown parameter with a 422 that names the allowed ones.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import Api

PATH_VALUES = {"kind": "demands", "metric": "funnel", "month": "2026-01"}  # other path values are ids


def _operations(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    schema = api.client.get("/api/v1/openapi.json").json()
    return [(method, path, op) for path, ops in schema["paths"].items() for method, op in ops.items()]


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "1"), path)


def _declared_query(op: dict[str, Any]) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}


def test_every_endpoint_refuses_an_unknown_query_parameter_and_lists_the_allowed_ones(api: Api) -> None:
    operations = _operations(api)
    assert len(operations) > 40
    for method, path, op in operations:
        response = api.client.request(method, _url(path) + "?nosuch=1", headers=api.headers("root"))
        assert response.status_code == 422, (method, path, response.text)
        (error,) = response.json()["errors"]
        assert error["field"] == "nosuch"
        allowed = error["reason"].split("可选: ", 1)[1]
        assert set(allowed.split(", ")) - {"(无)"} == _declared_query(op), (method, path)


def _list_paths(api: Api) -> list[str]:
    return [p for m, p, op in _operations(api) if m == "get" and {"page", "per_page"} <= _declared_query(op)]


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ("page=0", "page", "不能小于 1"),
        ("per_page=0", "per_page", "不能小于 1"),
        ("per_page=201", "per_page", "不能大于 200"),
        ("page=abc", "page", "应为整数"),
        ("page=9999999999999999999", "page", "不能大于 100000"),  # issue 9 #10: past SQL's integers
    ],
)
def test_every_list_endpoint_checks_paging_bounds(api: Api, query: str, field: str, reason: str) -> None:
    paths = _list_paths(api)
    assert "/api/v1/deals" in paths and "/api/v1/demands" in paths
    for path in paths:
        response = api.client.get(f"{path}?{query}", headers=api.headers("root"))
        assert response.status_code == 422, (path, response.text)
        assert response.json()["errors"][0] | {"value": ""} == {"field": field, "reason": reason, "value": ""}


def test_an_unknown_sort_column_lists_the_choices(api: Api) -> None:
    response = api.get("/achievements?sort=price", "wuxi_admin")
    assert response.status_code == 422  # type: ignore[attr-defined]
    reason = response.json()["errors"][0]["reason"]  # type: ignore[attr-defined]
    assert reason.startswith("不是有效值, 可选: ") and "'-asking_price'" in reason and "'trl'" in reason


def test_deals_are_listed_a_page_at_a_time(api: Api) -> None:
    # Three deals, each a different demand-resource pair (the same pair twice is a 409).
    for demand, kind, resource in [
        ("wuxi_private", "achievement", "cd_shared_patent"),
        ("wuxi_private", "expert", "wuxi_expert"),
        ("wuxi_shared", "achievement", "cd_shared_patent"),
    ]:
        body = {"demand_id": api.ids[demand], "resources": [{"kind": kind, "id": api.ids[resource]}]}
        created = api.client.post("/api/v1/deals", headers=api.headers("wuxi_admin"), json=body)
        assert created.status_code == 201, created.text
    first = api.get("/deals?per_page=2", "wuxi_admin").json()  # type: ignore[attr-defined]
    second = api.get("/deals?per_page=2&page=2", "wuxi_admin").json()  # type: ignore[attr-defined]
    assert (first["count"], len(first["data"]), first["page"], first["per_page"]) == (3, 2, 1, 2)
    assert (second["count"], len(second["data"]), second["page"]) == (3, 1, 2)
    ids = [d["id"] for d in first["data"] + second["data"]]
    assert len(set(ids)) == 3 and ids == sorted(ids, reverse=True)  # newest first, no overlap
    typo = api.get("/deals?stge=pilot", "wuxi_admin")
    assert typo.status_code == 422 and "可选: page, per_page, stage" in typo.json()["detail"]  # type: ignore[attr-defined]
