"""The KPI page in headless Chromium: choose a practice, see that practice's series."""

from __future__ import annotations

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select

from carekpi import warehouse as wh
from carekpi.warehouse import make_engine
from dashboard import ids
from dashboard.app import create_app

pytestmark = pytest.mark.browser

GRAPH_TRACES = (
    "var el = document.querySelector('#{id} .js-plotly-plot');"
    "return el && el._fullData ? el._fullData.map("
    "t => ({{name: t.name, x: Array.from(t.x), y: Array.from(t.y)}})) : null;"
)


def _series(settings, org_code: str) -> list[float | None]:
    """The practice's ea_rate by month, None where its count is 1 to 7 (never displayed)."""
    m = wh.kpi_mart
    with make_engine(settings.database_url).connect() as conn:
        rows = conn.execute(select(m.c.value, m.c.numerator).where(
            m.c.kpi_id == "ea_rate", m.c.org_code == org_code, m.c.form == "month")
            .order_by(m.c.period)).fetchall()
    return [None if 1 <= r.numerator <= 7 else r.value for r in rows]


def _a_practice(settings) -> tuple[str, str]:
    o = wh.organisation
    with make_engine(settings.database_url).connect() as conn:
        row = conn.execute(select(o.c.org_code, o.c.org_name).where(o.c.level == "practice")
                           .order_by(o.c.org_code).offset(3).limit(1)).one()
    return row.org_code, row.org_name


def test_choosing_a_practice_shows_its_series(browser, demo_warehouse, server_port, output_dir):
    app = create_app(demo_warehouse)
    browser.start_server(app, port=server_port)
    browser.driver.get(browser.server_url + "/kpi?kpi=ea_rate")
    browser.wait_for_element(f"#{ids.KPI_SPC} .js-plotly-plot", timeout=20)

    code, name = _a_practice(demo_warehouse)
    dropdown = browser.wait_for_element(f"#{ids.KPI_ORG}")
    dropdown.click()
    search = browser.wait_for_element(f"#{ids.KPI_ORG} input, .dash-dropdown-search", timeout=10)
    search.send_keys(code)
    search.send_keys(Keys.ENTER)

    def practice_trace():
        traces = browser.driver.execute_script(GRAPH_TRACES.format(id=ids.KPI_SPC)) or []
        return next((t for t in traces if t["name"] and code in t["name"]), None)

    until(practice_trace, timeout=20)
    trace = practice_trace()
    want = _series(demo_warehouse, code)
    assert [y is None for y in trace["y"]] == [w is None for w in want]
    assert [y for y in trace["y"] if y is not None] == pytest.approx(
        [w for w in want if w is not None], rel=1e-9)
    assert len(trace["x"]) == 6
    browser.wait_for_contains_text(f"#{ids.KPI_CAPTION}", code, timeout=10)
    browser.driver.save_screenshot(str(output_dir / "kpi_page_practice.png"))
    assert browser.get_logs() == [], browser.get_logs()


def test_overview_tiles_show_the_area_latest_values(browser, demo_warehouse, server_port,
                                                    output_dir):
    browser.start_server(create_app(demo_warehouse), port=server_port)
    browser.driver.get(browser.server_url + "/")
    tile = browser.wait_for_element("#tile-ea_rate .tile-value", timeout=20)
    m = wh.kpi_mart
    with make_engine(demo_warehouse.database_url).connect() as conn:
        area_code = conn.execute(select(wh.membership.c.parent_code).where(
            wh.membership.c.parent_code.like("E%")).limit(1)).scalar()
        latest = conn.execute(select(m.c.value).where(
            m.c.kpi_id == "ea_rate", m.c.org_code == area_code, m.c.form == "month")
            .order_by(m.c.period.desc()).limit(1)).scalar()
    assert tile.text == f"{latest:,.{2}f} per 1,000"
    browser.driver.save_screenshot(str(output_dir / "overview.png"))
    assert browser.get_logs() == [], browser.get_logs()
