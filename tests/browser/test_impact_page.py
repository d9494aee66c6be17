"""The programme impact page in headless Chromium: the summary's totals equal the mart and an
independent fit of the baseline, the chart draws actual, expected and the interval, the peers
chart has every network of the area, the CSV has a row per month, a short baseline is refused
naming the minimum, the nav links the page, and axe finds nothing serious."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from sqlalchemy import text

from dashboard import ids
from dashboard.app import create_app
from tests.browser.axe import axe_violations, describe

pytestmark = pytest.mark.browser

ORG = "U00003"
TRACES = """
var el = document.querySelector('#%s .js-plotly-plot');
return el && el.data && el.data.length ? el.data.map(function (t) { return t.name; }) : null;"""
NUMBER = r"([+-]?[\d,]+)"


def _series(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(
            "SELECT period AS month, numerator AS count, denominator AS population FROM kpi_mart "
            "WHERE kpi_id = 'ea_rate' AND org_code = :o AND form = 'month' ORDER BY period"),
            conn, params={"o": ORG})


def _expected_total(series: pd.DataFrame, start: str) -> float:
    """The baseline's projection summed over the programme months, fitted here with the
    formula interface (trend + annual harmonic, offset log population)."""
    frame = series.assign(t=range(len(series)),
                          m=pd.PeriodIndex(series["month"], freq="M").month)
    before, after = frame[frame["month"] < start], frame[frame["month"] >= start]
    fit = smf.glm("count ~ t + np.sin(2 * np.pi * m / 12) + np.cos(2 * np.pi * m / 12)",
                  data=before, family=sm.families.Poisson(),
                  offset=np.log(before["population"])).fit()
    return float(fit.predict(after, offset=np.log(after["population"])).sum())


def _networks(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT COUNT(DISTINCT org_code) FROM kpi_mart WHERE kpi_id = 'ea_rate' AND "
            "level = 'network'")).scalar()


def test_impact_page_summary_chart_peers_csv_refusal(browser, demo_warehouse, demo_engine,
                                                     server_port, output_dir):
    series = _series(demo_engine)
    start = series["month"].iloc[12]  # exactly the 12-month minimum before it
    browser.start_server(create_app(demo_warehouse), port=server_port)
    browser.driver.get(f"{browser.server_url}/impact?kpi=ea_rate&org={ORG}&start={start}")
    browser.wait_for_contains_text(f"#{ids.IMPACT_SUMMARY}", "expected without", timeout=30)
    assert "estimate, not proof of cause" in browser.find_element(f"#{ids.IMPACT_CAVEAT}").text

    # the totals in words equal the mart's counts and an independent fit of the baseline
    words = browser.find_element(f"#{ids.IMPACT_SUMMARY}").text
    found = re.search(rf"had {NUMBER} emergency admissions against {NUMBER} expected", words)
    assert found, words
    after = series[series["month"] >= start]
    assert int(found[1].replace(",", "")) == int(after["count"].sum())
    expected = _expected_total(series, start)
    assert int(found[2].replace(",", "")) == pytest.approx(expected, abs=0.5)
    assert f"({len(after)} months)" in words

    until(lambda: browser.driver.execute_script(TRACES % ids.IMPACT_CHART), timeout=30)
    assert browser.driver.execute_script(TRACES % ids.IMPACT_CHART) == [
        "95% prediction interval", "Expected without the programme", "Actual"]
    until(lambda: browser.driver.execute_script(TRACES % ids.IMPACT_PEERS), timeout=30)
    peers = browser.driver.execute_script(TRACES % ids.IMPACT_PEERS)
    assert len(peers) == _networks(demo_engine)  # every network of the area; one system: no England
    assert "England" not in peers
    browser.driver.set_window_size(1280, 2000)
    browser.driver.save_screenshot(str(output_dir / "impact_page.png"))
    browser.driver.set_window_size(1280, 900)
    assert not axe_violations(browser.driver), describe(axe_violations(browser.driver))

    # the CSV: one row per month, actual = the mart, last cumulative = actual - the fit's expected
    browser.find_element(f"#{ids.IMPACT_CSV}-button").click()
    download = Path(browser.download_path)
    until(lambda: list(download.glob("*.csv")), timeout=20)
    csv = pd.read_csv(next(download.glob("*.csv")))
    assert csv["month"].tolist() == series["month"].tolist()
    assert csv["actual"].tolist() == series["count"].tolist()
    assert list(csv.columns[:12]) == [
        "month", "phase", "actual", "population", "expected", "lower", "upper", "difference",
        "cumulative_difference", "cumulative_lower", "cumulative_upper", "cumulative_cost"]
    last = csv.iloc[-1]
    assert last["cumulative_difference"] == pytest.approx(after["count"].sum() - expected,
                                                          abs=0.06)
    assert last["cumulative_lower"] < last["cumulative_difference"] < last["cumulative_upper"]
    assert last["cumulative_cost"] == pytest.approx(last["cumulative_difference"] * 1800, abs=100)

    # the nav links the page; a start with too few months before it is refused, naming 12
    assert browser.driver.find_elements(By.LINK_TEXT, "Programme impact")
    short = series["month"].iloc[8]
    browser.driver.get(f"{browser.server_url}/impact?kpi=ea_rate&org={ORG}&start={short}")
    browser.wait_for_contains_text(f"#{ids.IMPACT_REFUSAL}", "at least 12", timeout=30)
    assert "only 8 month(s)" in browser.find_element(f"#{ids.IMPACT_REFUSAL}").text
    assert browser.find_element(f"#{ids.IMPACT_SUMMARY}").text == ""
    browser.driver.save_screenshot(str(output_dir / "impact_refused.png"))
    assert browser.get_logs() == [], browser.get_logs()
