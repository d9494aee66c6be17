"""Sign-in with auth on (both dialects): nothing answers without a session, roles, rate limits,
cookie flags, sessions ended by a new password, the reverse proxy's header, auth=none local only.
"""

from __future__ import annotations

import re

import pytest

from carekpi import users
from carekpi.settings import Settings
from dashboard import ids
from dashboard.app import create_app, page_paths

SECRET = "s" * 40
PASSWORD = "correct horse battery"
HTTPS = "https://localhost"  # the session cookie is Secure: the test client sends it over https


@pytest.fixture
def app_settings(settings) -> Settings:
    return settings.model_copy(update={"auth": "password", "secret_key": SECRET})


@pytest.fixture
def server(app_settings, warehouse):
    users.add_user(warehouse, "vera", PASSWORD, "viewer")
    users.add_user(warehouse, "dana", PASSWORD, "data-manager")
    return create_app(app_settings).server


def _client(server):
    return server.test_client()


def sign_in(client, username: str, password: str = PASSWORD, **environ):
    form = client.get(f"{HTTPS}/login", environ_base=environ).get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    return client.post(f"{HTTPS}/login", data={"username": username, "password": password,
                                              "csrf": csrf, "next": "/kpi"},
                       environ_base=environ)


def callback_body(output: str, inputs: list[dict]) -> dict:
    """A one-output callback request as Dash's renderer posts it."""
    component, prop = output.rsplit(".", 1)
    return {"output": output, "outputs": {"id": component, "property": prop},
            "inputs": inputs, "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs]}


def router_body(pathname: str, search: str = "") -> dict:
    """The body Dash's renderer posts to draw a page (dash.page_container's callback)."""
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"]}


REFUSED_CSV = callback_body(f"{ids.DQ_REFUSED_CSV}.data", [
    {"id": f"{ids.DQ_REFUSED_CSV}-button", "property": "n_clicks", "value": 1}])


def test_without_a_session_every_page_callback_download_and_api_call_is_refused(server):
    client = _client(server)
    for path in sorted(page_paths()):
        response = client.get(f"{HTTPS}{path}?org=N1")
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=" + path)
    for path in ("/_dash-layout", "/_dash-dependencies", "/api/v1/kpis", "/api/v1/rows",
                 "/api/v1/organisations", "/api/v1/openapi.json", "/_reload-hash"):
        assert client.get(f"{HTTPS}{path}").status_code == 401, path
    for body in (router_body("/"), router_body("/data-quality"), REFUSED_CSV):
        response = client.post(f"{HTTPS}/_dash-update-component", json=body)
        assert response.status_code == 401
        assert response.get_json() == {"error": "sign in first"}
    assert client.get(f"{HTTPS}/healthz").status_code in (200, 503)  # monitoring: no sign-in
    assert client.get(f"{HTTPS}/login").status_code == 200


def test_signing_in_sets_a_secure_httponly_samesite_cookie_and_opens_the_pages(server):
    client = _client(server)
    response = sign_in(client, "vera")
    assert response.status_code == 303 and response.headers["Location"] == "/kpi"
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith("carekpi_session="))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "expires"} <= flags and "SameSite=Lax" in cookie
    assert client.get(f"{HTTPS}/kpi").status_code == 200
    assert client.get(f"{HTTPS}/_dash-layout").status_code == 200
    assert client.post(f"{HTTPS}/_dash-update-component", json=router_body("/")).status_code \
        == 200
    client.get(f"{HTTPS}/logout")
    assert client.get(f"{HTTPS}/kpi").status_code == 302


def test_a_viewer_cannot_see_refused_rows_or_quarantine_a_data_manager_can(server):
    viewer, manager = _client(server), _client(server)
    sign_in(viewer, "vera")
    sign_in(manager, "dana")
    assert viewer.post(f"{HTTPS}/_dash-update-component", json=REFUSED_CSV).status_code == 403
    assert manager.post(f"{HTTPS}/_dash-update-component", json=REFUSED_CSV).status_code \
        in (200, 204)
    seen = viewer.post(f"{HTTPS}/_dash-update-component", json=router_body("/data-quality"))
    assert seen.status_code == 200
    text = seen.get_data(as_text=True)
    assert "Refused files and rows" not in text and "Files in quarantine" not in text
    assert "shown to data managers" in text and "Practices missing a month" in text
    text = manager.post(f"{HTTPS}/_dash-update-component",
                        json=router_body("/data-quality")).get_data(as_text=True)
    assert "Refused files and rows" in text and "Files in quarantine" in text


def test_wrong_passwords_are_rate_limited_per_user_name(server, app_settings):
    client = _client(server)
    for _ in range(app_settings.login_attempts):
        assert sign_in(client, "vera", "wrong password!").status_code == 401
    blocked = sign_in(client, "vera")  # the right password, too late
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "900"
    assert "Too many wrong passwords" in blocked.get_data(as_text=True)
    assert sign_in(_client(server), "dana").status_code == 303  # another user is not blocked


def test_wrong_passwords_are_rate_limited_per_address(server, app_settings):
    client = _client(server)
    for i in range(4 * app_settings.login_attempts):
        assert sign_in(client, f"nobody{i}", "wrong password!").status_code == 401
    assert sign_in(client, "dana").status_code == 429
    assert sign_in(client, "dana", REMOTE_ADDR="10.1.2.3").status_code == 303


def test_a_new_password_or_removal_ends_the_session(server, warehouse):
    client = _client(server)
    sign_in(client, "vera")
    assert client.get(f"{HTTPS}/").status_code == 200
    users.set_password(warehouse, "vera", "another long password")
    assert client.get(f"{HTTPS}/").status_code == 302
    assert sign_in(client, "vera", "another long password").status_code == 303
    users.remove_user(warehouse, "vera")
    assert client.get(f"{HTTPS}/api/v1/kpis").status_code == 401


def test_the_login_form_refuses_a_missing_token_and_foreign_redirects(server):
    client = _client(server)
    response = client.post(f"{HTTPS}/login", data={"username": "vera", "password": PASSWORD})
    assert response.status_code == 400
    form = client.get(f"{HTTPS}/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = client.post(f"{HTTPS}/login", data={"username": "dana", "password": PASSWORD,
                                                      "csrf": csrf, "next": target})
        assert response.status_code == 303 and response.headers["Location"] == "/", target
        client.get(f"{HTTPS}/logout")
        csrf = re.search(r'name="csrf" value="([^"]+)"',
                         client.get(f"{HTTPS}/login").get_data(as_text=True)).group(1)


def test_hostile_sign_in_fields_are_not_reflected(server):
    client = _client(server)
    hostile = "<script>alert(1)</script>' OR '1'='1"
    response = client.get(f"{HTTPS}/login?next=/kpi%22%3E%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    response = sign_in(client, hostile, hostile * 3000)
    assert response.status_code == 401 and "<script>" not in response.get_data(as_text=True)


def test_the_proxy_user_header_is_trusted_only_from_the_proxy(settings, warehouse):
    users.add_user(warehouse, "pat", PASSWORD, "viewer")
    proxied = settings.model_copy(update={"auth": "proxy", "secret_key": SECRET,
                                          "proxy_user_header": "X-Remote-User",
                                          "proxy_addresses": "10.0.0.5"})
    client = create_app(proxied).server.test_client()
    from_proxy = {"REMOTE_ADDR": "10.0.0.5"}
    assert client.get("/", headers={"X-Remote-User": "pat"},
                      environ_base=from_proxy).status_code == 200
    assert client.get("/", headers={"X-Remote-User": "mallory"},
                      environ_base=from_proxy).status_code == 302  # not a user
    assert client.get("/api/v1/kpis", headers={"X-Remote-User": "pat"},
                      environ_base={"REMOTE_ADDR": "10.0.0.6"}).status_code == 401


def test_without_sign_in_only_the_local_machine_is_answered(settings):
    client = create_app(settings).server.test_client()  # auth=none
    assert client.get("/").status_code == 200
    assert client.get("/", environ_base={"REMOTE_ADDR": "192.168.1.20"}).status_code == 403


def test_settings_refuse_auth_without_a_long_secret():
    with pytest.raises(ValueError, match="32 characters"):
        Settings(auth="password", secret_key="short")
    with pytest.raises(ValueError, match="PROXY_USER_HEADER"):
        Settings(auth="proxy", secret_key=SECRET)
