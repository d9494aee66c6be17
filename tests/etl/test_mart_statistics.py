"""SPC, funnel and trend columns of the mart equal the single-series test oracles applied to
the mart's own values (an annotation's rebase included)."""

from __future__ import annotations

import shutil
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert, select

from carekpi import warehouse as wh
from etl.demo import generate
from etl.mart import rebuild_mart
from etl.pipeline import run_inbox
from tests.etl import demo_truth
from tests.kpi.oracles.funnel import classify_funnel
from tests.kpi.oracles.spc import xmr
from tests.kpi.oracles.trend import recent_trend

TODAY = date(2025, 7, 20)


@pytest.fixture
def mart(tmp_path, warehouse, settings) -> pd.DataFrame:
    generate(tmp_path / "demo", months=16, seed=31, end_month="2025-06")
    for feed in ("organisations", "population", "spells"):
        shutil.copytree(tmp_path / "demo" / feed, settings.inbox / feed)
    assert not run_inbox(warehouse, settings, today=TODAY, progress=False).failed
    with warehouse.begin() as conn:  # a service starts in one network: limits recalculated
        conn.execute(insert(wh.annotation).values(org_code="U00002", period="2024-10",
                                                  text="rapid response", rebase=True))
    rebuild_mart(warehouse, None, settings=settings, today=TODAY)
    with warehouse.connect() as conn:
        return wh.read_frame(conn, select(wh.kpi_mart).where(wh.kpi_mart.c.kpi_id == "ea_rate"))


def test_spc_columns_equal_xmr_of_each_series(mart):
    for org, series in mart[mart["level"] != "practice"].groupby("org_code"):
        series = series.sort_values("period").reset_index(drop=True)
        rebase = [int(i) for i in series.index[series["period"] == "2024-10"]] \
            if org == "U00002" else []
        chart = xmr(series["value"], polarity="lower", rebase_at=rebase)
        np.testing.assert_allclose(series["spc_mean"], chart.points["mean"], rtol=1e-12)
        np.testing.assert_allclose(series["spc_upper"], chart.points["upper"], rtol=1e-12)
        assert set(series["variation_icon"].fillna("-")) == {chart.variation_icon or "-"}
        special = chart.points["point_type"].where(chart.points["special_cause"])
        assert series["spc_special_cause"].fillna("-").tolist() == special.fillna("-").tolist()
    rebased = mart[mart["org_code"] == "U00002"].sort_values("period")
    assert rebased["spc_mean"].nunique() == 2  # two segments, each with its own centre line


def test_funnel_class_against_the_network_peers(mart, tmp_path):
    month = mart[(mart["level"] == "practice") & (mart["period"] == "2025-06")]
    orgs = demo_truth.organisations(tmp_path / "demo")  # the raw file, not the warehouse
    network_of = demo_truth.network_on_first_day(orgs, ["2025-06"]).set_index(
        "practice_code")["network_code"]
    expected = {}
    for _, group in month.groupby(month["org_code"].map(network_of)):
        got = classify_funnel(group["numerator"], group["denominator"], kind="rate",
                              multiplier=1000)
        expected.update(dict(zip(group["org_code"], got, strict=True)))
    assert month.set_index("org_code")["funnel_class"].to_dict() == expected
    assert "above_998" in expected.values()  # the demo's outlier practice


def test_trend_marker_over_the_last_five_months(mart):
    series = mart[mart["org_code"] == "U00005"].sort_values("period")
    for i in range(len(series)):
        window = series.iloc[max(0, i - 4): i + 1]
        assert series["trend"].iloc[i] == recent_trend(window["numerator"],
                                                       window["denominator"], "rate")
