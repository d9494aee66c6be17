"""The KPI page's helpers, called directly: small numbers never reach the screen."""

from __future__ import annotations

import importlib
import math

import pandas as pd
import pytest

from carekpi.settings import Settings
from dashboard.app import create_app


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    create_app(Settings(data_dir=tmp_path_factory.mktemp("dash")))  # pages register on an app
    return importlib.import_module("dashboard.pages.kpi_detail")


def test_values_built_on_counts_of_one_to_seven_are_not_shown(page):
    series = pd.DataFrame({
        "period": ["2025-01", "2025-02", "2025-03", "2025-04"],
        "numerator": [0, 5, 8, 7], "denominator": [1000, 1000, 1000, 1000],
        "value": [0.0, 5.0, 8.0, 7.0], "lower_95": [0.0, 1.6, 3.4, 2.8],
        "upper_95": [3.7, 11.7, 15.8, 14.4], "suppressed": [False, False, False, False],
    })
    out = page.shown(series)
    assert out["suppressed"].tolist() == [False, True, False, True]
    assert out["value"].tolist()[0] == 0.0 and out["value"].tolist()[2] == 8.0  # zero is shown
    assert math.isnan(out["value"].iloc[1]) and math.isnan(out["upper_95"].iloc[3])
    assert series["value"].tolist() == [0.0, 5.0, 8.0, 7.0]  # the caller's frame is untouched


def test_no_selection_says_what_to_do(page):
    figure, caption = page.kpi_panel(None, None)
    assert "carekpi etl run" in caption and len(figure.data) == 0
