"""Hardening the audit found missing: security headers on every response, and cookie flags.

The Content-Security-Policy allows no inline script, so a test also walks the rendered pages and checks
that none needs one (every script is a same-origin file or an inert JSON block).
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from fastapi.testclient import TestClient

from techbridge.app import create_app
from techbridge.config import Settings
from techbridge.services.sessions import SESSION_COOKIE

from .conftest import submit_login


def _csp(response: object) -> dict[str, str]:
    header = response.headers["content-security-policy"]  # type: ignore[attr-defined]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def _check_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    policy = _csp(response)
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["default-src"] == "default-src 'self'"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/login"),
        ("GET", "/"),
        ("GET", "/demands"),
        ("GET", "/demands/abc"),
        ("GET", "/no-such-page"),
        ("GET", "/static/app.css"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/login"),
        ("GET", "/api/v1/docs"),
    ],
)
def test_every_response_carries_the_security_headers(ent: TestClient, method: str, path: str) -> None:
    response = ent.request(method, path, follow_redirects=False)
    _check_headers(response)


def test_the_app_policy_allows_no_inline_script(ent: TestClient) -> None:
    policy = _csp(ent.get("/"))
    assert policy["script-src"] == "script-src 'self'"
    assert "unsafe-eval" not in str(policy)


def test_only_the_api_docs_may_load_swagger_from_its_cdn(ent: TestClient) -> None:
    docs = _csp(ent.get("/api/v1/docs"))
    assert "https://cdn.jsdelivr.net" in docs["script-src"]
    assert "cdn.jsdelivr.net" not in str(_csp(ent.get("/")))


def test_rendered_pages_need_no_inline_script(
    ent: TestClient, wuxi_admin: TestClient, private_demand_id: int
) -> None:
    pages = [
        (ent, "/"),
        (ent, "/demands"),
        (ent, f"/demands/{private_demand_id}"),
        (ent, f"/demands/{private_demand_id}/matches"),
        (ent, "/account"),
        (wuxi_admin, "/admin/users"),
        (wuxi_admin, "/deals"),
        (wuxi_admin, "/dashboard"),
        (wuxi_admin, "/dashboard/funnel"),
        (wuxi_admin, "/reports/monthly"),
        (wuxi_admin, "/import"),
    ]
    checked = 0
    for client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        soup = BeautifulSoup(response.text, "html.parser")
        for script in soup.find_all("script"):
            if script.get("src"):
                assert str(script["src"]).startswith("/static/"), (path, script)
            else:
                assert script.get("type") == "application/json", (path, script)
            checked += 1
        handlers = [
            (tag.name, attr) for tag in soup.find_all(True) for attr in tag.attrs if attr.startswith("on")
        ]
        assert handlers == [], path
        assert not soup.select('a[href^="javascript:"]'), path
    assert checked >= len(pages)


def _login_response(client: TestClient) -> object:
    return submit_login(client, "wuxi_ent")


def _cookie_header(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    matching = [h for h in headers if h.startswith(f"{name}=")]
    assert matching, (name, headers)
    return matching[0]


def test_session_cookie_is_httponly_and_samesite_but_not_secure_over_plain_http_in_dev(app: FastAPI) -> None:
    response = _login_response(TestClient(app))
    cookie = _cookie_header(response, SESSION_COOKIE).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie
    assert "strict-transport-security" not in response.headers  # type: ignore[attr-defined]


def test_cookies_are_secure_over_https(app: FastAPI) -> None:
    client = TestClient(app, base_url="https://testserver")
    login_page = client.get("/login")
    assert "secure" in _cookie_header(login_page, "tb_login_csrf").lower()
    response = _login_response(client)
    assert "secure" in _cookie_header(response, SESSION_COOKIE).lower()
    assert "max-age=" in response.headers["strict-transport-security"]  # type: ignore[attr-defined]
    csrf = BeautifulSoup(client.get("/").text, "html.parser").select_one("input[name=csrf_token]")["value"]
    logout = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert "secure" in _cookie_header(logout, "tb_flash").lower()


@pytest.mark.parametrize(
    ("overrides", "secure"),
    [
        ({"cookie_secure": True}, True),
        ({"environment": "production", "secret_key": "p" * 40}, True),
        ({"environment": "production", "secret_key": "p" * 40, "cookie_secure": False}, False),
    ],
)
def test_the_secure_flag_follows_the_setting_and_production(
    settings: Settings, ids: object, overrides: dict[str, object], secure: bool
) -> None:
    client = TestClient(create_app(settings.model_copy(update=overrides)))
    assert ("secure" in _cookie_header(client.get("/login"), "tb_login_csrf").lower()) is secure
    response = _login_response(client)
    assert ("secure" in _cookie_header(response, SESSION_COOKIE).lower()) is secure


def test_a_trusted_proxy_can_say_the_request_came_over_https(settings: Settings, ids: object) -> None:
    behind = TestClient(create_app(settings.model_copy(update={"trusted_proxies": ["testclient"]})))
    page = behind.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" in _cookie_header(page, "tb_login_csrf").lower()
    direct = TestClient(create_app(settings))
    page = direct.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in _cookie_header(page, "tb_login_csrf").lower()
