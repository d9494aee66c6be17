"""Dash 4 under the content security policy in headless Chromium: every page draws (charts and
grids included) and the browser reports no CSP violation."""

from __future__ import annotations

import pytest
import requests
from dash.testing.wait import until
from selenium.webdriver.common.by import By

from dashboard.app import NAV_ORDER, create_app

pytestmark = pytest.mark.browser


def test_every_page_draws_under_the_csp_without_violations(browser, demo_warehouse,
                                                           server_port):
    browser.start_server(create_app(demo_warehouse), port=server_port)
    base = browser.server_url
    policy = requests.get(base + "/", timeout=10).headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in policy and "script-src 'self' 'sha256-" in policy
    # Violations are collected in the page as well as logged: neither may appear.
    for path in NAV_ORDER:
        browser.driver.get(base + path)
        browser.driver.execute_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation',"
            " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
        until(lambda: browser.driver.find_elements(By.CSS_SELECTOR, "main h1"), timeout=30)
        if path == "/kpi":
            until(lambda: browser.driver.find_elements(
                By.CSS_SELECTOR, ".js-plotly-plot .main-svg"), timeout=30)
        assert browser.driver.execute_script("return window.__csp") == [], path
    logs = browser.get_logs()
    assert not [e for e in logs if "Content Security Policy" in e["message"]], logs
