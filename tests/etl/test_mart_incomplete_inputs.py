"""A KPI value whose inputs are known to be incomplete is withheld or provisional, with the reason:
stay measures before their look-back is loaded (the first months of spells data)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from carekpi import warehouse as wh
from carekpi_demo import generate
from etl.incomplete_inputs import STAY_LOOKBACK_DAYS, stay_lookback_reasons
from etl.pipeline import run_inbox
from tests.etl import demo_truth
from tests.etl.test_mart_values import _acsc

TODAY = date(2025, 7, 20)
STAY_KPIS = {"los_mean_emergency", "los_21plus_share_65", "ea_bed_days_65",
             "los_long_stay_bed_share_65"}
MONTHS = [str(p) for p in pd.period_range("2024-11", "2025-06", freq="M")]


def _pairs(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["admission_period", "discharge_period"])


def test_a_discharge_month_needs_180_days_of_admissions_before_it():
    # spells data starting with January's admissions, stays of up to a few months
    months = [str(p) for p in pd.period_range("2024-01", "2024-08", freq="M")]
    rows = [(a, d) for a in months for d in [*months, ""] if d == "" or d >= a]
    reasons = stay_lookback_reasons(_pairs(rows))
    # 1 Jan to 1 Jul is 182 days: July is the first complete month
    assert sorted(reasons) == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    assert STAY_LOOKBACK_DAYS == 180
    assert reasons["2024-01"] == ("withheld: stays that began before 2024-01 (the first month of "
                                  "spells data) are missing; 0 days of admissions before this "
                                  "month are loaded, 180 needed")
    assert "; 152 days of admissions before this month" in reasons["2024-06"]


def test_stays_already_under_way_when_the_data_start_make_the_first_month_complete():
    # a file split by discharge month holds December's admissions still in hospital in January
    rows = [("2023-12", "2024-01"), ("2023-09", "2024-01"), ("2024-01", "2024-01"),
            ("2024-01", "2024-02"), ("2024-02", "2024-02")]
    assert stay_lookback_reasons(_pairs(rows)) == {}
    # a stray old admission is not the month before the start: the look-back still applies
    stray = [("2021-03", "2024-01"), *rows[2:]]
    assert sorted(stay_lookback_reasons(_pairs(stray))) == ["2024-01", "2024-02"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("incomplete")
    generate(out, months=len(MONTHS), seed=41, end_month=MONTHS[-1])
    return out


def _load(feeds: Path, warehouse, settings) -> pd.DataFrame:
    for feed in ("organisations", "population", "spells"):
        shutil.copytree(feeds / feed, settings.inbox / feed)
    assert not run_inbox(warehouse, settings, today=TODAY, progress=False).failed
    with warehouse.connect() as conn:
        return wh.read_frame(conn, select(wh.kpi_mart))


def _without_stays_under_way(demo: Path, out: Path) -> Path:
    """The demo's files without the stays that began before the first month (as extracts
    starting with the window's admissions hold them)."""
    shutil.copytree(demo, out)
    dropped = 0
    for path in sorted((out / "spells").glob("*.csv")):
        episodes = pd.read_csv(path, dtype=str, keep_default_na=False)
        earlier = episodes["ADMIDATE"].str[:7] < MONTHS[0]
        dropped += int(earlier.sum())
        episodes[~earlier].to_csv(path, index=False)
    assert dropped > 0  # the demo simulates them
    return out


def test_first_months_of_stays_are_withheld_with_the_reason(demo, tmp_path, warehouse,
                                                             settings):
    mart = _load(_without_stays_under_way(demo, tmp_path / "feeds"), warehouse, settings)
    stays = mart[mart["kpi_id"].isin(STAY_KPIS)]
    withheld = stays[stays["period"] < "2025-05"]  # 1 Nov to 1 May is 181 days
    assert set(withheld["period"]) == set(MONTHS[:6])
    assert set(withheld["kpi_id"]) == STAY_KPIS and set(withheld["level"]) == {
        "practice", "network", "place", "system"}
    for column in ("value", "lower_95", "upper_95", "lower_998", "upper_998", "rag",
                   "funnel_class", "spc_special_cause"):
        assert withheld[column].isna().all(), column
    assert withheld["provisional"].all()
    counted = withheld[withheld["kpi_id"] != "los_mean_emergency"]  # a mean has no trend test
    assert (counted["trend"] == "cannot_be_calculated").all()
    first = withheld[withheld["period"] == MONTHS[0]]
    assert set(first["provisional_reason"]) == {
        "withheld: stays that began before 2024-11 (the first month of spells data) are "
        "missing; 0 days of admissions before this month are loaded, 180 needed"}
    assert first["denominator"].gt(0).any()  # the loaded counts stay for the reader
    shown = stays[stays["period"] >= "2025-05"]
    assert shown["value"].notna().any() and shown["provisional_reason"].isna().all()
    # admissions are counted by admission month: nothing of theirs is withheld
    assert mart.loc[mart["kpi_id"] == "ea_rate", "provisional_reason"].isna().all()


def test_with_the_stays_under_way_loaded_the_first_month_is_whole(demo, warehouse, settings):
    mart = _load(demo, warehouse, settings)
    assert mart.loc[mart["kpi_id"].isin(STAY_KPIS), "provisional_reason"].isna().all()
    place = mart[(mart["level"] == "place") & (mart["kpi_id"] == "los_mean_emergency")]
    got = place.set_index("period")["value"]
    members = demo_truth.network_on_first_day(demo_truth.organisations(demo), MONTHS)
    ended = demo_truth.spell_counts(demo, _acsc()).merge(members, on=["practice_code", "period"])
    ended = ended.groupby("period")[["bed", "n_end"]].sum()
    expected = (ended["bed"] / ended["n_end"]).reindex(got.index)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # the first month is no longer short of its long stays (it was 3.96 days against 6.4)
    assert got[MONTHS[0]] > 0.93 * got[MONTHS[1:]].mean()
