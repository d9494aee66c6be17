"""Security headers and hostile requests, through Flask's test client (no browser): every page
drawn with quotes, SQL fragments, script tags, 100,000-character values and unknown codes answers
cleanly and reflects nothing; malformed callback bodies answer 400, never 500."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from carekpi.migrate import upgrade
from carekpi.settings import Settings
from carekpi.warehouse import make_engine
from dashboard.app import NAV_ORDER, create_app, page_paths
from tests.dashboard.test_auth import router_body

SCRIPT = "<script>alert(1)</script>"
HOSTILE = [f"?org={SCRIPT}", "?org=' OR '1'='1", "?kpi=ea_rate'; DROP TABLE kpi_mart; --",
           "?org=ZZZZ9&month=2099-13&kpi=no_such_kpi", "?org=%3Cimg%20src=x%20onerror=alert(1)%3E",
           "?org=N1&org=N2", "?month=\"><svg onload=alert(1)>"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("hardening"))
    upgrade(make_engine(settings.database_url))
    return create_app(settings).server.test_client()


def test_the_pages_tested_are_every_page_and_the_reflection_check_can_fail(client):
    assert set(NAV_ORDER) == page_paths()
    text = {"type": "P", "namespace": "dash_html_components", "props": {"children": SCRIPT}}
    link = {"type": "A", "namespace": "dash_html_components", "props": {"href": SCRIPT}}
    markdown = {"type": "Markdown", "namespace": "dash_core_components",
                "props": {"children": [SCRIPT]}}
    assert _unescaped({"response": [text]}, SCRIPT) == []
    assert _unescaped([link, markdown], SCRIPT) == ["[0]/A.href", "[1]/Markdown.children"]


def test_headers_allow_scripts_only_from_the_site_and_by_hash(client):
    response = client.get("/")
    policy = dict(part.strip().split(" ", 1) for part in
                  response.headers["Content-Security-Policy"].split(";"))
    sources = policy["script-src"].split()
    assert sources[0] == "'self'" and "'unsafe-inline'" not in sources
    assert "'unsafe-eval'" not in sources
    # Every inline script of the page is allowed by its hash, and only those.
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>",
                        response.get_data(as_text=True), re.S)
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
              for s in inline}
    assert inline and hashes == set(sources[1:])
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Server" not in response.headers
    assert client.get("/_dash-layout").headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", NAV_ORDER)
def test_hostile_parameters_draw_a_clean_page_and_are_not_reflected(client, path):
    for search in HOSTILE:
        response = client.post("/_dash-update-component", json=router_body(path, search))
        assert response.status_code == 200, (path, search)
        for fragment in (SCRIPT, "onerror=alert", "<svg onload", "DROP TABLE"):
            assert _unescaped(response.get_json(), fragment) == [], (path, search)


def _unescaped(node, fragment: str, where: str = "") -> list[str]:
    """Places `fragment` reaches other than React's escaped text: a text child of a plain
    component is shown as text; in Markdown, an attribute (href, src, style...) or a
    dangerously_allow_html component it would be markup."""
    found = []
    if isinstance(node, dict) and "props" in node and "type" in node:
        props = node["props"]
        for name, value in props.items():
            inner = f"{where}/{node['type']}.{name}"
            if name == "children" and node["type"] not in ("Markdown",) \
                    and not props.get("dangerously_allow_html"):
                found += _unescaped(value, fragment, inner)
            elif fragment in str(value):
                found.append(inner)
    elif isinstance(node, dict):
        for key, value in node.items():
            found += _unescaped(value, fragment, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _unescaped(value, fragment, f"{where}[{i}]")
    return found


@pytest.mark.parametrize("path", NAV_ORDER)
def test_a_100000_character_value_is_refused_with_400(client, path):
    long = "x" * 100_000
    assert client.get(f"{path}?org={long}").status_code == 400
    response = client.post("/_dash-update-component", json=router_body(path, f"?org={long}"))
    assert response.status_code == 400 and long[:1000] not in response.get_data(as_text=True)


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b"{}", b'{"output": 1}',
    b'{"output": "x.children", "outputs": {"id": "x", "property": "children"}, "inputs": "x"}',
    b'{"output": "x.children", "outputs": 5, "inputs": []}',
    b'{"output": "nope.children", "outputs": {"id": "nope", "property": "children"}, '
    b'"inputs": []}',
])
def test_a_malformed_callback_body_answers_400(client, body):
    response = client.post("/_dash-update-component", data=body,
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {"error": "the request is not a valid dashboard request"}


@pytest.mark.parametrize("value", [123, [1, 2], {"a": 1}, 1.5, True])
def test_non_string_inputs_to_a_callback_answer_400_not_500(client, value):
    for body in (router_body(value, "?org=N1"), router_body("/kpi", value)):
        response = client.post("/_dash-update-component", json=body)
        assert response.status_code == 400, (value, response.status_code)
