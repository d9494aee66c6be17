"""Fingertips recent-trend markers against independent calculations of the trend tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kpi.trend import recent_trend, recent_trends, trend_test


def armitage_by_correlation(o, n):
    """Armitage's trend chi-squared equals N·r², r the correlation of outcome and time score
    over the N individuals (Armitage 1955), computed here on the expanded data."""
    outcome, score = [], []
    for t, (events, total) in enumerate(zip(o, n, strict=True), start=1):
        outcome += [1] * events + [0] * (total - events)
        score += [t] * total
    r = np.corrcoef(outcome, score)[0, 1]
    return len(outcome) * r**2


def wls_by_lstsq(o, n):
    """Weighted regression of rate on time by solving the normal equations directly."""
    from kpi.intervals import rate_interval

    lower, upper = rate_interval(np.asarray(o), np.asarray(n))
    se = (upper - lower) / (2 * stats.norm.ppf(0.975))
    design = np.column_stack([np.ones(len(o)), np.arange(1, len(o) + 1)])
    weights = np.diag(1 / se**2)
    information = design.T @ weights @ design
    beta = np.linalg.solve(information, design.T @ weights @ (np.asarray(o) / np.asarray(n)))
    variance = np.linalg.inv(information)[1, 1]
    return beta[1] ** 2 / variance, beta[1]


def test_proportion_chi_squared_matches_armitage_correlation_form():
    o, n = [30, 34, 41, 45, 52], [100, 100, 110, 105, 100]
    chi_squared, p_value, slope = trend_test(o, n, "proportion")
    assert chi_squared == pytest.approx(armitage_by_correlation(o, n), rel=1e-10)
    assert p_value == pytest.approx(stats.chi2.sf(chi_squared, 1))
    assert slope > 0


def test_rate_chi_squared_matches_weighted_regression():
    o, n = [120, 131, 150, 162, 181], [10000, 10100, 10050, 10200, 10150]
    chi_squared, _, slope = trend_test(o, n, "rate")
    expected_chi, expected_slope = wls_by_lstsq(o, n)
    assert chi_squared == pytest.approx(expected_chi, rel=1e-10)
    assert np.sign(slope) == np.sign(expected_slope)


@pytest.mark.parametrize(
    ("o", "n", "kind", "marker"),
    [
        ([300, 340, 410, 450, 520], [1000] * 5, "proportion", "increasing"),
        ([520, 450, 410, 340, 300], [1000] * 5, "proportion", "decreasing"),
        ([30, 34, 33, 35, 31], [100] * 5, "proportion", "no_significant_change"),
        ([120, 126, 119, 131, 128], [10000] * 5, "rate", "no_significant_change"),
        ([1200, 1310, 1500, 1620, 1810], [10000] * 5, "rate", "increasing"),
        ([1810, 1620, 1500, 1310, 1200], [10000] * 5, "rate", "decreasing"),
    ],
)
def test_markers(o, n, kind, marker):
    assert recent_trend(o, n, kind) == marker


def test_threshold_is_p_0002():
    o, n = [30, 34, 37, 40, 45], [100] * 5
    _, p_value, _ = trend_test(o, n, "proportion")
    assert 0.002 < p_value < 0.05  # significant at 5% but not at 0.2%
    assert recent_trend(o, n, "proportion") == "no_significant_change"
    assert recent_trend(o, n, "proportion", significance=0.05) == "increasing"


def test_only_the_last_five_points_count():
    o = [900, 100, 300, 340, 410, 450, 520]
    assert recent_trend(o, [1000] * 7, "proportion") == "increasing"


@pytest.mark.parametrize(
    ("o", "n"),
    [([1, 2, 3, 4], [10] * 4), ([1, 2, 3, 4, 5], [10, 10, 0, 10, 10]),
     ([0, 0, 0, 0, 0], [10] * 5), ([1, 2, np.nan, 4, 5], [10] * 5)],
)
def test_cannot_be_calculated(o, n):
    assert recent_trend(o, n, "proportion") == "cannot_be_calculated"


def test_per_organisation_helper():
    frame = pd.DataFrame({
        "org": ["A"] * 5 + ["B"] * 5 + ["C"] * 3,
        "month": list(range(5)) * 2 + list(range(3)),
        "num": [300, 340, 410, 450, 520, 520, 450, 410, 340, 300, 1, 2, 3],
        "den": [1000] * 13,
    }).sample(frac=1, random_state=1)
    markers = recent_trends(frame, "org", numerator="num", denominator="den", order="month",
                            kind="proportion")
    assert markers.to_dict() == {
        "A": "increasing", "B": "decreasing", "C": "cannot_be_calculated"}
