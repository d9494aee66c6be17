"""SPC, funnel and trend columns of the mart equal the single-series test oracles applied to the
mart's own values (an annotation's rebase included); each month's icons are those judged with
the data up to that month."""

from __future__ import annotations

import shutil
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert, select

from carekpi import warehouse as wh
from carekpi_demo import generate
from etl.mart import rebuild_mart
from etl.mart_statistics import as_judged_icons
from etl.pipeline import run_inbox
from kpi.catalogue import load_catalogue
from kpi.spc import SpcSettings
from tests.etl import demo_truth
from tests.kpi.oracles.funnel import classify_funnel
from tests.kpi.oracles.spc import xmr
from tests.kpi.oracles.trend import recent_trend

TODAY = date(2025, 7, 20)
REBASE = ("U00002", "2024-10")  # a service starts in one network: limits recalculated


@pytest.fixture
def mart(tmp_path, warehouse, settings) -> pd.DataFrame:
    generate(tmp_path / "demo", months=16, seed=31, end_month="2025-06")
    for feed in ("organisations", "population", "spells"):
        shutil.copytree(tmp_path / "demo" / feed, settings.inbox / feed)
    assert not run_inbox(warehouse, settings, today=TODAY, progress=False).failed
    with warehouse.begin() as conn:  # a service starts in one network: limits recalculated
        conn.execute(insert(wh.annotation).values(org_code=REBASE[0], period=REBASE[1],
                                                  text="rapid response", rebase=True))
    rebuild_mart(warehouse, None, settings=settings, today=TODAY)
    with warehouse.connect() as conn:
        return wh.read_frame(conn, select(wh.kpi_mart))


def _icons_of_truncated_series(series: pd.DataFrame, polarity: str) -> list[tuple]:
    """(variation, assurance) for each month by xmr on the series cut off at that month."""
    out = []
    for month in range(len(series)):
        seen = series.iloc[:month + 1]
        seen = seen[seen["value"].notna()].reset_index(drop=True)
        if seen.empty:
            out.append((None, None))
            continue
        breaks = [int(i) for i in seen.index[seen["period"] >= REBASE[1]][:1]
                  if 0 < i] if series["org_code"].iloc[0] == REBASE[0] else []
        target = seen["target"].iloc[-1]
        chart = xmr(seen["value"], polarity=polarity, rebase_at=breaks,
                    target=None if pd.isna(target) else float(target))
        out.append((chart.variation_icon, chart.assurance_icon))
    return out


def test_each_months_icons_equal_xmr_of_the_series_up_to_that_month(mart):
    polarity = {k.id: k.polarity for k in load_catalogue()}
    judged = set()
    for (kpi_id, _, _), series in mart.groupby(["kpi_id", "org_code", "form"]):
        series = series.sort_values("period")
        got = list(zip(series["variation_icon"], series["assurance_icon"], strict=True))
        got = [tuple(None if pd.isna(v) else v for v in pair) for pair in got]
        assert got == _icons_of_truncated_series(series, polarity[kpi_id]), (kpi_id, series)
        judged |= {v for v, _ in got}
    assert {None, "common_cause"} < judged  # months before 13 points, and verdicts after


def test_spc_columns_equal_xmr_of_each_series(mart):
    mart = mart[mart["kpi_id"] == "ea_rate"]
    for org, series in mart[mart["level"] != "practice"].groupby("org_code"):
        series = series.sort_values("period").reset_index(drop=True)
        rebase = [int(i) for i in series.index[series["period"] == "2024-10"]] \
            if org == "U00002" else []
        chart = xmr(series["value"], polarity="lower", rebase_at=rebase)
        np.testing.assert_allclose(series["spc_mean"], chart.points["mean"], rtol=1e-12)
        np.testing.assert_allclose(series["spc_upper"], chart.points["upper"], rtol=1e-12)
        latest = series["variation_icon"].iloc[-1]
        assert (None if pd.isna(latest) else latest) == chart.variation_icon  # latest verdict
        special = chart.points["point_type"].where(chart.points["special_cause"])
        assert series["spc_special_cause"].fillna("-").tolist() == special.fillna("-").tolist()
    rebased = mart[mart["org_code"] == "U00002"].sort_values("period")
    assert rebased["spc_mean"].nunique() == 2  # two segments, each with its own centre line


def test_funnel_class_against_the_network_peers(mart, tmp_path):
    mart = mart[mart["kpi_id"] == "ea_rate"]
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
    series = mart[(mart["org_code"] == "U00005") & (mart["kpi_id"] == "ea_rate")].sort_values(
        "period")
    for i in range(len(series)):
        window = series.iloc[max(0, i - 4): i + 1]
        assert series["trend"].iloc[i] == recent_trend(window["numerator"],
                                                       window["denominator"], "rate")


def _designed(values: list[float], rebase_month: int | None = None) -> pd.DataFrame:
    """One series, month 1 first, with a target and an optional rebase (1-based month)."""
    periods = [str(p) for p in pd.period_range("2022-01", periods=len(values), freq="M")]
    return pd.DataFrame({
        "org_code": "X1", "form": "month", "period": periods, "value": values,
        "target": 10.5, "_rebase": [i + 1 == rebase_month for i in range(len(values))]})


# 19 steady months, then a step up of about ten moving ranges from month 20 on
NOISE = [0.3, -0.2, 0.1, -0.4, 0.2, 0.0, -0.1, 0.4, -0.3, 0.2, -0.2, 0.1, 0.3, -0.1, 0.0,
         -0.3, 0.2, -0.1, 0.1, 0.2, -0.2, 0.1, 0.0, -0.1, 0.3, -0.2, 0.1, 0.2, -0.3, 0.0]
STEP = [10 + e for e in NOISE[:19]] + [13 + e for e in NOISE[19:]]


def test_a_step_at_month_20_is_judged_common_cause_before_and_special_cause_after():
    icons = as_judged_icons(_designed(STEP), polarity="lower", settings=SpcSettings())
    variation = icons["variation_icon"].tolist()
    assert variation[:12] == [None] * 12  # fewer than 13 points: no verdict yet
    assert variation[12:19] == ["common_cause"] * 7  # months 13-19
    assert variation[19:] == ["concern_high"] * 11  # the step and every month after it
    # the target (10.5) lay inside the limits of the steady months: hit and miss
    assert icons["assurance_icon"].iloc[18] == "hit_and_miss"
    # the latest chart alone would have called every month concern
    assert xmr(pd.Series(STEP), polarity="lower").variation_icon == "concern_high"


def test_no_verdict_until_13_points_after_a_rebase():
    values = STEP + [13 + e for e in NOISE[:10]]  # 40 months
    icons = as_judged_icons(_designed(values, rebase_month=26), polarity="lower",
                            settings=SpcSettings())
    variation = icons["variation_icon"].tolist()
    assert variation[24] == "concern_high"  # month 25, before the rebase
    assert variation[25:37] == [None] * 12  # months 26-37: fewer than 13 since the rebase
    assert variation[37] is not None  # month 38: the 13th point since the rebase
    for month in range(len(values)):
        breaks = [25] if month >= 25 else []  # position 25 is month 26
        chart = xmr(pd.Series(values[:month + 1]), polarity="lower", rebase_at=breaks,
                    target=10.5)
        assert (variation[month], icons["assurance_icon"].iloc[month]) == (
            chart.variation_icon, chart.assurance_icon), month
