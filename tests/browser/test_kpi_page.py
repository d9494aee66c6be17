"""The KPI page in headless Chromium: the SPC chart's traces equal the mart's columns, a funnel
click lands on that practice's view, a copied URL restores the view, the CSV equals the mart rows
with small numbers suppressed, and axe finds nothing serious."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from sqlalchemy import text

from dashboard import ids
from dashboard.app import create_app
from tests.browser.axe import axe_violations, describe

pytestmark = pytest.mark.browser

KPI = "ea_rate_65"  # its practices' monthly counts include some of 1 to 7 in the demo

TRACES = """
var el = document.querySelector('#%s .js-plotly-plot');
return el && el._fullData ? el._fullData.map(function (t) { return {meta: t.meta || null,
  name: t.name || null, x: Array.from(t.x || [], function (v) { return v; }),
  y: Array.from(t.y || [], function (v) { return Number.isNaN(v) ? null : v; }),
  customdata: t.customdata ? Array.from(t.customdata) : null}; }) : null;"""


def _small(count) -> bool:
    return count is not None and not math.isnan(count) and 1 <= count <= 7


def _series(engine, kpi_id: str, org: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(
            "SELECT * FROM kpi_mart WHERE kpi_id = :k AND org_code = :o AND form = 'month' "
            "ORDER BY period"), conn, params={"k": kpi_id, "o": org})


def _practice_with_a_hidden_month(engine) -> tuple[str, str]:
    """A practice whose KPI series has a month built on a count of 1-7 (or flagged), and the
    month before the latest (not the page's default)."""
    with engine.connect() as conn:
        org = conn.execute(text(
            "SELECT org_code FROM kpi_mart WHERE kpi_id = :k AND level = 'practice' AND "
            "form = 'month' AND (suppressed OR numerator BETWEEN 1 AND 7) ORDER BY org_code"
        ), {"k": KPI}).scalar()
        months = conn.execute(text("SELECT DISTINCT period FROM kpi_mart WHERE kpi_id = :k "
                                   "ORDER BY period"), {"k": KPI}).scalars().all()
    return org, months[-2]


def _traces(browser, graph_id: str) -> dict:
    found = browser.driver.execute_script(TRACES % graph_id) or []
    return {t["meta"]: t for t in found if t["meta"]}


def test_kpi_page_spc_drill_url_csv_and_accessibility(browser, demo_warehouse, demo_engine,
                                                      server_port, output_dir):
    org, month = _practice_with_a_hidden_month(demo_engine)
    browser.start_server(create_app(demo_warehouse), port=server_port)
    browser.driver.get(f"{browser.server_url}/kpi?kpi={KPI}&org={org}&month={month}")
    browser.wait_for_contains_text(f"#{ids.KPI_HEADING}", org, timeout=30)
    until(lambda: "spc_mean" in _traces(browser, ids.KPI_SPC), timeout=30)

    # the SPC chart draws the mart's columns: value (gaps where suppressed), mean, limits, causes
    mart = _series(demo_engine, KPI, org)
    hidden = mart["suppressed"].astype(bool) | mart["numerator"].map(_small) | mart[
        "denominator"].map(_small)
    assert hidden.any()
    traces = _traces(browser, ids.KPI_SPC)
    value = next(t for t in browser.driver.execute_script(TRACES % ids.KPI_SPC)
                 if t["name"] == "Value")
    assert value["x"] == mart["period"].tolist()
    assert [y is None for y in value["y"]] == hidden.tolist()
    assert [y for y in value["y"] if y is not None] == pytest.approx(
        mart.loc[~hidden, "value"].tolist(), rel=1e-12)
    for column in ("spc_mean", "spc_upper", "spc_lower"):
        drawn = [y for y in traces[column]["y"] if y is not None]
        assert drawn == pytest.approx(mart[column].dropna().tolist(), rel=1e-12), column
    causes = mart["spc_special_cause"].where(~hidden)
    for kind in ("improvement", "concern"):
        want = mart.loc[causes == kind, "period"].tolist()
        assert (traces[kind]["x"] if kind in traces else []) == want, kind
    browser.driver.save_screenshot(str(output_dir / "kpi_spc.png"))

    # the CSV of the chart's data equals the mart rows, small numbers written as '*'
    browser.find_element(f"#{ids.KPI_SPC_CSV}-button").click()
    download = Path(browser.download_path)
    until(lambda: list(download.glob("*.csv")), timeout=20)
    csv = pd.read_csv(next(download.glob("*.csv")), dtype=str, keep_default_na=False)
    assert csv["period"].tolist() == mart["period"].tolist()
    for got, row, small in zip(csv.itertuples(), mart.itertuples(), hidden, strict=True):
        assert got.suppressed == str(bool(small))
        if small:
            assert got.value == got.lower_95 == "*"
        else:
            assert float(got.value) == pytest.approx(row.value, rel=1e-12)
            assert float(got.numerator) == row.numerator

    # choosing the area as peers writes it to the URL; the copied URL restores the same view
    browser.driver.find_element(By.CSS_SELECTOR, f"#{ids.KPI_PEER} input[value='area']").click()
    until(lambda: "peer=area" in browser.driver.current_url, timeout=20)
    copied = browser.driver.current_url
    assert f"org={org}" in copied and f"month={month}" in copied and f"kpi={KPI}" in copied
    browser.driver.get("about:blank")
    browser.driver.get(copied)
    with demo_engine.connect() as conn:
        area = conn.execute(text("SELECT parent_code FROM membership WHERE child_code = ("
                                 "SELECT parent_code FROM membership WHERE child_code = :o)"),
                            {"o": org}).scalar()
    browser.wait_for_contains_text(f"#{ids.KPI_FUNNEL_CAPTION}", "Practices of", timeout=30)
    browser.wait_for_contains_text(f"#{ids.KPI_FUNNEL_CAPTION}", f"({area})", timeout=10)
    checked = browser.driver.find_element(By.CSS_SELECTOR, f"#{ids.KPI_PEER} input:checked")
    assert checked.get_attribute("value") == "area"
    month_words = pd.Period(month).strftime("%b %Y")
    browser.wait_for_contains_text(f"#{ids.KPI_FUNNEL_CAPTION}", month_words, timeout=10)
    browser.driver.set_window_size(1280, 3000)
    browser.driver.save_screenshot(str(output_dir / "kpi_restored_full.png"))
    browser.driver.set_window_size(1280, 900)
    assert not axe_violations(browser.driver), describe(axe_violations(browser.driver))

    # clicking another practice's funnel point lands on that practice's view
    until(lambda: "peers" in _traces(browser, ids.KPI_FUNNEL), timeout=20)
    peers = _traces(browser, ids.KPI_FUNNEL)["peers"]["customdata"]
    points = browser.driver.find_elements(
        By.CSS_SELECTOR, f"#{ids.KPI_FUNNEL} .scatterlayer .trace .points path")
    target = _peer_point(browser, points, peers)
    assert target is not None
    element, other = target
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    ActionChains(browser.driver).move_to_element(element).pause(0.3).click().perform()
    until(lambda: f"org={other}" in browser.driver.current_url, timeout=20)
    browser.wait_for_contains_text(f"#{ids.KPI_HEADING}", other, timeout=20)
    until(lambda: other in (_traces(browser, ids.KPI_FUNNEL).get("highlight") or {}).get(
        "customdata", []), timeout=20)
    assert browser.find_element(".org-search .dash-dropdown-value").text.endswith(f"({other})")
    browser.driver.save_screenshot(str(output_dir / "kpi_after_funnel_click.png"))
    assert browser.get_logs() == [], browser.get_logs()

    # an unknown KPI in a pasted URL is named, never silently replaced
    browser.driver.get(f"{browser.server_url}/kpi?kpi=nope&org={org}&month={month}")
    browser.wait_for_contains_text(f"#{ids.KPI_MESSAGES}", "KPI 'nope'", timeout=30)
    browser.driver.save_screenshot(str(output_dir / "kpi_unknown_kpi.png"))


def _peer_point(browser, points, peers) -> tuple | None:
    """A point of the peers trace (not the highlighted practice) and its practice code."""
    script = ("var p = arguments[0]; var t = p.closest('.trace');"
              "var all = Array.from(document.querySelectorAll("
              f"'#{ids.KPI_FUNNEL} .scatterlayer .trace'));"
              "return [all.indexOf(t), Array.from(t.querySelectorAll('.points path'))"
              ".indexOf(p)];")
    data = browser.driver.execute_script(TRACES % ids.KPI_FUNNEL)
    peers_index = next(i for i, t in enumerate(data) if t["meta"] == "peers")
    for element in points:
        trace, index = browser.driver.execute_script(script, element)
        if trace == peers_index and 0 <= index < len(peers):
            return element, peers[index]
    return None
