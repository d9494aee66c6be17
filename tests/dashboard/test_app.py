"""The app shell through Flask's test client: language, unknown paths, health check."""

from __future__ import annotations

import pytest

from carekpi.settings import Settings
from dashboard.app import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("app"))
    return create_app(settings).server.test_client()


@pytest.mark.parametrize("path", ["/", "/kpi", "/definitions", "/definitions/"])
def test_pages_answer_in_british_english(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b'<html lang="en-GB">' in response.data
    assert b'class="skip-link" href="#main"' in response.data


@pytest.mark.parametrize("path", ["/nope", "/kpi/extra", "/favicon.php", "/network-x", "/404"])
def test_an_unknown_path_answers_404_naming_it(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert f"<code>{path}</code>".encode() in response.data
    assert b'<html lang="en-GB">' in response.data and b'href="/definitions"' in response.data


def test_the_nav_lists_the_pages_in_question_order_without_the_404_page(client):
    from dashboard.app import nav_pages

    paths = [p["path"] for p in nav_pages()]
    assert paths[:2] == ["/", "/network"] and "/definitions" in paths and "/404" not in paths


def test_dash_internals_and_assets_are_still_served(client):
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/_dash-dependencies").status_code == 200
    assert client.get("/assets/style.css").status_code == 200
    assert client.get("/assets/a11y.js").status_code == 200


def test_healthz_reports_a_warehouse_without_tables_as_503(client):
    response = client.get("/healthz")  # the module's warehouse was never migrated
    assert response.status_code == 503
    assert response.get_json()["warehouse"] == "unreachable"


def _ids_and_text(component, ids: list, texts: list) -> None:
    if isinstance(component, str):
        texts.append(component)
        return
    if getattr(component, "id", None):
        ids.append(component.id)
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None:
            _ids_and_text(child, ids, texts)


def test_definitions_have_an_anchor_per_kpi_and_no_raw_html(client):
    from dashboard.pages.definitions import layout
    from kpi.catalogue import load_catalogue

    ids, texts = [], []
    _ids_and_text(layout(), ids, texts)
    kpi_ids = [k.id for k in load_catalogue()]
    assert sorted(i for i in ids if i in kpi_ids) == sorted(kpi_ids)  # each exactly once
    assert not [t for t in texts if "<!--" in t or "<a id" in t]
    assert "Diabetes: smoking status" in texts and "COPD: smoking status" in texts
