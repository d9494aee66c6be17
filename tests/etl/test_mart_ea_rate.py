"""ea_rate in the mart equals an independent pandas calculation from the generated demo files."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from carekpi import warehouse as wh
from carekpi_demo import generate
from etl.pipeline import run_inbox
from tests.etl import demo_truth

END_MONTH = "2025-06"
TODAY = date(2025, 7, 20)


@pytest.fixture(scope="module")
def demo_feeds(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, scale="area", months=8, seed=11, end_month=END_MONTH)
    return out


@pytest.fixture
def loaded(demo_feeds, warehouse, settings):
    for feed in ("organisations", "population", "spells"):  # what ea_rate is built from
        shutil.copytree(demo_feeds / feed, settings.inbox / feed)
    summary = run_inbox(warehouse, settings, today=TODAY, progress=False)
    refused = [(r.file, [str(p) for p in r.problems][:3]) for r in summary.results
               if r.status == "refused"]
    assert refused == []
    return warehouse


def _mart(engine, kpi_id: str) -> pd.DataFrame:
    m = wh.kpi_mart
    with engine.connect() as conn:
        return wh.read_frame(conn, select(m.c.level, m.c.org_code, m.c.period, m.c.numerator,
                                          m.c.denominator, m.c.value)
                             .where(m.c.kpi_id == kpi_id, m.c.form == "month"))


def expected_ea_rate(feeds: Path) -> pd.DataFrame:
    """level, org_code, period, numerator, denominator, value computed from the raw files."""
    sizes = demo_truth.list_sizes(feeds)
    admissions = demo_truth.emergency_admissions(feeds)
    practice = sizes.merge(admissions, on=["practice_code", "period"], how="left")
    practice["admissions"] = practice["admissions"].fillna(0)
    membership = demo_truth.network_on_first_day(demo_truth.organisations(feeds),
                                                 sorted(practice["period"].unique()))
    practice = practice.merge(membership, on=["practice_code", "period"])
    frames = [practice.rename(columns={"practice_code": "org_code"}).assign(level="practice")]
    for level, column in (("network", "network_code"), ("place", "place_code")):
        summed = practice.groupby([column, "period"], as_index=False)[
            ["admissions", "patients"]].sum()
        frames.append(summed.rename(columns={column: "org_code"}).assign(level=level))
    out = pd.concat(frames, ignore_index=True)
    out["value"] = out["admissions"] / out["patients"] * 1000
    return out[["level", "org_code", "period", "admissions", "patients", "value"]]


def test_ea_rate_matches_independent_calculation(loaded, demo_feeds):
    expected = expected_ea_rate(demo_feeds)
    got = _mart(loaded, "ea_rate")
    got = got[got["level"].isin(["practice", "network", "place"])]
    merged = expected.merge(got, on=["level", "org_code", "period"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged["numerator"] == merged["admissions"]).all()
    assert (merged["denominator"] == merged["patients"]).all()
    pd.testing.assert_series_equal(merged["value_y"], merged["value_x"], check_names=False,
                                   rtol=1e-12)
    # every practice, network and month is there, not a sample
    assert set(merged.loc[merged["level"] == "network", "org_code"]) == set(
        demo_truth.organisations(demo_feeds)["network_code"])


def test_loading_the_same_file_twice_changes_nothing(loaded, demo_feeds, settings):
    with loaded.connect() as conn:
        before = wh.table_digest(conn, [*wh.FACT_TABLES.values(), wh.kpi_mart, wh.organisation,
                                        wh.membership])
    again = settings.inbox / "population"
    again.mkdir(parents=True, exist_ok=True)
    source = sorted((demo_feeds / "population").glob("*.csv"))[0]
    shutil.copy(source, again / source.name)
    summary = run_inbox(loaded, settings, today=TODAY, progress=False)
    assert [r.status for r in summary.results] == ["duplicate"]
    with loaded.connect() as conn:
        after = wh.table_digest(conn, [*wh.FACT_TABLES.values(), wh.kpi_mart, wh.organisation,
                                       wh.membership])
    assert after == before
