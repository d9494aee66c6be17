"""The overview in headless Chromium: tiles equal the mart, the picker writes the URL, a pasted URL
restores the view, axe-core finds nothing serious, no console error."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select

from carekpi import warehouse as wh
from dashboard import ids
from dashboard.app import create_app
from kpi.catalogue import load_catalogue
from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import save_full_page

pytestmark = pytest.mark.browser

SHORT_UNITS = {"%": "%", "per 1,000": " per 1,000", "per 100,000": " per 100,000",
               "days": " days", "ratio x100": ""}


def expected_tiles(engine, org_code: str, month: str | None = None) -> dict[str, str]:
    """Each headline KPI's tile value, worked out from the mart directly: the latest month (up to
    `month`) that is not provisional, '*' where a count is 1 to 7."""
    m = wh.kpi_mart
    out = {}
    with engine.connect() as conn:
        for kpi in load_catalogue():
            if kpi.drilldown_of:
                continue
            form = "rolling12" if kpi.rolling_of else "month"
            query = select(m.c.period, m.c.value, m.c.numerator, m.c.denominator,
                           m.c.suppressed).where(
                m.c.kpi_id == kpi.id, m.c.org_code == org_code, m.c.form == form,
                m.c.provisional.is_(False)).order_by(m.c.period.desc())
            if month:
                query = query.where(m.c.period <= month)
            row = conn.execute(query.limit(1)).first()
            if row is None or row.value is None:
                continue
            small = row.suppressed or any(c is not None and 1 <= c <= 7
                                          for c in (row.numerator, row.denominator))
            out[kpi.id] = "*" if small else f"{row.value:,.{kpi.decimals}f}{SHORT_UNITS[kpi.unit]}"
    return out


def _area_and_network(engine) -> tuple[str, str, str]:
    o, ms = wh.organisation, wh.membership
    with engine.connect() as conn:
        area = conn.execute(select(ms.c.parent_code).join(o, o.c.org_code == ms.c.parent_code)
                            .where(o.c.level == "place").limit(1)).scalar()
        network = conn.execute(select(o.c.org_code, o.c.org_name).where(o.c.level == "network")
                               .order_by(o.c.org_code).offset(2).limit(1)).one()
    return area, network.org_code, network.org_name


def _tile_values(browser) -> dict[str, str]:
    tiles = browser.driver.find_elements(By.CSS_SELECTOR, ".kpi-tile")
    return {t.get_attribute("id").removeprefix("tile-"):
            t.find_element(By.CSS_SELECTOR, ".tile-value").text for t in tiles}


def test_overview_tiles_picker_and_pasted_url(browser, demo_warehouse, demo_engine, server_port,
                                              output_dir):
    browser.start_server(create_app(demo_warehouse), port=server_port)
    area, network, network_name = _area_and_network(demo_engine)

    # 1. The area's tiles equal the mart's latest final months.
    browser.driver.get(browser.server_url + "/")
    browser.wait_for_element("#tile-ea_rate .tile-value", timeout=30)
    want = expected_tiles(demo_engine, area)
    assert len(want) >= 15
    assert _tile_values(browser) == want
    # reablement_home_91's last three months are provisional: the tile says which it shows.
    note = browser.find_element("#tile-reablement_home_91 .tile-provisional").text
    assert note == ("Jun 2026, Jul 2026 and Aug 2026 are provisional (no value yet): showing "
                    "May 2026, the latest final month.")
    assert "Showing Aug 2026." in browser.find_element(f"#{ids.OVERVIEW_FRESHNESS}").text
    name = browser.find_element("#tile-ea_rate-name a")
    assert name.get_attribute("href").endswith("/definitions#ea_rate")
    spark = browser.find_element("#tile-ea_rate-spark")
    assert spark.get_attribute("alt").startswith(
        "Emergency admissions by month, May 2025 to Aug 2026: from ")
    browser.driver.save_screenshot(str(output_dir / "overview_area.png"))
    save_full_page(browser.driver, output_dir / "overview_area_full.png")
    assert axe_violations(browser.driver) == [], describe(axe_violations(browser.driver))

    # 2. The dropdown is reached by Tab on its button, not on a hidden proxy.
    button = browser.find_element(".org-search button.dash-dropdown")
    assert button.get_attribute("tabindex") == "0"
    proxy = browser.find_element(".org-search input.dash-dropdown-focus-target")
    assert proxy.get_attribute("tabindex") == "-1"

    # 3. Picking a network by level and search writes it to the URL and redraws the tiles.
    level = browser.driver.find_element(
        By.XPATH, "//div[contains(@class,'level-choice')]//label[.//span[text()='Network']]")
    level.click()
    # The level's options arrive from the server first (Dash marks the dropdown while loading).
    until(lambda: button.get_attribute("data-dash-is-loading") is None, timeout=30)
    # ... by keyboard alone: Enter opens the list, the search is typed, arrow and Enter choose.
    button.send_keys(Keys.ENTER)
    search = browser.wait_for_element(".dash-dropdown-search", timeout=30)
    search.send_keys(network_name[:6])
    option = f"//*[contains(@class,'dash-dropdown-option')][contains(., '({network})')]"
    try:
        until(lambda: len(browser.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"))
              == 1 and browser.driver.find_elements(By.XPATH, option), timeout=30)
    finally:
        browser.driver.save_screenshot(str(output_dir / "overview_picker_open.png"))
    search.send_keys(Keys.ARROW_DOWN)
    browser.driver.switch_to.active_element.send_keys(Keys.ENTER)
    until(lambda: parse_qs(urlsplit(browser.driver.current_url).query).get("org") == [network],
          timeout=30)
    browser.wait_for_contains_text(f"#{ids.OVERVIEW_HEADING}", network, timeout=30)
    until(lambda: _tile_values(browser) == expected_tiles(demo_engine, network), timeout=30)
    crumbs = browser.find_element(f"#{ids.OVERVIEW_BREADCRUMB}").text
    assert area in crumbs and network in crumbs
    browser.driver.save_screenshot(str(output_dir / "overview_network_picked.png"))

    # 4. A pasted URL restores the view: the network, an earlier month.
    browser.driver.get(browser.server_url + f"/?org={network}&month=2026-05")
    browser.wait_for_contains_text(f"#{ids.OVERVIEW_HEADING}", network, timeout=30)
    until(lambda: _tile_values(browser) == expected_tiles(demo_engine, network, "2026-05"),
          timeout=30)
    assert browser.find_element("#tile-ea_rate .tile-period").text == "May 2026"
    assert "Showing May 2026." in browser.find_element(f"#{ids.OVERVIEW_FRESHNESS}").text
    assert browser.find_element(".org-search .dash-dropdown-value").text.endswith(f"({network})")
    browser.find_element(".org-search button.dash-dropdown").send_keys(Keys.ESCAPE)
    browser.driver.save_screenshot(str(output_dir / "overview_network_may.png"))
    assert browser.get_logs() == [], browser.get_logs()
