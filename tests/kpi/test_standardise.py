"""Indirectly standardised ratios, checked against a hand-worked example."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import chi2

from kpi.standardise import (
    expected_events,
    indirectly_standardise,
    reference_rates,
    standardised_ratio,
)

Z95 = 1.959963984540054

# Two practices, two strata (women and men aged 65-69).
EVENTS = pd.DataFrame(
    [("X", "F", "65_69", 4), ("X", "M", "65_69", 4),
     ("Y", "F", "65_69", 6), ("Y", "M", "65_69", 26)],
    columns=["org_code", "sex", "age_band", "events"],
)
POPULATION = pd.DataFrame(
    [("X", "F", "65_69", 200), ("X", "M", "65_69", 100),
     ("Y", "F", "65_69", 800), ("Y", "M", "65_69", 900)],
    columns=["org_code", "sex", "age_band", "patients"],
)


def test_hand_worked_example():
    # Area rates: women 10/1000 = 0.01, men 30/1000 = 0.03.
    # Expected X = 200 x 0.01 + 100 x 0.03 = 5; observed 8 -> ratio 160.
    # Expected Y = 800 x 0.01 + 900 x 0.03 = 35; observed 32 -> ratio 91.43.
    got = indirectly_standardise(EVENTS, POPULATION)
    assert got.loc["X", "expected"] == pytest.approx(5.0)
    assert got.loc["Y", "expected"] == pytest.approx(35.0)
    assert got.loc["X", "ratio"] == pytest.approx(160.0)
    assert got.loc["Y", "ratio"] == pytest.approx(3200 / 35)
    # Internally standardised: expected adds up to observed over the area.
    assert got["expected"].sum() == pytest.approx(got["observed"].sum())

    # X: 8 events, under 10 -> exact Poisson limits (chi-squared), / expected x 100.
    assert got.loc["X", "lower_95"] == pytest.approx(chi2.ppf(0.025, 16) / 2 / 5 * 100)
    assert got.loc["X", "upper_95"] == pytest.approx(chi2.ppf(0.975, 18) / 2 / 5 * 100)
    assert got.loc["X", "lower_95"] == pytest.approx(3.4538 / 5 * 100, abs=0.01)  # tables: 3.45
    # Y: 32 events -> Byar's approximation, written out.
    o = 32
    lower = o * (1 - 1 / (9 * o) - Z95 / (3 * math.sqrt(o))) ** 3
    upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + Z95 / (3 * math.sqrt(o + 1))) ** 3
    assert got.loc["Y", "lower_95"] == pytest.approx(lower / 35 * 100)
    assert got.loc["Y", "upper_95"] == pytest.approx(upper / 35 * 100)
    assert got.loc["Y", "lower_998"] < got.loc["Y", "lower_95"]


def test_external_reference_rates():
    # England-like reference: women 0.02, men 0.02 -> expected X = 300 x 0.02 = 6.
    rates = reference_rates(
        pd.DataFrame({"sex": ["F", "M"], "age_band": ["65_69"] * 2, "events": [200, 400]}),
        pd.DataFrame({"sex": ["F", "M"], "age_band": ["65_69"] * 2, "patients": [10000, 20000]}),
    )
    assert rates["rate"].tolist() == pytest.approx([0.02, 0.02])
    got = indirectly_standardise(EVENTS, POPULATION, rates=rates)
    assert got.loc["X", "ratio"] == pytest.approx(8 / 6 * 100)


def test_zero_events_and_missing_rates():
    exp = expected_events(POPULATION, reference_rates(EVENTS, POPULATION))
    out = standardised_ratio(pd.Series({"X": 0}), exp)
    assert out.loc["X", "ratio"] == 0 and out.loc["X", "lower_95"] == 0
    assert out.loc["Y", "observed"] == 0  # no events row: zero observed
    pop = pd.concat([POPULATION, pd.DataFrame(
        [("X", "F", "70_74", 10)], columns=POPULATION.columns)])
    with pytest.raises(ValueError, match="70_74"):
        expected_events(pop, reference_rates(EVENTS, POPULATION))


def test_total_rows_are_refused():
    pop = pd.concat([POPULATION, pd.DataFrame(
        [("X", "ALL", "ALL", 300)], columns=POPULATION.columns)])
    with pytest.raises(ValueError, match="ALL"):
        indirectly_standardise(EVENTS, pop)
