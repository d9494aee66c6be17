"""The app shell in headless Chromium: language, unknown paths, named bad values, definitions
anchors, and a chart's PNG carrying its caption."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest
import requests
from dash.testing.wait import until
from selenium.webdriver.common.by import By

from dashboard import ids
from dashboard.app import create_app
from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import save_full_page

pytestmark = pytest.mark.browser


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_shell_language_404_bad_values_definitions_and_png(browser, demo_warehouse, server_port,
                                                           output_dir):
    browser.start_server(create_app(demo_warehouse), port=server_port)
    base = browser.server_url

    # Unknown paths answer HTTP 404 with a page naming the path; pages answer 200.
    assert requests.get(base + "/no-such-page", timeout=10).status_code == 404
    assert requests.get(base + "/definitions", timeout=10).status_code == 200
    browser.driver.get(base + "/no-such-page")
    assert browser.driver.find_element(By.TAG_NAME, "h1").text == "Page not found"
    assert "/no-such-page" in browser.driver.find_element(By.TAG_NAME, "main").text
    assert browser.driver.execute_script("return document.documentElement.lang") == "en-GB"
    logged = browser.get_logs()  # the one console error expected so far: the 404 itself
    assert [e["message"] for e in logged] == [
        f"{base}/no-such-page - Failed to load resource: the server responded with a status "
        "of 404 (NOT FOUND)"], logged

    # Unknown organisation and month on the overview: named, never silently replaced.
    browser.driver.get(base + "/?org=NOPE1&month=2031-01")
    messages = browser.wait_for_element(f"#{ids.OVERVIEW_MESSAGES}", timeout=30).text
    assert "Organisation 'NOPE1' has no values in this warehouse" in messages
    assert "Month '2031-01' has no data: the data run from May 2025 to Aug 2026" in messages
    assert browser.driver.execute_script("return document.documentElement.lang") == "en-GB"
    browser.driver.save_screenshot(str(output_dir / "overview_unknown_org_month.png"))

    # Unknown KPI on the KPI page: named.
    browser.driver.get(base + "/kpi?kpi=nope&month=2026-13")
    browser.wait_for_contains_text(f"#{ids.KPI_MESSAGES}", "KPI 'nope' is not a KPI of this "
                                   "dashboard: showing Emergency admissions.", timeout=30)
    assert "Month '2026-13' is not a month in the form YYYY-MM" in browser.find_element(
        f"#{ids.KPI_MESSAGES}").text
    browser.driver.save_screenshot(str(output_dir / "kpi_unknown_kpi.png"))

    # A chart's PNG has the chart's size and its caption drawn in (looked at by the author).
    browser.driver.get(base + "/kpi?kpi=ea_rate&month=2026-08")
    browser.wait_for_element(f"#{ids.KPI_SPC} .main-svg", timeout=30)
    button = browser.driver.find_element(By.CSS_SELECTOR, ".download button[id*='png-button']")
    button.click()
    folder = Path(browser.download_path)
    until(lambda: [p for p in folder.glob("*.png")], timeout=40)
    time.sleep(0.5)  # let Chromium finish writing
    png = next(folder.glob("*.png"))
    assert _png_size(png) == (1400, 800)
    assert png.name.startswith("Emergency-admissions")
    (output_dir / "kpi_chart_download.png").write_bytes(png.read_bytes())

    # Definitions: every KPI name lands on its anchor; no raw HTML shown; axe clean.
    browser.driver.get(base + "/definitions#cp_diabetes_smoking_status")
    until(lambda: browser.driver.execute_script("return document.activeElement.id")
          == "cp_diabetes_smoking_status", timeout=40)
    body = browser.driver.find_element(By.TAG_NAME, "body").text
    assert "<!--" not in body and "<a id" not in body
    assert "Diabetes: smoking status" in browser.find_element("#cp_diabetes_smoking_status").text
    browser.driver.save_screenshot(str(output_dir / "definitions_anchor.png"))
    assert axe_violations(browser.driver) == [], describe(axe_violations(browser.driver))
    browser.driver.get(base + "/definitions")
    browser.wait_for_element("#ea_rate", timeout=40)
    save_full_page(browser.driver, output_dir / "definitions_full.png")
    assert browser.get_logs() == [], browser.get_logs()
