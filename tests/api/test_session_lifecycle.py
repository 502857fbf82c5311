"""Sessions end on the server: the audit replayed a cookie after logout and tokens after a password change.

Every test keeps the old cookie or token as a string and replays it from a fresh client, the way an
attacker who copied it would; the client that logged out has nothing to do with it.

Password change keeps the one credential the change was made with (the browser session, or the bearer
token of an API call) and ends every other session and token of the user.
"""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from techbridge.services.sessions import CSRF_HEADER, SESSION_COOKIE

from ..web.conftest import submit_login
from .conftest import PASSWORD, Api

NEW_PASSWORD = "brand-new-pass-77"


def _web_login(api: Api, username: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    client = TestClient(api.client.app)
    response = submit_login(client, username, password)
    assert response.status_code == 303, response.text
    return client, client.cookies[SESSION_COOKIE]


def _page_csrf(client: TestClient) -> str:
    page = client.get("/account")
    return str(BeautifulSoup(page.text, "html.parser").select_one("input[name=csrf_token]")["value"])


def _cookie_works(api: Api, cookie: str) -> bool:
    """Replay a session cookie from a client that has never seen it: the page and the API both answer?"""
    fresh = TestClient(api.client.app, cookies={SESSION_COOKIE: cookie})
    page = fresh.get("/account", follow_redirects=False).status_code
    me = fresh.get("/api/v1/me").status_code
    assert (page == 200) == (me == 200), (page, me)
    return me == 200


def _token_works(api: Api, token: str) -> bool:
    fresh = TestClient(api.client.app)
    return fresh.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def _api_login(api: Api, username: str, password: str = PASSWORD) -> str:
    response = api.client.post("/api/v1/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_logout_ends_the_session_on_the_server(api_all_dbs: Api) -> None:
    api = api_all_dbs
    client, cookie = _web_login(api, "wuxi_corp")
    other_client, other_cookie = _web_login(api, "wuxi_corp")
    assert _cookie_works(api, cookie)
    response = client.post("/logout", data={"csrf_token": _page_csrf(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert not _cookie_works(api, cookie)
    assert _cookie_works(api, other_cookie)  # logging out one browser leaves the others


def test_web_password_change_ends_other_sessions_and_every_token(api_all_dbs: Api) -> None:
    api = api_all_dbs
    laptop, laptop_cookie = _web_login(api, "wuxi_uni")
    _phone, phone_cookie = _web_login(api, "wuxi_uni")
    login_token = _api_login(api, "wuxi_uni")
    integration_token = api.tokens["wuxi_uni"]
    changed = laptop.post(
        "/account/password",
        data={
            "csrf_token": _page_csrf(laptop),
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert not _cookie_works(api, phone_cookie)
    assert not _token_works(api, login_token)
    assert not _token_works(api, integration_token)
    assert _cookie_works(api, laptop_cookie)  # the browser that made the change stays logged in
    assert _token_works(api, _api_login(api, "wuxi_uni", NEW_PASSWORD))


def test_api_password_change_keeps_only_the_calling_token(api_all_dbs: Api) -> None:
    api = api_all_dbs
    caller = _api_login(api, "wuxi_corp")
    _browser, cookie = _web_login(api, "wuxi_corp")
    other_token = api.tokens["wuxi_corp"]
    response = api.client.put(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"Authorization": f"Bearer {caller}"},
    )
    assert response.status_code == 204
    assert not _cookie_works(api, cookie)
    assert not _token_works(api, other_token)
    assert _token_works(api, caller)


def test_deactivation_ends_sessions_and_tokens_for_good(api_all_dbs: Api) -> None:
    api = api_all_dbs
    _browser, cookie = _web_login(api, "wuxi_other")
    token = api.tokens["wuxi_other"]
    admin = api.headers("wuxi_admin")
    user_id = next(
        u["id"]
        for u in api.client.get("/api/v1/users", headers=admin).json()
        if u["username"] == "wuxi_other"
    )
    off = api.client.patch(f"/api/v1/users/{user_id}", json={"is_active": False}, headers=admin)
    assert off.status_code == 200
    assert not _cookie_works(api, cookie)
    assert not _token_works(api, token)
    # Switching the account back on does not bring the old credentials back.
    on = api.client.patch(f"/api/v1/users/{user_id}", json={"is_active": True}, headers=admin)
    assert on.status_code == 200
    assert not _cookie_works(api, cookie)
    assert not _token_works(api, token)
    assert _cookie_works(api, _web_login(api, "wuxi_other")[1])


def test_api_logout_ends_the_calling_token_or_browser_session(api_all_dbs: Api) -> None:
    api = api_all_dbs
    token = _api_login(api, "wuxi_corp")
    out = api.client.post("/api/v1/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204
    assert not _token_works(api, token)
    assert _token_works(api, api.tokens["wuxi_corp"])  # other tokens are untouched

    browser, cookie = _web_login(api, "wuxi_corp")
    refused = browser.post("/api/v1/logout")  # a cookie-authenticated write needs the CSRF header
    assert refused.status_code == 403
    csrf = _page_csrf(browser)
    assert browser.post("/api/v1/logout", headers={CSRF_HEADER: csrf}).status_code == 204
    assert not _cookie_works(api, cookie)


def test_revoking_a_token_from_the_account_page_ends_it_at_once(api_all_dbs: Api) -> None:
    api = api_all_dbs
    browser, _cookie = _web_login(api, "wuxi_admin")
    token = api.tokens["wuxi_admin"]
    token_id = api.client.get("/api/v1/tokens", headers=api.headers("wuxi_admin")).json()[0]["id"]
    response = browser.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": _page_csrf(browser)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert not _token_works(api, token)
