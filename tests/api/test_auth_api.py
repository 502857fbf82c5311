"""Login, tokens, browser sessions with CSRF, account admin, imports and the API contract."""

from __future__ import annotations

from fastapi.testclient import TestClient

from techbridge.api.app import create_api
from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.services import accounts
from techbridge.services.sessions import (
    CSRF_HEADER,
    SESSION_COOKIE,
    csrf_token,
    encode_session,
    new_session,
    start_session,
)
from techbridge.store.db import session_scope

from .conftest import PASSWORD, Api


def test_login_gives_a_working_token_and_wrong_passwords_are_limited(api: Api) -> None:
    ok = api.client.post("/api/v1/login", json={"username": "wuxi_corp", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
    me = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"}).json()
    assert (me["username"], me["role"], me["role_label"], me["zone_code"]) == (
        "wuxi_corp",
        "enterprise",
        "企业用户",
        "wuxi",
    )
    for _ in range(5):
        wrong = api.client.post("/api/v1/login", json={"username": "wuxi_corp", "password": "guess-guess"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    limited = api.client.post("/api/v1/login", json={"username": "wuxi_corp", "password": PASSWORD})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert "次数过多" in limited.json()["detail"]


def test_every_endpoint_but_login_needs_authentication(api: Api) -> None:
    schema = api.client.get("/api/v1/openapi.json").json()
    checked = 0
    for path, operations in schema["paths"].items():
        for method in operations:
            if path == "/api/v1/login":
                continue
            url = path.replace("{record_id}", "1").replace("{token_id}", "1").replace("{user_id}", "1")
            url = url.replace("{kind}", "demands")
            response = api.client.request(method, url, headers={"Authorization": "Bearer tb_forged"})
            assert response.status_code == 401, (method, path, response.text)
            checked += 1
    assert checked >= 50


def test_tokens_can_be_created_listed_and_revoked(api: Api) -> None:
    headers = api.headers("wuxi_admin")
    made = api.client.post(
        "/api/v1/tokens", json={"name": "ERP 对接", "expires_in_days": 30}, headers=headers
    )
    assert made.status_code == 201
    token, token_id = made.json()["access_token"], made.json()["token"]["id"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert [t["name"] for t in api.client.get("/api/v1/tokens", headers=bearer).json()] == [
        "test",
        "ERP 对接",
    ]
    assert api.client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code == 204
    assert api.client.get("/api/v1/me", headers=bearer).status_code == 401
    assert api.client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code == 404
    assert api.client.post("/api/v1/tokens", json={"name": ""}, headers=headers).status_code == 422


def test_browser_session_cookie_needs_csrf_for_writes(api: Api) -> None:
    with session_scope(api.url) as db:
        session = start_session(db, user=accounts.active_user(db, 4))  # wuxi_corp, the fourth seeded user
    client = TestClient(api.client.app, cookies={SESSION_COOKIE: encode_session("test-secret", session)})
    assert client.get("/api/v1/me").json()["username"] == "wuxi_corp"
    body = {"title": "浏览器里发布的需求"}
    refused = client.post("/api/v1/demands", json=body)
    assert refused.status_code == 403 and CSRF_HEADER in refused.json()["detail"]
    accepted = client.post(
        "/api/v1/demands", json=body, headers={CSRF_HEADER: csrf_token("test-secret", session)}
    )
    assert accepted.status_code == 201
    forged = TestClient(api.client.app, cookies={SESSION_COOKIE: encode_session("wrong-secret", session)})
    assert forged.get("/api/v1/me").status_code == 401
    # Even the app's own secret cannot make a session the server never opened.
    made_up = TestClient(
        api.client.app, cookies={SESSION_COOKIE: encode_session("test-secret", new_session(4))}
    )
    assert made_up.get("/api/v1/me").status_code == 401


def test_password_change(api: Api) -> None:
    headers = api.headers("wuxi_uni")
    wrong = api.client.put(
        "/api/v1/me/password",
        json={"current_password": "nope", "new_password": "new-pass-123"},
        headers=headers,
    )
    assert wrong.status_code == 403
    ok = api.client.put(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "new-pass-123"},
        headers=headers,
    )
    assert ok.status_code == 204
    assert (
        api.client.post(
            "/api/v1/login", json={"username": "wuxi_uni", "password": "new-pass-123"}
        ).status_code
        == 200
    )


def test_admins_manage_accounts_of_their_zone(api: Api) -> None:
    admin = api.headers("wuxi_admin")
    body = {
        "username": "new_corp",
        "password": "password-9",
        "role": "enterprise",
        "organization": "无锡丁公司",
    }
    created = api.client.post("/api/v1/users", json=body, headers=admin)
    assert created.status_code == 201 and created.json()["zone_code"] == "wuxi"
    assert api.client.post("/api/v1/users", json=body, headers=admin).status_code == 409
    too_high = {**body, "username": "boss", "role": "zone_admin"}
    assert api.client.post("/api/v1/users", json=too_high, headers=admin).status_code == 403
    assert api.client.post("/api/v1/users", json=body, headers=api.headers("wuxi_corp")).status_code == 403
    names = {u["username"] for u in api.client.get("/api/v1/users", headers=admin).json()}
    assert "cd_admin" not in names and "new_corp" in names
    cd_user = api.client.get("/api/v1/users", headers=api.headers("cd_admin")).json()[0]["id"]
    assert (
        api.client.patch(f"/api/v1/users/{cd_user}", json={"is_active": False}, headers=admin).status_code
        == 404
    )
    new_id = created.json()["id"]
    disabled = api.client.patch(f"/api/v1/users/{new_id}", json={"is_active": False}, headers=admin)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False


GOOD_AND_BAD = "需求名称,需求单位\n新型储能电池包设计,无锡甲公司\n短,无锡甲公司\n"


def _upload(api: Api, user: str, query: str, content: str = GOOD_AND_BAD) -> object:
    files = {"file": ("需求.csv", content.encode("utf-8"), "text/csv")}
    return api.client.post(f"/api/v1/imports/demands?{query}", files=files, headers=api.headers(user))


def test_import_previews_row_errors_then_commits(api: Api) -> None:
    preview = _upload(api, "wuxi_admin", "dry_run=true")
    assert preview.status_code == 200  # type: ignore[attr-defined]
    report = preview.json()  # type: ignore[attr-defined]
    assert (report["dry_run"], report["total_rows"], report["inserted"], report["error_count"]) == (
        True,
        2,
        1,
        1,
    )
    assert report["errors"][0]["row"] == 3 and report["errors"][0]["field"] == "需求名称"
    assert api.get("/demands?q=储能电池包", "wuxi_admin").json()["count"] == 0  # type: ignore[attr-defined]
    refused = _upload(api, "wuxi_admin", "dry_run=false")
    assert refused.status_code == 422 and refused.json()["errors"][0]["row"] == 3  # type: ignore[attr-defined]
    committed = _upload(api, "wuxi_admin", "dry_run=false&skip_invalid=true")
    assert committed.json()["inserted"] == 1  # type: ignore[attr-defined]
    assert api.get("/demands?q=储能电池包", "wuxi_admin").json()["count"] == 1  # type: ignore[attr-defined]


def test_import_permissions_and_bad_files(api: Api) -> None:
    assert _upload(api, "wuxi_corp", "dry_run=true").status_code == 403  # type: ignore[attr-defined]
    assert _upload(api, "wuxi_admin", "zone_code=chengdu").status_code == 403  # type: ignore[attr-defined]
    assert _upload(api, "root", "dry_run=true").status_code == 400  # type: ignore[attr-defined]
    assert _upload(api, "root", "zone_code=chengdu").json()["inserted"] == 1  # type: ignore[attr-defined]
    headerless = _upload(api, "wuxi_admin", "dry_run=true", content="\n")
    assert headerless.status_code == 422 and "缺少必填列" in headerless.json()["detail"]  # type: ignore[attr-defined]
    wrong_kind = api.client.post(
        "/api/v1/imports/widgets", files={"file": ("a.csv", b"x", "text/csv")}, headers=api.headers("root")
    )
    assert wrong_kind.status_code == 422


def test_export_as_xlsx(api: Api) -> None:
    response = api.get("/exports/achievements?format=xlsx", "wuxi_admin")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")  # type: ignore[attr-defined]
    assert response.content[:2] == b"PK"  # type: ignore[attr-defined]
    assert api.get("/exports/achievements?format=pdf", "wuxi_admin").status_code == 422  # type: ignore[attr-defined]


def test_openapi_has_stable_unique_operation_ids(api: Api) -> None:
    schema = api.client.get("/api/v1/openapi.json").json()
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) and "demands-list_records" in ids and "auth-login" in ids
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_the_api_stands_alone_and_the_site_adds_the_pages(sqlite_url: str) -> None:
    """``api.app.create_api`` knows no web page; the composition root (``techbridge.app``) mounts them."""
    settings = Settings(database_url=sqlite_url, secret_key="test-secret")
    api_only = TestClient(create_api(settings))
    assert api_only.get("/api/v1/openapi.json").status_code == 200
    missing = api_only.get("/login")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
    site = TestClient(create_app(settings))
    page = site.get("/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (
        site.get("/api/v1/openapi.json").json()["paths"]
        == api_only.get("/api/v1/openapi.json").json()["paths"]
    )
