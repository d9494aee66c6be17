"""Every KPI value in the mart for the demo area equals an independent pandas calculation from
the raw generated files, at every level, including a practice that changed network."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from carekpi import warehouse as wh
from etl.demo import generate
from etl.pipeline import run_inbox
from kpi.catalogue import load_catalogue
from tests.etl import demo_truth

END_MONTH = "2025-06"
TODAY = date(2025, 7, 20)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_feeds(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo_values")
    generate(out, scale="area", months=15, seed=23, end_month=END_MONTH)
    return out


def _acsc() -> tuple[str, ...]:
    codes = pd.read_csv(REPO / "etl" / "reference" / "acsc_icd10.csv", dtype=str)
    column = next(c for c in codes.columns if "icd" in c.lower() or "prefix" in c.lower())
    return tuple(codes[column].str.strip().str.replace(".", "", regex=False))


def _by_level(practice: pd.DataFrame, network: pd.DataFrame, feeds: Path) -> pd.DataFrame:
    """Counts at practice, network, place and system (one place, one system in the demo)."""
    orgs = demo_truth.organisations(feeds)
    members = demo_truth.network_on_first_day(orgs, sorted(practice["period"].unique()))
    measures = [c for c in practice.columns if c not in ("practice_code", "period")]
    placed = practice.merge(members, on=["practice_code", "period"])
    net = placed.groupby(["network_code", "period"])[measures].sum(min_count=1).reset_index()
    net = net.rename(columns={"network_code": "org_code"}).merge(network, how="outer",
                                                                 on=["org_code", "period"])
    net = net[net["org_code"].isin(set(orgs["network_code"]))]
    place_code, system_code = orgs["place_code"].iloc[0], orgs["system_code"].iloc[0]
    place = net.drop(columns="org_code").groupby("period").sum(min_count=1).reset_index()
    frames = [practice.rename(columns={"practice_code": "org_code"}).assign(level="practice"),
              net.assign(level="network"), place.assign(org_code=place_code, level="place"),
              place.assign(org_code=system_code, level="system")]
    return pd.concat(frames, ignore_index=True)


def expected_kpis(feeds: Path) -> pd.DataFrame:
    """kpi_id, level, org_code, period, numerator, denominator, value: kpis.md by hand."""
    practice = demo_truth.population_counts(feeds).merge(
        demo_truth.spell_counts(feeds, _acsc()), on=["practice_code", "period"], how="left")
    spell_months = set(practice.dropna(subset=["EA"])["period"])
    covered = practice["period"].isin(spell_months)
    for col in ("EA", "EA65", "ACSC"):  # no emergency admission that month: zero
        practice.loc[covered, col] = practice.loc[covered, col].fillna(0)
    counts = _by_level(practice, demo_truth.network_feed_counts(feeds), feeds)
    days = pd.PeriodIndex(counts["period"], freq="M").days_in_month
    definitions = {
        "ea_rate": ("EA", "P", 1000), "ea_rate_65": ("EA65", "P65", 1000),
        "ea_acsc_rate": ("ACSC", "P", 100_000), "los_mean_emergency": ("bed", "n_end", 1),
        "los_21plus_share_65": ("n_end65_21", "n_end65", 100),
        "ea_bed_days_65": ("bed65", "P65", 1000),
        "los_long_stay_bed_share_65": ("bed65_over10", "bed65", 100),
        "dtoc_social_care_share": ("dd_sc", "dd", 100),
        "reablement_home_91": ("at_home_91_days", "discharged_65_into_reablement", 100),
        "reablement_no_further_support": ("no_further_support", "episodes_ended", 100),
        "care_home_admissions_65": ("ch", "P65", 100_000),
    }
    frames = []
    for kpi_id, (num, den, scale) in definitions.items():
        frames.append(counts.assign(kpi_id=kpi_id, numerator=counts[num],
                                    denominator=counts[den], scale=scale, per=1))
    frames.append(counts.assign(kpi_id="dtoc_rate", numerator=counts["dd"],
                                denominator=counts["P18"], scale=100_000, per=days))
    rolling = counts.sort_values("period").copy()
    month_no = pd.PeriodIndex(rolling["period"], freq="M").astype("int64")
    rolling["month_no"] = month_no
    g = rolling.groupby("org_code")
    rolling["ch12"] = g["ch"].transform(lambda s: s.rolling(12, min_periods=12).sum())
    rolling = rolling[(g["month_no"].diff(11) == 11) & rolling["ch12"].notna()]
    frames.append(rolling.assign(kpi_id="care_home_admissions_65_12m",
                                 numerator=rolling["ch12"], denominator=rolling["P65"],
                                 scale=100_000, per=1))
    cp = demo_truth.care_package_counts(feeds)
    cp_practice = cp.rename(columns={"completed": "c", "register": "r"})
    for (package, element), part in cp_practice.groupby(["package", "element"]):
        wide = part[["practice_code", "period", "c", "r"]]
        levels = _by_level(wide, pd.DataFrame(columns=["org_code", "period"]), feeds)
        kpi_id = f"cp_{package}_{element}"
        frames.append(levels.assign(kpi_id=kpi_id, numerator=levels["c"],
                                    denominator=levels["r"], scale=100, per=1))
    out = pd.concat(frames, ignore_index=True)
    network_feeds = out["kpi_id"].str.match(r"dtoc_|reablement_|care_home_")
    out = out[(out["denominator"].fillna(0) > 0) & ~(network_feeds & (out["level"] == "practice"))]
    out["value"] = out["numerator"] / (out["denominator"] * out["per"]) * out["scale"]
    columns = ["kpi_id", "level", "org_code", "period", "numerator", "denominator", "value"]
    ratios = demo_truth.standardised_ratios(feeds, _acsc())  # observed / expected x 100
    return pd.concat([out[columns], ratios[columns]], ignore_index=True)


@pytest.fixture
def mart(demo_feeds, warehouse, settings) -> pd.DataFrame:
    shutil.copytree(demo_feeds, settings.inbox)
    summary = run_inbox(warehouse, settings, today=TODAY, progress=False)
    assert not summary.failed, [(r.file, [str(p) for p in r.problems[:2]])
                                for r in summary.results if r.status == "refused"]
    m = wh.kpi_mart
    with warehouse.connect() as conn:
        return wh.read_frame(conn, select(m.c.kpi_id, m.c.level, m.c.org_code, m.c.period,
                                          m.c.numerator, m.c.denominator, m.c.value))


def test_every_kpi_has_an_independent_definition_here(demo_feeds):
    expected = set(expected_kpis(demo_feeds)["kpi_id"])
    assert {k.id for k in load_catalogue()} == expected


def test_mart_values_equal_independent_calculation(mart, demo_feeds):
    expected = expected_kpis(demo_feeds)
    orgs = demo_truth.organisations(demo_feeds)
    ours = set(orgs["practice_code"]) | set(orgs["network_code"]) | {
        orgs["place_code"].iloc[0], orgs["system_code"].iloc[0]}
    got = mart[mart["org_code"].isin(ours) & (mart["denominator"].fillna(0) > 0)]
    keys = ["kpi_id", "level", "org_code", "period"]
    merged = expected.merge(got, on=keys, how="outer", indicator=True, suffixes=("", "_mart"))
    missing = merged[merged["_merge"] != "both"]
    assert missing.empty, missing[[*keys, "_merge"]].head(20).to_string()
    for column in ("numerator", "denominator", "value"):
        np.testing.assert_allclose(merged[f"{column}_mart"].astype(float),
                                   merged[column].astype(float), rtol=1e-9, equal_nan=True,
                                   err_msg=column)
    # the practice that moved network counts in its old network before the move, new after
    moved = orgs[orgs["practice_code"].duplicated(keep=False)]
    assert moved["practice_code"].nunique() == 1
