"""The data-quality page in headless Chromium: the refused file with the ETL's reason, the file in
quarantine, each feed's last load, the provisional months, no console error, axe clean."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from dash.testing.wait import until
from sqlalchemy import text

from dashboard import ids
from dashboard.app import create_app
from tests.browser.axe import axe_violations, describe

pytestmark = pytest.mark.browser


def test_data_quality_lists_refusals_quarantine_freshness_and_provisional_months(
        browser, demo_warehouse, demo_engine, server_port, output_dir):
    with demo_engine.connect() as conn:
        refused = conn.execute(text("SELECT file_name, error_summary FROM etl_load "
                                    "WHERE status = 'refused'")).fetchall()
        feeds = conn.execute(text("SELECT COUNT(DISTINCT feed) FROM etl_load "
                                  "WHERE status = 'loaded'")).scalar()
        provisional = conn.execute(text(
            "SELECT COUNT(*) FROM kpi_mart WHERE provisional AND org_code IN (SELECT parent_code "
            "FROM membership WHERE child_code IN (SELECT org_code FROM organisation WHERE "
            "level = 'network'))")).scalar()
    assert len(refused) == 1, "the shared demo warehouse plants one refused file"
    name, summary = refused[0]
    browser.start_server(create_app(demo_warehouse), port=server_port)
    browser.driver.get(browser.server_url + "/data-quality")

    # the refused file with the ETL's reason, word for word (first line of each problem)
    browser.wait_for_contains_text(f"#{ids.DQ_REFUSED}", name, timeout=30)
    assert browser.find_element(f"#{ids.DQ_SUMMARY}").text.startswith(
        "1 file(s) refused and 0 row(s) refused in loaded files; 1 file(s) in quarantine;")
    shown = browser.find_element(f"#{ids.DQ_REFUSED}").text
    for line in summary.splitlines()[:3]:
        assert line.strip() in shown
    assert "Refused: nothing loaded" in shown
    # the same file waits in quarantine, named as it arrived, with its report beside it
    quarantine = browser.find_element(f"#{ids.DQ_QUARANTINE}").text
    assert name in quarantine and "1 file(s)" in quarantine
    stored = list(Path(demo_warehouse.quarantine).rglob(f"*__{name}"))
    assert len(stored) == 1 and stored[0].with_name(stored[0].name + ".report.txt").is_file()
    # a row per feed in the freshness table, and the provisional months of the area
    until(lambda: len(browser.driver.find_elements(
        "css selector", f"#{ids.DQ_FRESHNESS} .ag-center-cols-container .ag-row")) == feeds,
        timeout=20)
    rows = browser.driver.find_elements("css selector",
                                        f"#{ids.DQ_PROVISIONAL} .ag-center-cols-container .ag-row")
    assert len(rows) == min(provisional, 20) and len(rows) > 0
    browser.driver.save_screenshot(str(output_dir / "data_quality_top.png"))
    assert not axe_violations(browser.driver), describe(axe_violations(browser.driver))

    # the refusals CSV is the audit's refused rows
    browser.find_element(f"#{ids.DQ_REFUSED_CSV}-button").click()
    download = Path(browser.download_path)
    until(lambda: list(download.glob("*.csv")), timeout=20)
    csv = pd.read_csv(next(download.glob("*.csv")), dtype=str, keep_default_na=False)
    assert csv["file_name"].tolist() == [name] and csv["error_summary"].tolist() == [summary]
    browser.driver.set_window_size(1280, 3000)
    browser.driver.save_screenshot(str(output_dir / "data_quality_full.png"))
    assert browser.get_logs() == [], browser.get_logs()
