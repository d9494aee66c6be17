"""The analyst API on demo data (both dialects): its rows are `carekpi export`'s for the same
filter, suppression included, page by page; bad parameters answer 400 without echoing them; the
OpenAPI description names every endpoint."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from click.testing import CliRunner

from carekpi.cli import cli
from carekpi_demo import generate
from dashboard import api
from dashboard.app import create_app
from etl.pipeline import run_inbox


@pytest.fixture
def loaded(settings, warehouse, tmp_path):
    """A demo warehouse of three months and the dashboard's test client over it."""
    generate(tmp_path / "inbox", months=3, end_month="2025-06")
    summary = run_inbox(warehouse, settings, inbox=tmp_path / "inbox")
    assert not summary.failed
    return create_app(settings).server.test_client(), settings, tmp_path


def _export(settings, out, *options: str) -> str:
    env = {"CAREKPI_WAREHOUSE_URL": settings.database_url,
           "CAREKPI_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(cli, ["export", "--out", str(out), *options], env=env)
    assert result.exit_code == 0, result.output
    return out.read_text()


def _as_text(value) -> str:
    """A JSON value as the export's CSV writes it."""
    return "" if value is None else str(value)


def test_api_rows_equal_the_export_for_the_same_filter_suppression_included(loaded):
    client, settings, tmp_path = loaded
    for query, options in (("kpi=ea_rate&level=network", ["--kpi", "ea_rate", "--level",
                                                          "network"]),
                           ("level=practice&from=2025-05&to=2025-06",
                            ["--level", "practice", "--from", "2025-05", "--to", "2025-06"])):
        exported = _export(settings, tmp_path / "export.csv", *options)
        response = client.get(f"/api/v1/rows?{query}&format=csv&page_size=10000")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.get_data(as_text=True) == exported
        frame = pd.read_csv(io.StringIO(exported), dtype=str, keep_default_na=False)
        assert int(response.headers["X-Total"]) == len(frame) > 0
    # The practice rows hold suppressed counts: '*' in both.
    assert (frame["numerator"] == "*").any() and (frame["value"] == "*").any()

    # JSON, a page at a time, gives the same rows in the same order.
    rows, url = [], "/api/v1/rows?level=practice&from=2025-05&to=2025-06&page_size=97"
    while url:
        page = client.get(url).get_json()
        assert page["total"] == len(frame) and len(page["rows"]) <= 97
        rows += page["rows"]
        url = page["next"]
    assert len(rows) == len(frame)
    got = pd.DataFrame([{k: _as_text(v) for k, v in r.items()} for r in rows])
    pd.testing.assert_frame_equal(got[list(frame.columns)], frame)

    # One organisation: the export's rows of that code.
    org = frame["org_code"].iloc[0]
    one = client.get(f"/api/v1/rows?level=practice&from=2025-05&to=2025-06&org={org}"
                     "&format=csv").get_data(as_text=True)
    expected = frame[frame["org_code"] == org].to_csv(index=False)
    assert pd.read_csv(io.StringIO(one), dtype=str, keep_default_na=False).to_csv(
        index=False) == expected


def test_catalogue_organisations_and_openapi(loaded):
    client, _settings, _ = loaded
    kpis = client.get("/api/v1/kpis").get_json()["rows"]
    from kpi.catalogue import load_catalogue

    assert [k["id"] for k in kpis] == [k.id for k in load_catalogue()]
    orgs = client.get("/api/v1/organisations?format=csv")
    frame = pd.read_csv(io.StringIO(orgs.get_data(as_text=True)), dtype=str)
    assert {"practice", "network", "place"} <= set(frame["level"])
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) == {"/kpis", "/organisations", "/rows", "/openapi.json"}
    params = {p["name"] for p in spec["paths"]["/rows"]["get"]["parameters"]}
    assert params == api.ROW_PARAMS


BAD_QUERIES = [
    "kpi=<script>alert(1)</script>", "kpi=ea_rate'%20OR%201=1--", "level=ward",
    "org=ZZZZ9", "org=<b>x</b>", "from=2025-13", "to=25-01", "page=0", "page=-1",
    "page_size=100001", "format=xml", "kpi=" + "x" * 3000, "evil=<script>", "kpi=a&kpi=b",
]


def test_bad_parameters_answer_400_without_echoing_them(loaded):
    client, _settings, _ = loaded
    for query in BAD_QUERIES:
        response = client.get(f"/api/v1/rows?{query}")
        assert response.status_code == 400, query
        message = response.get_json()["error"]
        value = query.split("=", 1)[1]
        assert len(value) < 4 or value not in message, query
        assert "<" not in message and "'" not in message, query
    assert client.get("/api/v1/kpis?format=html").status_code == 400
