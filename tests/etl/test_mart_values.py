"""Every KPI value in the mart for the demo area equals an independent pandas calculation from
the raw generated files, at every level, including a practice that changed network; and so does
every other exported column (intervals, target, RAG, SPC, icons, funnel, trend, provisional and
its reason, suppressed)."""

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
from etl.pipeline import run_inbox
from kpi.catalogue import load_catalogue
from tests.etl import demo_truth, mart_truth

END_MONTH = "2025-06"
TODAY = date(2025, 7, 20)
REPO = Path(__file__).resolve().parents[2]
ROW_COLUMNS = ("lower_95", "upper_95", "lower_998", "upper_998", "target", "rag",
               "provisional", "suppressed", "provisional_reason")
SERIES_COLUMNS = ("spc_mean", "spc_lower", "spc_upper", "spc_special_cause", "variation_icon",
                  "assurance_icon", "funnel_class", "trend")
NUMBER_COLUMNS = {"lower_95", "upper_95", "lower_998", "upper_998", "target", "spc_mean",
                  "spc_lower", "spc_upper"}


def _assert_columns_equal(truth: pd.DataFrame, rows: int, columns: tuple[str, ...]) -> None:
    """Each column equals its `_mart` twin: numbers to 1e-9, labels and flags exactly."""
    assert len(truth) == rows
    keys = ["kpi_id", "level", "org_code", "period"]
    for column in columns:
        if column in NUMBER_COLUMNS:
            np.testing.assert_allclose(truth[f"{column}_mart"].astype(float),
                                       truth[column].astype(float), rtol=1e-9, equal_nan=True,
                                       err_msg=column)
            continue
        want = [_label(v) for v in truth[column].astype(object)]
        have = [_label(v) for v in truth[f"{column}_mart"].astype(object)]
        differs = np.array([w != h for w, h in zip(want, have, strict=True)], dtype=bool)
        wrong = truth.loc[differs, [*keys, column, f"{column}_mart"]]
        assert wrong.empty, wrong.head(10).to_string()


def _label(value: object) -> object:
    """A text or flag column's value, with every kind of missing as None."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return bool(value) if isinstance(value, (bool, np.bool_)) else value


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
        spread = counts["sumsq"] if kpi_id == "los_mean_emergency" else np.nan
        frames.append(counts.assign(kpi_id=kpi_id, numerator=counts[num],
                                    denominator=counts[den], scale=scale, per=1, spread=spread))
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
    out["form"] = np.where(out["kpi_id"].str.endswith("_12m"), "rolling12", "month")
    columns = ["kpi_id", "level", "org_code", "period", "form", "numerator", "denominator",
               "value", "spread", "per", "scale"]
    # observed / expected x 100 (limits and classes: tests/etl/test_mart_standardised.py)
    ratios = demo_truth.standardised_ratios(feeds, _acsc()).assign(
        form="month", spread=np.nan, per=1.0, scale=100.0)
    return pd.concat([out[columns], ratios[columns]], ignore_index=True)


def _crude(expected: pd.DataFrame) -> pd.DataFrame:
    """The rows other than standardised ratios, whose intervals and funnel classes (against
    100, not the peers' pooled value) are checked column by column in test_mart_standardised."""
    return expected[~expected["kpi_id"].str.endswith("_sr")]


def _peer_of(rows: pd.DataFrame, feeds: Path) -> pd.Series:
    """Each row's funnel peer group: its parent that month (a practice's network on the 1st)."""
    orgs = demo_truth.organisations(feeds)
    network = demo_truth.network_on_first_day(orgs, sorted(rows["period"].unique())).set_index(
        ["practice_code", "period"])["network_code"]
    place_of = orgs.drop_duplicates("network_code").set_index("network_code")["place_code"]
    peer = pd.Series("", index=rows.index, dtype=object)
    practice = rows["level"] == "practice"
    keys = pd.MultiIndex.from_frame(rows.loc[practice, ["org_code", "period"]])
    peer[practice] = network.reindex(keys).to_numpy()
    peer[rows["level"] == "network"] = rows.loc[rows["level"] == "network", "org_code"].map(
        place_of)
    peer[rows["level"] == "place"] = orgs["system_code"].iloc[0]
    return peer


def expected_row_columns(expected: pd.DataFrame) -> pd.DataFrame:
    """Intervals, target, RAG, provisional and its reason, and suppression of the expected rows,
    by the independent calculations of tests/etl/mart_truth.py."""
    out = expected.sort_values(["kpi_id", "org_code", "form", "period"]).copy()
    out["effective_denominator"] = out["denominator"] * out["per"]
    for kpi in load_catalogue():
        rows = out["kpi_id"] == kpi.id
        part = out[rows]
        limits = mart_truth.intervals(part["numerator"].to_numpy(float),
                                      part["effective_denominator"].to_numpy(float),
                                      part["spread"].to_numpy(float), kpi, kpi.multiplier)
        for column, values in limits.items():
            out.loc[rows, column] = values
        out.loc[rows, "target"] = kpi.default_target
        out.loc[rows, "rag"] = mart_truth.rag(part["value"], out.loc[rows, "target"],
                                              kpi.polarity)
        out.loc[rows, "provisional_reason"] = mart_truth.provisional_reason(
            kpi, part["period"], part["numerator"], TODAY)
    out["provisional"] = out["provisional_reason"].notna()
    out["suppressed"] = mart_truth.suppressed(out["numerator"], out["denominator"])
    return out


def expected_series_columns(out: pd.DataFrame, feeds: Path) -> pd.DataFrame:
    """SPC (full chart and each month's icons), funnel class and trend of the expected rows
    (with their targets), by the single-series functions of `kpi`."""
    out = out.copy()
    out["peer"] = _peer_of(out, feeds)
    for kpi in load_catalogue():
        part = out[out["kpi_id"] == kpi.id]
        for _, series in part.groupby(["org_code", "form"]):
            chart = mart_truth.spc(series, kpi.polarity)
            out.loc[chart.index, chart.columns] = chart
            if kpi.interval in mart_truth.KIND:
                out.loc[series.index, "trend"] = mart_truth.trend(series, kpi)
        if kpi.interval in mart_truth.KIND:
            for _, group in part.groupby(["form", "period", "level", "peer"]):
                out.loc[group.index, "funnel_class"] = mart_truth.funnel(group, kpi)
    return out

@pytest.fixture
def mart(demo_feeds, warehouse, settings) -> pd.DataFrame:
    shutil.copytree(demo_feeds, settings.inbox)
    summary = run_inbox(warehouse, settings, today=TODAY, progress=False)
    assert not summary.failed, [(r.file, [str(p) for p in r.problems[:2]])
                                for r in summary.results if r.status == "refused"]
    with warehouse.connect() as conn:
        return wh.read_frame(conn, select(wh.kpi_mart))


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
    # every other exported column, against its own independent calculation: first those of
    # the row alone (intervals, target, RAG, flags), then those of the series and peers
    crude = _crude(expected)
    rows = expected_row_columns(crude)
    _assert_columns_equal(rows.merge(got, on=keys, suffixes=("", "_mart")), len(crude),
                          ROW_COLUMNS)
    truth = expected_series_columns(rows, demo_feeds).merge(got, on=keys,
                                                            suffixes=("", "_mart"))
    _assert_columns_equal(truth, len(crude), SERIES_COLUMNS)
    # the demo exercises them: verdicts, signals, classes, trends and provisional months
    assert {"common_cause", "improvement_high"} <= set(truth["variation_icon"].dropna())
    assert {"above_998", "within"} <= set(truth["funnel_class"].dropna())
    assert truth["provisional"].any() and truth["suppressed"].any()
    # the practice that moved network counts in its old network before the move, new after
    moved = orgs[orgs["practice_code"].duplicated(keep=False)]
    assert moved["practice_code"].nunique() == 1
