"""The practice page in headless Chromium: the spine chart has a row per KPI the practice has, the
practice's values in the table equal the mart, a KPI link lands on that KPI for the practice, a
copied URL restores the view, the CSV equals the mart rows with small numbers suppressed, and axe
finds nothing serious."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from sqlalchemy import text

from dashboard import ids
from dashboard.app import create_app
from kpi.catalogue import load_catalogue
from tests.browser.axe import axe_violations, describe

pytestmark = pytest.mark.browser

SPINE = """
var el = document.querySelector('#%s .js-plotly-plot');
return el && el.layout && el.layout.meta ? el.layout.meta.kpis : null;"""
TABLE = """
return Array.from(document.querySelectorAll('#%s tbody tr')).map(function (r) {
  return Array.from(r.children).map(function (c) { return c.innerText.trim(); }); });"""
# Written here, not imported, so the test checks the page's formatting independently.
SHORT_UNITS = {"%": "%", "per 1,000": " per 1,000", "per 100,000": " per 100,000",
               "days": " days", "ratio x100": ""}
SPINE_KPIS = [k for k in load_catalogue()
              if "practice" in k.levels and not k.drilldown_of and not k.rolling_of
              and not k.standardised_of]


def _small(count) -> bool:
    return count is not None and not math.isnan(count) and 1 <= count <= 7


def _hidden(row) -> bool:
    return bool(row.suppressed) or _small(row.numerator) or _small(row.denominator)


def _rows(engine, codes: list[str], month: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(
            "SELECT * FROM kpi_mart WHERE period = :m AND form = 'month' AND org_code IN "
            f"({', '.join(repr(c) for c in codes)})"), conn, params={"m": month})


def _practice_network_area(engine) -> tuple[str, str, str, str, str]:
    """A practice with a suppressed value, its network and area, another practice, a month."""
    with engine.connect() as conn:
        months = conn.execute(text("SELECT DISTINCT period FROM kpi_mart WHERE kpi_id = "
                                   "'ea_rate' ORDER BY period")).scalars().all()
        month = months[-2]
        practice = conn.execute(text(
            "SELECT org_code FROM kpi_mart WHERE level = 'practice' AND period = :m AND "
            "form = 'month' AND (suppressed OR numerator BETWEEN 1 AND 7) ORDER BY org_code"),
            {"m": month}).scalar()
        network = conn.execute(text("SELECT parent_code FROM membership WHERE child_code = :p"),
                               {"p": practice}).scalar()
        area = conn.execute(text("SELECT parent_code FROM membership WHERE child_code = :n"),
                            {"n": network}).scalar()
        other = conn.execute(text("SELECT MIN(org_code) FROM kpi_mart WHERE level = "
                                  "'practice' AND org_code <> :p"), {"p": practice}).scalar()
    return practice, network, area, other, month


def _value_text(row, kpi) -> str:
    if _hidden(row):
        return "*"
    return f"{row.value:,.{kpi.decimals}f}{SHORT_UNITS[kpi.unit]}"


def test_practice_spine_links_url_csv_and_accessibility(browser, demo_warehouse, demo_engine,
                                                        server_port, output_dir):
    practice, network, area, other, month = _practice_network_area(demo_engine)
    browser.start_server(create_app(demo_warehouse), port=server_port)
    browser.driver.get(f"{browser.server_url}/practice?org={practice}&month={month}")
    browser.wait_for_contains_text(f"#{ids.PRACTICE_HEADING}", practice, timeout=30)
    until(lambda: browser.driver.execute_script(SPINE % ids.PRACTICE_SPINE), timeout=30)

    # a spine row and a table row per KPI with practice values; the values equal the mart
    mart = _rows(demo_engine, [practice, network, area], month)
    mine = mart[mart["org_code"] == practice].set_index("kpi_id")
    want = [k for k in SPINE_KPIS if k.id in mine.index]
    assert browser.driver.execute_script(SPINE % ids.PRACTICE_SPINE) == [k.id for k in want]
    table = browser.driver.execute_script(TABLE % ids.PRACTICE_TABLE)
    assert len(table) == len(want) >= 10
    hidden_seen = False
    by_org = {code: mart[mart["org_code"] == code].set_index("kpi_id")
              for code in (practice, network, area)}
    for cells, kpi in zip(table, want, strict=True):
        for column, code in ((1, practice), (2, network), (3, area)):
            row = by_org[code].loc[kpi.id]
            assert cells[column] == _value_text(row, kpi), (kpi.id, code)
            hidden_seen |= cells[column] == "*"
        assert cells[6]  # the recent trend in words
    assert hidden_seen, "expected a suppressed value on the page"
    browser.driver.set_window_size(1280, 2600)
    browser.driver.save_screenshot(str(output_dir / "practice_spine_full.png"))
    browser.driver.set_window_size(1280, 900)
    assert not axe_violations(browser.driver), describe(axe_violations(browser.driver))

    # the CSV equals the practice's, its network's and its area's mart rows, '*' where small
    browser.find_element(f"#{ids.PRACTICE_CSV}-button").click()
    download = Path(browser.download_path)
    until(lambda: list(download.glob("*.csv")), timeout=20)
    csv = pd.read_csv(next(download.glob("*.csv")), dtype=str, keep_default_na=False)
    expected = mart[mart["kpi_id"].isin([k.id for k in SPINE_KPIS])]
    assert len(csv) == len(expected)
    merged = csv.merge(expected, on=["org_code", "kpi_id"], suffixes=("_csv", ""))
    assert len(merged) == len(expected)
    assert set(csv["role"]) == {"practice", "network", "area"}
    for row in merged.itertuples(index=False):
        if _hidden(row):
            assert row.value_csv == "*" and row.suppressed_csv == "True"
        elif not math.isnan(row.value):
            assert float(row.value_csv) == pytest.approx(row.value, rel=1e-12)

    # choosing another practice writes it to the URL; the copied URL opens the same view
    browser.find_element(".org-search button.dash-dropdown").click()
    browser.wait_for_element(".dash-dropdown-search", timeout=10).send_keys(other)
    option = f"//*[contains(@class,'dash-dropdown-option')][contains(., '({other})')]"
    until(lambda: browser.driver.find_elements(By.XPATH, option), timeout=10)
    browser.driver.find_element(By.XPATH, option).click()
    until(lambda: f"org={other}" in browser.driver.current_url, timeout=20)
    copied = browser.driver.current_url
    assert f"month={month}" in copied
    browser.driver.get("about:blank")
    browser.driver.get(copied)
    browser.wait_for_contains_text(f"#{ids.PRACTICE_HEADING}", other, timeout=30)
    browser.wait_for_contains_text(f"#{ids.PRACTICE_CAPTION}",
                                   pd.Period(month).strftime("%b %Y"), timeout=20)

    # a KPI name opens that KPI's page for the practice (its list-size peers chosen)
    link = browser.driver.find_element(By.CSS_SELECTOR, f"#{ids.PRACTICE_TABLE} tbody a")
    kpi_id = want[0].id
    link.click()
    until(lambda: "/kpi?" in browser.driver.current_url, timeout=20)
    assert browser.driver.current_url.endswith(
        f"/kpi?kpi={kpi_id}&org={other}&month={month}&peer=size")
    browser.wait_for_contains_text(f"#{ids.KPI_HEADING}", other, timeout=30)
    browser.driver.save_screenshot(str(output_dir / "practice_link_to_kpi.png"))
    assert browser.get_logs() == [], browser.get_logs()
