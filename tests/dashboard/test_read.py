"""The read side (carekpi/read.py) on SQLite and PostgreSQL: each question's rows against a small
warehouse built here by hand, suppression at the exit, and the export written through it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from carekpi import read
from carekpi import warehouse as wh
from etl.export import EXPORT_COLUMNS, export_mart
from kpi.payment import PackageTerms, PaymentTerms
from kpi.rollup import assign_parents

# S system > P place > N1, N2 networks; A, B in N1; C in N2; D moves from N1 to N2 in 2025-02.
ORGS = pd.DataFrame({
    "org_code": ["S", "P", "N1", "N2", "A", "B", "C", "D", "Z"],
    "level": ["system", "place", "network", "network", "practice", "practice", "practice",
              "practice", "practice"],
    "org_name": ["Sys", "Place", "North", "South", "Alpha", "Bravo", "Charlie", "Delta", "Zulu"],
    "open_date": [None] * 8 + [date(2025, 2, 15)],
    "close_date": [None] * 9,
})
# Z opens on 15 February and joins N2 that day: its February parent is the link starting in it.
LINKS = pd.DataFrame({
    "child_code": ["P", "N1", "N2", "A", "B", "C", "D", "D", "Z"],
    "parent_code": ["S", "P", "P", "N1", "N1", "N2", "N1", "N2", "N2"],
    "valid_from": [date(2020, 1, 1)] * 7 + [date(2025, 2, 1), date(2025, 2, 15)],
    "valid_to": [None] * 6 + [date(2025, 1, 31), None, None],
})


def _mart_row(kpi_id, org_code, period, numerator, denominator, **extra) -> dict:
    level = ORGS.set_index("org_code").loc[org_code, "level"]
    value = None if numerator is None else 100 * numerator / denominator
    row = {"kpi_id": kpi_id, "org_code": org_code, "period": period, "form": "month",
           "level": level, "numerator": numerator, "denominator": denominator, "value": value,
           "lower_95": None if value is None else value - 1,
           "upper_95": None if value is None else value + 1,
           "lower_998": None if value is None else value - 2,
           "upper_998": None if value is None else value + 2,
           "target": 75.0, "rag": "green", "spc_mean": 50.0, "spc_lower": 10.0,
           "spc_upper": 90.0, "variation_icon": "common_cause", "funnel_class": "within",
           "provisional": False, "carried_forward": False, "suppressed": False,
           "provisional_reason": None}
    return row | extra


K = "cp_diabetes_complete"
E = "cp_diabetes_hba1c"  # an element of K
MART = pd.DataFrame([
    # suppression cases at practice A: counts 3 (hidden), 0 (shown), 8 (shown), den 5, flag
    _mart_row(K, "A", "2025-01", 3, 100, suppressed=True),
    _mart_row(K, "A", "2025-02", 0, 100),
    _mart_row(K, "A", "2025-03", 8, 100),
    _mart_row(K, "B", "2025-01", 40, 50),
    _mart_row(K, "B", "2025-02", 7, 60, suppressed=True),
    _mart_row(K, "B", "2025-03", 45, 5, suppressed=True),
    _mart_row(K, "C", "2025-02", 30, 60),
    _mart_row(K, "D", "2025-01", 20, 40),
    _mart_row(K, "D", "2025-02", 25, 40),
    _mart_row(K, "N1", "2025-02", 7 + 0, 160, suppressed=True),
    _mart_row(K, "N1", "2025-03", 90, 120, provisional=True,
              provisional_reason="practice B has not submitted"),
    _mart_row(K, "N2", "2025-02", 55, 100),
    _mart_row(K, "N2", "2025-03", 60, 100),
    _mart_row(K, "P", "2025-02", 62, 260),
    _mart_row(K, "P", "2025-03", 150, 220, provisional=True,
              provisional_reason="practice B has not submitted"),
    _mart_row(E, "N1", "2025-03", 100, 120),
    _mart_row("ea_rate", "A", "2025-02", 12, 1000),
    _mart_row("ea_rate", "N1", "2025-02", 30, 3000, mart_flag_only=None),
    _mart_row("ea_rate", "N2", "2025-04", 9, 900),
    # a month whose outcome is not known yet: a row without a value
    _mart_row("reablement_home_91", "N2", "2025-03", None, 40),
    # a row the mart flags although neither count is small: both counts hidden
    _mart_row("ea_rate", "B", "2025-02", 10, 900, suppressed=True),
]).drop(columns=["mart_flag_only"])

LOADS = pd.DataFrame({
    "load_id": [1, 2, 3, 4, 5],
    "feed": ["population", "care_packages", "care_packages", None, "spells"],
    "layout": ["native"] * 5,
    "file_name": ["pop_2025-02.csv", "cp_2025-02.csv", "cp_2025-03.csv", "junk.xlsx",
                  "spells_2025-03.csv"],
    "content_hash": ["h1", "h2", "h3", "h4", "h5"],
    "periods": ["2025-02,2025-03", "2025-02", "2025-03", None, "2025-02,2025-03"],
    "rows_read": [10, 10, 10, 0, 12],
    "rows_loaded": [10, 10, 10, 0, 10],
    "rows_refused": [0, 0, 0, 0, 2],
    "status": ["loaded", "loaded", "loaded", "refused", "loaded"],
    "error_summary": [None, None, None, "junk.xlsx: no feed recognised",
                      "spells_2025-03.csv row 4, column 'age': not a number"],
})
LOADS["started_at"] = pd.Series([datetime(2025, 4, d, 9, tzinfo=UTC) for d in range(1, 6)],
                                dtype=object)
LOADS["finished_at"] = pd.Series([datetime(2025, 4, d, 10, tzinfo=UTC) for d in range(1, 6)],
                                 dtype=object)


@pytest.fixture
def wh_filled(warehouse):
    """The hand-built warehouse above (both dialects)."""
    spells = pd.DataFrame({
        "practice_code": ["A", "A", "A", "D", "C"],
        "admission_period": ["2025-02"] * 4 + ["2025-03"],
        "discharge_period": ["2025-02"] * 5,
        "sex": ["F", "M", "F", "F", "F"],
        "age_band": ["65_69", "65_69", "0_4", "65_69", "65_69"],
        "admissions": [10, 3, 0, 9, 4],
        "emergency_admissions": [6, 2, 0, 5, 4],
    })
    spells["coverage_period"], spells["coverage_org"] = spells["admission_period"], ""
    population = pd.DataFrame({
        "practice_code": ["A", "B", "C", "D", "A", "C", "D", "Z"],
        "period": ["2025-02"] * 4 + ["2025-03"] * 4,
        "sex": "ALL", "age_band": "ALL", "patients": 1000,
    })
    care_packages = pd.DataFrame({
        "practice_code": ["A", "B", "C", "D", "A", "C", "D"],
        "period": ["2025-02"] * 4 + ["2025-03"] * 3,
        "package": "diabetes", "element": "complete", "register": 50, "completed": 20,
    })
    reasons = pd.DataFrame({
        "org_code": ["N1", "N1", "N2", "P", "P"],
        "period": ["2025-02", "2025-02", "2025-02", "2025-02", "2025-03"],
        "reason_code": ["a", "b", "a", "a", "a"],
        "delayed_days": [10, 5, 20, 99, 44],
    })
    responsibility = pd.DataFrame({
        "org_code": ["N1", "N2"], "period": ["2025-02", "2025-02"],
        "delayed_days_nhs": [12, 30], "delayed_days_social_care": [3, 0],
        "delayed_days_both": [0, 9],
    })
    notes = pd.DataFrame({
        "annotation_id": [1, 2, 3], "org_code": ["N1", "N1", "N2"],
        "period": ["2025-02", "2025-03", "2025-02"], "kpi_id": [K, None, K],
        "text": ["team started", "new system", "other"], "rebase": [True, False, False],
    })
    with warehouse.begin() as conn:
        for table, frame in ((wh.organisation, ORGS), (wh.membership, LINKS),
                             (wh.kpi_mart, MART),
                             (wh.spell_fact, spells), (wh.population, population),
                             (wh.care_package_fact, care_packages),
                             (wh.delay_reason_fact, reasons),
                             (wh.delayed_transfer_fact, responsibility),
                             (wh.annotation, notes)):
            wh.bulk_insert(conn, table, frame)
        # datetimes through Core (bulk_insert's SQLite path takes plain values only)
        conn.execute(wh.etl_load.insert(), LOADS.astype(object).where(LOADS.notna(), None)
                     .to_dict("records"))
    return warehouse


def _values(frame: pd.DataFrame, column: str) -> list:
    return [None if pd.isna(v) else v for v in frame[column]]


def test_organisations_carry_current_parent_and_whether_they_have_data(wh_filled):
    orgs = read.organisations(wh_filled)
    assert orgs["org_code"].tolist() == ["A", "B", "C", "D", "Z", "N1", "N2", "P", "S"]
    parents = dict(zip(orgs["org_code"], orgs["parent_code"], strict=True))
    assert parents == {"A": "N1", "B": "N1", "C": "N2", "D": "N2", "Z": "N2", "N1": "P",
                       "N2": "P", "P": "S", "S": None}
    assert orgs.loc[~orgs["has_data"], "org_code"].tolist() == ["Z", "S"]
    assert read.parent_chain(orgs, "D") == ["S", "P", "N2", "D"]
    assert read.parent_chain(orgs, "S") == ["S"]


def test_members_and_parents_in_a_month_follow_the_links_valid_then(wh_filled):
    assert read.members_in(wh_filled, "N1", "2025-01") == ["A", "B", "D"]
    assert read.members_in(wh_filled, "N2", "2025-01") == ["C"]
    assert read.members_in(wh_filled, "N2", "2025-02") == ["C", "D", "Z"]  # Z from the 15th
    assert read.parents_in(wh_filled, ["D", "Z", "S"], "2025-01") == {"D": "N1"}
    assert read.parents_in(wh_filled, ["D", "Z", "N1"], "2025-03") == {
        "D": "N2", "Z": "N2", "N1": "P"}
    # the same answer as the mart's roll-up gives, month by month
    codes = sorted(set(LINKS["child_code"]))
    for month in ("2025-01", "2025-02", "2025-03"):
        keys = pd.DataFrame({"org_code": codes, "period": month})
        rolled = assign_parents(keys, LINKS, child_col="org_code")
        assert read.parents_in(wh_filled, codes, month) == dict(
            zip(rolled["org_code"], rolled["parent_code"], strict=True))


def test_series_is_suppressed_at_the_exit(wh_filled):
    series = read.kpi_series(wh_filled, K, "A")
    assert series["period"].tolist() == ["2025-01", "2025-02", "2025-03"]
    # 3 of 100 hidden with its value and limits; 0 and 8 shown
    assert _values(series, "numerator") == [None, 0.0, 8.0]
    assert _values(series, "denominator") == [100.0, 100.0, 100.0]
    assert _values(series, "value") == [None, 0.0, 8.0]
    for column in ("lower_95", "upper_95", "lower_998", "upper_998"):
        assert pd.isna(series[column].iloc[0]) and series[column].iloc[1:].notna().all()
    assert series["suppressed"].tolist() == [True, False, False]
    # the series' SPC centre and limits are not built on one month's count: they stay
    assert series["spc_mean"].tolist() == [50.0] * 3
    raw = read.kpi_series(wh_filled, K, "A", suppress=False)
    assert _values(raw, "numerator") == [3.0, 0.0, 8.0] and raw["value"].iloc[0] == 3.0
    b = read.kpi_series(wh_filled, K, "B")
    # 7 hidden; a denominator of 5 hides itself and the value, the numerator 45 stays
    assert _values(b, "numerator") == [40.0, None, 45.0]
    assert _values(b, "denominator") == [50.0, 60.0, None]
    assert _values(b, "value") == [80.0, None, None]
    flagged = read.kpi_series(wh_filled, "ea_rate", "B")
    assert _values(flagged, "numerator") == [None] and _values(flagged, "denominator") == [None]
    assert flagged["suppressed"].tolist() == [True]


def test_csv_frame_writes_a_star_in_hidden_cells_only(wh_filled):
    out = read.csv_frame(read.kpi_series(wh_filled, K, "B"))
    assert out["numerator"].tolist() == [40.0, "*", 45.0]
    assert out["denominator"].tolist() == [50.0, 60.0, "*"]
    assert out["value"].tolist() == [80.0, "*", "*"]
    assert out["upper_998"].tolist() == [82.0, "*", "*"]
    assert out["spc_mean"].tolist() == [50.0] * 3


def test_one_kpi_month_for_a_level_and_for_one_parent(wh_filled):
    every = read.kpi_month(wh_filled, K, "2025-02", "practice")
    assert every["org_code"].tolist() == ["A", "B", "C", "D"]
    assert every["org_name"].tolist() == ["Alpha", "Bravo", "Charlie", "Delta"]
    # D belongs to N2 from February
    assert every["parent_code"].tolist() == ["N1", "N1", "N2", "N2"]
    assert _values(every, "numerator") == [0.0, None, 30.0, 25.0]
    north_jan = read.kpi_month(wh_filled, K, "2025-01", "practice", parent_code="N1")
    assert north_jan["org_code"].tolist() == ["A", "B", "D"]
    south_feb = read.kpi_month(wh_filled, K, "2025-02", "practice", parent_code="N2")
    assert south_feb["org_code"].tolist() == ["C", "D"]
    assert read.kpi_month(wh_filled, K, "2025-02", "network")["org_code"].tolist() == [
        "N1", "N2"]


@pytest.mark.parametrize("batch", [900, 2])
def test_every_kpi_of_a_set_of_practices_in_one_month(wh_filled, monkeypatch, batch):
    monkeypatch.setattr(read, "IN_BATCH", batch)  # 2: three codes take two reads, one answer
    rows = read.orgs_month(wh_filled, ["D", "A", "B"], [K, "ea_rate", E], "2025-02")
    assert rows[["kpi_id", "org_code"]].values.tolist() == [
        [K, "A"], [K, "B"], [K, "D"], ["ea_rate", "A"], ["ea_rate", "B"]]
    # B's 7 and the mart's flag on B's ea_rate are hidden on the way out
    assert _values(rows, "value") == [0.0, None, 100 * 25 / 40, 100 * 12 / 1000, None]
    assert rows["suppressed"].tolist() == [False, True, False, False, True]
    assert rows["org_name"].tolist() == ["Alpha", "Bravo", "Delta", "Alpha", "Bravo"]


def test_network_matrix_holds_that_months_practices_the_network_and_its_area(wh_filled):
    jan = read.network_matrix(wh_filled, "N1", "2025-01")
    assert jan[["row_kind", "org_code"]].drop_duplicates().values.tolist() == [
        ["practice", "A"], ["practice", "B"], ["practice", "D"]]
    feb = read.network_matrix(wh_filled, "N1", "2025-02")
    assert feb[["row_kind", "org_code", "kpi_id"]].values.tolist() == [
        ["area", "P", K], ["network", "N1", K], ["network", "N1", "ea_rate"],
        ["practice", "A", K], ["practice", "A", "ea_rate"],
        ["practice", "B", K], ["practice", "B", "ea_rate"]]
    assert _values(feb, "value") == [100 * 62 / 260, None, 1.0, 0.0, 1.2, None, None]
    assert feb["org_name"].iloc[0] == "Place"
    south = read.network_matrix(wh_filled, "N2", "2025-02")
    assert south.loc[south["row_kind"] == "practice", "org_code"].tolist() == ["C", "D"]


def test_one_organisations_month_and_every_kpi(wh_filled):
    rows = read.org_month(wh_filled, "N1", "2025-03")
    assert rows["kpi_id"].tolist() == [K, E]
    assert rows["provisional"].tolist() == [True, False]
    assert rows["provisional_reason"].iloc[0] == "practice B has not submitted"
    elements = read.kpi_elements(wh_filled, K, "N1", "2025-03")
    assert elements[["kpi_id", "element"]].values.tolist() == [[E, "hba1c"]]
    assert elements["value"].tolist() == [pytest.approx(100 * 100 / 120)]
    assert read.kpi_elements(wh_filled, "ea_rate", "N1", "2025-03").empty
    latest = read.org_kpis(wh_filled, "N1")
    assert latest[["kpi_id", "period"]].values.tolist() == [
        [K, "2025-03"], [K, "2025-02"], [E, "2025-03"], ["ea_rate", "2025-02"]]


def test_months_and_latest_months(wh_filled):
    assert read.months(wh_filled, kpi_id=K) == ["2025-01", "2025-02", "2025-03"]
    assert read.months(wh_filled, org_code="N2") == ["2025-02", "2025-03", "2025-04"]
    assert read.months(wh_filled, kpi_id=K, org_code="C") == ["2025-02"]
    with pytest.raises(ValueError, match="needs a kpi_id"):
        read.months(wh_filled)
    assert read.latest_months(wh_filled, [K, E, "ea_rate", "dtoc_rate"]) == {
        K: "2025-03", E: "2025-03", "ea_rate": "2025-04"}
    assert read.latest_month(wh_filled) == "2025-04"
    cover = read.kpi_coverage(wh_filled)
    # whether each KPI has a value each month (1) or only rows without one (0)
    assert cover.values.tolist() == [
        [K, "month", "2025-01", 1], [K, "month", "2025-02", 1], [K, "month", "2025-03", 1],
        [E, "month", "2025-03", 1], ["ea_rate", "month", "2025-02", 1],
        ["ea_rate", "month", "2025-04", 1], ["reablement_home_91", "month", "2025-03", 0]]


def test_loads_refusals_and_feed_freshness(wh_filled):
    loads = read.recent_loads(wh_filled, limit=3)
    assert loads["load_id"].tolist() == [5, 4, 3]
    refused = read.refused_loads(wh_filled)
    assert refused["file_name"].tolist() == ["spells_2025-03.csv", "junk.xlsx"]
    assert refused["error_summary"].iloc[0] == (
        "spells_2025-03.csv row 4, column 'age': not a number")
    fresh = read.feed_freshness(wh_filled)
    assert fresh["feed"].tolist() == ["care_packages", "population", "spells"]
    assert fresh["load_id"].tolist() == [3, 1, 5]
    assert fresh["latest_period"].tolist() == ["2025-03", "2025-03", "2025-03"]
    finished = pd.to_datetime(fresh["finished_at"], utc=True).dt.day.tolist()
    assert finished == [3, 1, 5]


def test_practices_missing_a_month_of_a_feed_every_practice_submits(wh_filled):
    missing = read.missing_submissions(wh_filled, last_months=2)
    # Z opened mid-February, so is expected from February; spells' months are February and
    # March (its admission months), and a practice with no spell rows in one is listed too
    got = missing[["feed", "period", "practice_code"]].values.tolist()
    assert got == [
        ["care_packages", "2025-02", "Z"], ["care_packages", "2025-03", "B"],
        ["care_packages", "2025-03", "Z"],
        ["population", "2025-02", "Z"], ["population", "2025-03", "B"],
        ["spells", "2025-02", "B"], ["spells", "2025-02", "C"], ["spells", "2025-02", "Z"],
        ["spells", "2025-03", "A"], ["spells", "2025-03", "B"], ["spells", "2025-03", "D"],
        ["spells", "2025-03", "Z"],
    ]
    assert missing.loc[missing["practice_code"] == "B", "parent_code"].unique().tolist() == [
        "N1"]
    assert read.missing_submissions(wh_filled, last_months=1)["period"].unique().tolist() == [
        "2025-03"]
    assert read.practice_feed_months(wh_filled, "B") == {
        "population": "2025-02", "care_packages": "2025-02", "spells": None}


def test_provisional_months_and_annotations(wh_filled):
    prov = read.provisional_months(wh_filled, "P")
    assert prov.values.tolist() == [[K, "month", "2025-03", "practice B has not submitted"]]
    assert read.provisional_months(wh_filled, "N2").empty
    notes = read.annotations(wh_filled, "N1", K)
    assert notes[["period", "text", "rebase"]].values.tolist() == [
        ["2025-02", "team started", True], ["2025-03", "new system", False]]
    assert read.annotations(wh_filled, "N1", "ea_rate")["text"].tolist() == ["new system"]


def test_breakdowns_from_the_facts(wh_filled):
    # the place has its own February return, but its networks' rows come first (10+20, 5)
    reasons = read.delay_reasons(wh_filled, "P", "2025-02")
    assert reasons["reason_code"].tolist() == ["a", "b"]
    assert _values(reasons, "delayed_days") == [30.0, None]  # 5 days is small
    assert reasons["suppressed"].tolist() == [False, True]
    # March: no network rows, so the place's own return
    march = read.delay_reasons(wh_filled, "P", "2025-03")
    assert march[["reason_code", "delayed_days"]].values.tolist() == [["a", 44.0]]
    every_month = read.delay_reasons(wh_filled, "N1")
    assert every_month["period"].tolist() == ["2025-02", "2025-02"]
    who = read.delay_responsibility(wh_filled, "P", "2025-02")
    assert who["delayed_days_nhs"].tolist() == [42.0]
    assert pd.isna(who["delayed_days_social_care"].iloc[0])  # 3 is small
    assert who["delayed_days_both"].tolist() == [9.0]
    assert who["suppressed"].tolist() == [True]
    # N2's February practices are C and D (D moved in): age band x sex sums, 1-7 hidden
    ages = read.spell_breakdown(wh_filled, "N2", "2025-02")
    assert ages[["age_band", "sex"]].values.tolist() == [["65_69", "F"]]
    assert ages["admissions"].tolist() == [9.0] and pd.isna(ages["emergency_admissions"].iloc[0])
    north = read.spell_breakdown(wh_filled, "N1", "2025-02")
    assert north[["age_band", "sex"]].values.tolist() == [["0_4", "F"], ["65_69", "F"],
                                                          ["65_69", "M"]]
    assert _values(north, "admissions") == [0.0, 10.0, None]
    assert read.spell_breakdown(wh_filled, "S", "2025-02")["admissions"].tolist()[1] == 19.0


def test_payment_status_of_one_network_at_quarter_end(wh_filled):
    terms = PaymentTerms(terms=(PackageTerms(kpi_id=K, budget=1000.0),))
    view = read.payment_status(wh_filled, terms, network_code="N1")
    # March closes 2024/25 Q4: N1 90/120 = 75% reaches the 75% target, earning the quarter
    assert view[["org_code", "kpi_id", "year", "quarter"]].values.tolist() == [
        ["N1", K, "2024/25", 4]]
    assert view["value"].tolist() == [75.0] and view["share_earned"].tolist() == [1.0]
    assert view["earned_to_date"].tolist() == [pytest.approx(1000 * 0.3 / 4)]
    both = read.payment_status(wh_filled, terms)
    assert both["org_code"].tolist() == ["N1", "N2"]
    assert both["share_earned"].tolist() == [1.0, 0.0]  # N2: 60% misses


def test_export_writes_the_read_sides_rows_with_stars(wh_filled, tmp_path):
    out = tmp_path / "export.csv"
    assert export_mart(wh_filled, out, kpi_id=K, level="practice") == 9
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame.columns) == [*EXPORT_COLUMNS, "form", "carried_forward"]
    assert EXPORT_COLUMNS[-2:] == ["suppressed", "provisional_reason"]
    a = frame[frame["org_code"] == "A"]
    assert a["numerator"].tolist() == ["*", "0.0", "8.0"]
    assert a["value"].tolist() == ["*", "0.0", "8.0"]
    assert a["suppressed"].tolist() == ["True", "False", "False"]
    raw = tmp_path / "raw.csv"
    export_mart(wh_filled, raw, kpi_id=K, level="practice", suppress=False)
    raw_frame = pd.read_csv(raw, dtype=str, keep_default_na=False)
    assert raw_frame.loc[raw_frame["org_code"] == "A", "numerator"].tolist() == [
        "3.0", "0.0", "8.0"]
    net = tmp_path / "net.csv"
    export_mart(wh_filled, net, kpi_id=K, level="network", from_month="2025-03")
    shown = pd.read_csv(net, dtype=str, keep_default_na=False)
    assert shown["provisional_reason"].tolist() == ["practice B has not submitted", ""]
    assert np.array_equal(shown["org_code"], ["N1", "N2"])
