"""The network page in headless Chromium: the matrix equals the mart, a cell opens that KPI for
that practice, a copied URL restores the view, the CSV equals the mart with small numbers
suppressed, and axe finds nothing serious."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import text

from dashboard import ids
from dashboard.app import create_app
from dashboard.components.org_picker import picker_id
from kpi.catalogue import load_catalogue
from tests.browser.axe import axe_violations, describe

pytestmark = pytest.mark.browser

CELLS = """
var out = {};
document.querySelectorAll('#%s .ag-row').forEach(function (r) {
  var id = r.getAttribute('row-id'); out[id] = out[id] || {};
  r.querySelectorAll('.ag-cell').forEach(function (c) {
    out[id][c.getAttribute('col-id')] = c.innerText.trim(); });
});
return out;"""
# Written here, not imported, so the test checks the page's formatting independently.
SHORT_UNITS = {"%": "%", "per 1,000": " per 1,000", "per 100,000": " per 100,000",
               "days": " days", "ratio x100": ""}
RAG_SYMBOLS = {"green": "✔", "amber": "▲", "red": "✖"}
HEADLINE = {k.id: k for k in load_catalogue()
            if "practice" in k.levels and not k.drilldown_of and not k.rolling_of}


def _small(count) -> bool:
    return count is not None and not math.isnan(count) and 1 <= count <= 7


def _members(conn, parent: str, month: str) -> list[str]:
    first = date.fromisoformat(month + "-01")
    return sorted(conn.execute(text(
        "SELECT child_code FROM membership WHERE parent_code = :p AND valid_from <= :d "
        "AND (valid_to IS NULL OR valid_to >= :d)"), {"p": parent, "d": first}).scalars())


def _mart(engine, network: str, month: str) -> tuple[pd.DataFrame, list[str], str]:
    """The mart rows of the network's practices, the network and its area that month."""
    with engine.connect() as conn:
        practices = _members(conn, network, month)
        area = conn.execute(text("SELECT parent_code FROM membership WHERE child_code = :n"),
                            {"n": network}).scalar()
        codes = [area, network, *practices]
        rows = pd.read_sql(text(
            "SELECT org_code, kpi_id, numerator, denominator, value, rag, funnel_class, "
            "suppressed FROM kpi_mart WHERE period = :m AND form = 'month' AND org_code IN "
            f"({', '.join(repr(c) for c in codes)})"), conn, params={"m": month})
    return rows[rows["kpi_id"].isin(HEADLINE)].reset_index(drop=True), practices, area


def _expected_text(row) -> str:
    if bool(row.suppressed) or _small(row.numerator) or _small(row.denominator):
        return "*"
    kpi = HEADLINE[row.kpi_id]
    if row.value is None or math.isnan(row.value):
        return "no value"
    parts = [RAG_SYMBOLS[row.rag]] if row.rag in RAG_SYMBOLS else []
    parts.append(f"{row.value:,.{kpi.decimals}f}{SHORT_UNITS[kpi.unit]}")
    if row.funnel_class in ("above_998", "below_998"):
        parts.append("◆")
    return " ".join(parts)


def _networks_and_month(engine) -> tuple[str, str, str]:
    """Two networks with practices, and the month before the latest (not the default)."""
    with engine.connect() as conn:
        nets = conn.execute(text("SELECT org_code FROM organisation WHERE level = 'network' "
                                 "ORDER BY org_code")).scalars().all()
        months = conn.execute(text("SELECT DISTINCT period FROM kpi_mart WHERE org_code = :n "
                                   "ORDER BY period"), {"n": nets[0]}).scalars().all()
    return nets[1], nets[2], months[-2]


def _choose(browser, dropdown_id: dict, typed: str) -> None:
    """Type into a dropdown with a dict id (the organisation picker), take the option found."""
    dom_id = json.dumps(dropdown_id, sort_keys=True, separators=(",", ":"))
    find = "return document.getElementById(arguments[0])"  # a JSON id defeats CSS selectors
    until(lambda: browser.driver.execute_script(find, dom_id), timeout=20)
    browser.driver.execute_script(find, dom_id).click()
    search = browser.wait_for_element(".dash-dropdown-search", timeout=10)
    search.send_keys(typed)
    until(lambda: typed in browser.driver.find_element(By.TAG_NAME, "body").text, timeout=10)
    search.send_keys(Keys.ENTER)


def test_network_matrix_drilldown_url_csv_and_accessibility(browser, demo_warehouse, demo_engine,
                                                            server_port, output_dir):
    network, other, month = _networks_and_month(demo_engine)
    browser.start_server(create_app(demo_warehouse), port=server_port)
    browser.driver.get(f"{browser.server_url}/network?org={network}&month={month}")
    browser.wait_for_element(f"#{ids.NETWORK_MATRIX} .ag-row[row-id='{network}']", timeout=30)

    # every practice of the network, the network and the area x every KPI shown equals the mart
    mart, practices, area = _mart(demo_engine, network, month)
    until(lambda: len(browser.driver.execute_script(CELLS % ids.NETWORK_MATRIX)) ==
          len(practices) + 2, timeout=20)
    cells = browser.driver.execute_script(CELLS % ids.NETWORK_MATRIX)
    assert set(cells) == {area, network, *practices}
    shown = {col for row in cells.values() for col in row} - {"org"}
    assert shown == set(mart["kpi_id"]) and len(shown) >= 10
    for row in mart.itertuples(index=False):
        assert cells[row.org_code][row.kpi_id] == _expected_text(row), (row.org_code, row.kpi_id)
    assert mart.apply(_expected_text, axis=1).eq("*").any(), "expected a suppressed cell"
    assert cells[area]["org"].startswith("Area: ") and cells[network]["org"].startswith(
        "Network: ")
    browser.wait_for_contains_text(f"#{ids.NETWORK_HEADING}", network, timeout=10)
    browser.driver.save_screenshot(str(output_dir / "network_matrix.png"))
    assert not axe_violations(browser.driver), describe(axe_violations(browser.driver))

    # the CSV download equals the mart rows, small numbers written as '*'
    browser.find_element(f"#{ids.NETWORK_MATRIX_CSV}-button").click()
    download = Path(browser.download_path)
    until(lambda: list(download.glob("*.csv")), timeout=20)
    csv = pd.read_csv(next(download.glob("*.csv")), dtype=str, keep_default_na=False)
    assert len(csv) == len(mart)
    merged = csv.merge(mart, on=["org_code", "kpi_id"], suffixes=("_csv", ""))
    assert len(merged) == len(mart)
    for row in merged.itertuples(index=False):
        hidden = bool(row.suppressed) or _small(row.numerator) or _small(row.denominator)
        assert row.suppressed_csv == str(hidden)
        if hidden:
            assert row.value_csv == "*"
            assert row.numerator_csv == ("*" if _small(row.numerator) else
                                         f"{row.numerator}")
        else:
            assert float(row.value_csv) == pytest.approx(row.value, rel=1e-12)
            assert float(row.numerator_csv) == row.numerator

    # a cell opens that KPI for that practice and month
    practice = practices[1]
    browser.driver.find_element(
        By.CSS_SELECTOR, f"#{ids.NETWORK_MATRIX} .ag-row[row-id='{practice}'] "
        f".ag-cell[col-id='ea_rate']").click()
    until(lambda: "/kpi?" in browser.driver.current_url, timeout=20)
    assert browser.driver.current_url.endswith(f"/kpi?kpi=ea_rate&org={practice}&month={month}")
    browser.wait_for_contains_text(f"#{ids.KPI_HEADING}", practice, timeout=20)
    browser.driver.save_screenshot(str(output_dir / "network_cell_to_kpi.png"))

    # choosing another network writes it to the URL; the copied URL opens the same view
    browser.driver.get(f"{browser.server_url}/network?org={network}&month={month}")
    browser.wait_for_element(f"#{ids.NETWORK_MATRIX} .ag-row[row-id='{network}']", timeout=30)
    _choose(browser, picker_id(ids.NETWORK_PICKER_PAGE), other)
    until(lambda: f"org={other}" in browser.driver.current_url, timeout=20)
    copied = browser.driver.current_url
    assert f"month={month}" in copied
    browser.driver.get("about:blank")
    browser.driver.get(copied)
    browser.wait_for_element(f"#{ids.NETWORK_MATRIX} .ag-row[row-id='{other}']", timeout=30)
    with demo_engine.connect() as conn:
        others = _members(conn, other, month)
    until(lambda: set(browser.driver.execute_script(CELLS % ids.NETWORK_MATRIX)) >=
          set(others), timeout=20)
    browser.wait_for_contains_text(f"#{ids.NETWORK_HEADING}", other, timeout=10)
    browser.wait_for_contains_text(f"#{ids.NETWORK_MONTH}", pd.Period(month).strftime("%b %Y"),
                                   timeout=10)
    browser.driver.set_window_size(1280, 2400)
    browser.driver.save_screenshot(str(output_dir / "network_restored_full.png"))
    (output_dir / "cells.json").write_text(json.dumps(cells, ensure_ascii=False, indent=1),
                                           encoding="utf-8")
    assert browser.get_logs() == [], browser.get_logs()
