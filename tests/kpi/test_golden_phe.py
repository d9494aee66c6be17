"""kpi/ against every row of PHE's published worked examples (PHEindicatormethods' test data).

The files are read in place from the golden folder (tests/conftest.py `golden`; its SOURCES.md
names the publication and the package's tolerances): Byar and Wilson limits (1e-6 absolute),
indirectly standardised rates and ratios (1e-4), funnel limits and classes for proportions and
for ratios (1e-4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi.funnel import classify_funnel, funnel_limits, ratio_classes, ratio_funnel_limits
from kpi.intervals import byar, wilson
from kpi.standardise import (
    expected_events,
    indirectly_standardise,
    reference_rates,
    standardised_rate,
    standardised_ratio,
)

# PHE's significance labels and the funnel classes they mean.
SIGNIFICANCE = {"High (0.001)": "above_998", "High (0.025)": "above_95",
                "Low (0.001)": "below_998", "Low (0.025)": "below_95",
                "Not significant": "within"}
LEVELS = {"95%": 0.95, "99.8%": 0.998}


def sheet(path: Path, name: str) -> pd.DataFrame:
    """One worksheet as a frame: its first row the header, blank rows and columns dropped."""
    frame = pd.read_excel(path, sheet_name=name, engine="openpyxl")
    frame = frame.loc[:, [c for c in frame.columns if not str(c).startswith("Unnamed")]]
    return frame.dropna(how="all").reset_index(drop=True)


def csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, encoding="utf-8-sig")
    return frame.rename(columns=lambda c: c.strip())


# --- Byar and Wilson ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def intervals_table(golden) -> pd.DataFrame:
    return sheet(golden / "phe" / "testdata_Byars_Wilson.xlsx", "testdata_B_W")


def test_every_byar_row(intervals_table):
    rows = intervals_table[intervals_table["method"] == "Byars"]
    assert len(rows) == 7
    for row in rows.itertuples():
        # the worked examples test Byar's formula itself, small counts included
        lower, upper = byar(row.x, LEVELS[row.confidence], exact_below=0)
        assert np.isnan(row.lowercl) == np.isnan(lower), row  # below zero: no lower limit
        if not np.isnan(row.lowercl):
            assert lower == pytest.approx(row.lowercl, abs=1e-6), row
        assert upper == pytest.approx(row.uppercl, abs=1e-6), row


def test_every_wilson_row(intervals_table):
    rows = intervals_table[intervals_table["method"] == "Wilson"]
    assert len(rows) == 6
    for row in rows.itertuples():
        lower, upper = wilson(row.x, row.n, LEVELS[row.confidence])
        assert lower == pytest.approx(row.lowercl, abs=1e-6), row
        assert upper == pytest.approx(row.uppercl, abs=1e-6), row


# --- indirectly standardised rates and ratios ---------------------------------------------------


@pytest.fixture(scope="module")
def isr_book(golden) -> Path:
    return golden / "phe" / "testdata_DSR_ISR.xlsx"


def isr_results(book: Path) -> pd.DataFrame:
    results = sheet(book, "testresults_ISR")
    assert len(results) == 16
    return results


def reference(book: Path) -> pd.DataFrame:
    ref = sheet(book, "refdata").rename(columns={"Age Band": "age_band"})
    return reference_rates(ref.rename(columns={"refcount": "events"}),
                           ref.rename(columns={"refpop": "patients"}), by=["age_band"])


def areas(book: Path, name: str) -> pd.DataFrame:
    """An area x age band sheet as org_code, age_band, events, patients (bands by position
    where the sheet has no band column, as PHE's tests pass them)."""
    data = sheet(book, name)
    bands = sheet(book, "refdata")["Age Band"].tolist()
    if "ageband" not in data:
        data["ageband"] = np.tile(bands, len(data) // len(bands))
    return data.rename(columns={"area": "org_code", "ageband": "age_band", "count": "events",
                                "pop": "patients"})


@pytest.mark.parametrize("sheet_name, rows", [("testdata_multiarea_isr", slice(0, 12)),
                                              ("testdata_err2", slice(12, 16))])
def test_every_isr_row(isr_book, sheet_name, rows):
    """Rows 1-12: three areas' rates per 100,000 and 1,000 and ratios x1 and x100 against the
    reference sheet; rows 13-16: an area with a population of 0 in one band."""
    rates = reference(isr_book)
    data = areas(isr_book, sheet_name)
    ratios = indirectly_standardise(data, data, rates=rates, by=["age_band"])
    for row in isr_results(isr_book).iloc[rows].itertuples():
        got = ratios.loc[row.area]
        assert got["observed"] == row.observed
        assert got["expected"] == pytest.approx(row.expected, abs=1e-4)
        statistic = row.statistic
        if statistic.startswith("indirectly standardised rate"):
            multiplier = float(statistic.rsplit(" ", 1)[1])
            got = standardised_rate(ratios, rates, multiplier=multiplier).loc[row.area]
            value = got["rate"]
        else:
            scale = float(statistic.rsplit(" ", 1)[1]) / 100  # kpi gives ratios x 100
            value, got = got["ratio"] * scale, got.drop(["observed", "expected"]) * scale
        assert value == pytest.approx(row.value, abs=1e-4), row
        for column, want in (("lower_95", row.lower95_0cl), ("upper_95", row.upper95_0cl),
                             ("lower_998", row.lower99_8cl), ("upper_998", row.upper99_8cl)):
            if not pd.isna(want):
                assert got[column] == pytest.approx(want, abs=1e-4), (row, column)


def test_isr_expected_is_population_times_reference_rate(isr_book):
    """The one reference every ISR row shares: 835.88 expected events for the full bands."""
    rates = reference(isr_book)
    data = areas(isr_book, "testdata_multiarea_isr")
    expected = expected_events(data, rates, by=["age_band"])
    assert expected["testdata_big"] == pytest.approx(835.8835612311743, abs=1e-9)


# --- funnels ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proportion_inputs(golden) -> pd.DataFrame:
    return csv(golden / "phe" / "testdata_funnel_prop_inputs.csv")


def test_every_proportion_funnel_limit(golden, proportion_inputs):
    want = csv(golden / "phe" / "testdata_funnel_prop_outputs.csv")
    assert len(want) == 100
    centre = proportion_inputs["numerator"].sum() / proportion_inputs["denominator"].sum() * 100
    assert want["Baseline"].to_numpy() == pytest.approx(centre, abs=1e-4)
    got = funnel_limits(want["Population"], centre, kind="proportion", multiplier=100,
                        method="normal")
    for theirs, ours in (("Lower2s0025limit", "lower_95"), ("Upper2s0025limit", "upper_95"),
                         ("Lower3s0001limit", "lower_998"), ("Upper3s0001limit", "upper_998")):
        np.testing.assert_allclose(got[ours], want[theirs], rtol=0, atol=1e-4, err_msg=ours)


def test_every_proportion_funnel_class(proportion_inputs):
    classes = classify_funnel(proportion_inputs["numerator"], proportion_inputs["denominator"],
                              kind="proportion", multiplier=100, method="normal")
    want = proportion_inputs["significance"].map(SIGNIFICANCE)
    assert want.notna().all() and len(want) == 303
    assert classes.tolist() == want.tolist()


def test_every_ratio_funnel_limit(golden):
    want = csv(golden / "phe" / "testdata_funnel_ratio_outputs.csv")
    assert len(want) == 100
    got = ratio_funnel_limits(want["Observed_events"])
    for theirs, ours in (("lower_2s", "lower_95"), ("upper_2s", "upper_95"),
                         ("lower_3s", "lower_998"), ("upper_3s", "upper_998")):
        np.testing.assert_allclose(got[f"{ours}_expected"], want[f"{theirs}_exp_events"],
                                   rtol=1e-4, err_msg=ours)
        np.testing.assert_allclose(got[ours], want[f"{theirs}_isr"], rtol=1e-4, err_msg=ours)
        np.testing.assert_allclose(got[ours] / 100 - 1, want[f"{theirs}_count"], rtol=1e-4,
                                   err_msg=ours)


def test_every_ratio_funnel_class(golden):
    inputs = csv(golden / "phe" / "testdata_funnel_ratio_inputs.csv")
    ratios = standardised_ratio(inputs["obs"], inputs["expected"])
    want = inputs["significance"].map(SIGNIFICANCE)
    assert want.notna().all() and len(want) == 300
    assert ratio_classes(ratios).tolist() == want.tolist()
