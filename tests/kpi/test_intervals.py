"""Wilson, Byar/exact Poisson, rate and mean intervals against independent calculations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from kpi.intervals import byar, mean_interval, rate_interval, wilson

LEVELS = [0.95, 0.998]


def wilson_by_textbook(x: float, n: float, confidence: float) -> tuple[float, float]:
    """Wilson (1927) in its centre ± half-width form, a different algebra from the module's."""
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def exact_poisson_by_root(o: int, confidence: float) -> tuple[float, float]:
    """Exact Poisson limits found by solving the Poisson tail equations (no chi-squared)."""
    tail = (1 - confidence) / 2
    top = 10 * o + 50
    lower = 0.0
    if o > 0:
        lower = optimize.brentq(lambda m: stats.poisson.sf(o - 1, m) - tail, 1e-9, top)
    upper = optimize.brentq(lambda m: stats.poisson.cdf(o, m) - tail, 1e-9, top)
    return lower, upper


@pytest.mark.parametrize("confidence", LEVELS)
@pytest.mark.parametrize(
    ("x", "n"), [(65, 100), (1045, 5000), (0, 20), (20, 20), (1, 3), (7, 12000)]
)
def test_wilson_matches_closed_formula(x, n, confidence):
    lower, upper = wilson(x, n, confidence)
    expected = wilson_by_textbook(x, n, confidence)
    assert lower == pytest.approx(expected[0], abs=1e-12)
    assert upper == pytest.approx(expected[1], abs=1e-12)


def test_wilson_is_not_clopper_pearson():
    lower, upper = wilson(65, 100)
    cp_lower = stats.beta.ppf(0.025, 65, 36)
    cp_upper = stats.beta.ppf(0.975, 66, 35)
    assert abs(lower - cp_lower) > 1e-3 and abs(upper - cp_upper) > 1e-3


def test_wilson_vectorised_with_zero_denominator_and_series_index():
    numerators = pd.Series([65, 0, 3], index=["A", "B", "C"])
    denominators = pd.Series([100, 0, 9], index=["A", "B", "C"])
    lower, upper = wilson(numerators, denominators, 0.998)
    assert list(lower.index) == ["A", "B", "C"]
    assert math.isnan(lower["B"]) and math.isnan(upper["B"])
    expected = wilson_by_textbook(3, 9, 0.998)
    assert (lower["C"], upper["C"]) == pytest.approx(expected, abs=1e-12)
    arr_lower, _ = wilson(np.array([65, 3]), np.array([100, 9]))
    assert isinstance(arr_lower, np.ndarray) and arr_lower.shape == (2,)


@pytest.mark.parametrize(("x", "n"), [(-1, 10), (11, 10)])
def test_wilson_rejects_impossible_counts(x, n):
    with pytest.raises(ValueError):
        wilson(x, n)


@pytest.mark.parametrize("confidence", LEVELS)
@pytest.mark.parametrize("o", range(0, 10))
def test_counts_under_ten_use_exact_poisson(o, confidence):
    lower, upper = byar(o, confidence)
    expected = exact_poisson_by_root(o, confidence)
    assert lower == pytest.approx(expected[0], rel=1e-7, abs=1e-9)
    assert upper == pytest.approx(expected[1], rel=1e-7)


@pytest.mark.parametrize("confidence", LEVELS)
@pytest.mark.parametrize("o", [10, 11, 25, 65, 1045, 20000])
def test_counts_of_ten_or_more_use_byars_formula(o, confidence):
    z = stats.norm.ppf(0.5 + confidence / 2)
    lower, upper = byar(o, confidence)
    assert lower == pytest.approx(o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3, rel=1e-12)
    assert upper == pytest.approx(
        (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3, rel=1e-12
    )


@pytest.mark.parametrize("o", [10, 12, 20, 50, 100, 1000])
def test_byar_within_published_accuracy_of_exact(o):
    """PHE Technical Guide, Confidence Intervals (25 May 2018), Appendix 1: for 95% intervals
    Byar's method is within 0.2% of the exact value for numerators of 10 or more."""
    lower, upper = byar(o, 0.95)
    exact = exact_poisson_by_root(o, 0.95)
    assert abs(lower - exact[0]) / exact[0] < 0.002
    assert abs(upper - exact[1]) / exact[1] < 0.002


def test_byar_rejects_negative_counts():
    with pytest.raises(ValueError):
        byar(np.array([3, -1]))


def test_rate_interval_divides_count_limits_by_denominator():
    counts = pd.Series([65, 4, 3], index=["P1", "P2", "P3"])
    lists = pd.Series([7000, 2500, 0], index=["P1", "P2", "P3"])
    lower, upper = rate_interval(counts, lists, multiplier=1000, confidence=0.95)
    exact = exact_poisson_by_root(4, 0.95)
    assert lower["P2"] == pytest.approx(exact[0] / 2500 * 1000, rel=1e-7)
    assert upper["P2"] == pytest.approx(exact[1] / 2500 * 1000, rel=1e-7)
    byar_lower, _ = byar(65)
    assert lower["P1"] == pytest.approx(byar_lower / 7000 * 1000, rel=1e-12)
    assert math.isnan(lower["P3"]) and math.isnan(upper["P3"])


@pytest.mark.parametrize("confidence", LEVELS)
def test_mean_interval_matches_t_interval_on_raw_values(confidence):
    stays = np.array([0, 0, 1, 2, 2, 3, 5, 8, 13, 21, 4, 6])
    lower, upper = mean_interval(stays.sum(), (stays**2).sum(), len(stays), confidence)
    expected = stats.t.interval(
        confidence, len(stays) - 1, loc=stays.mean(), scale=stats.sem(stays)
    )
    assert (lower, upper) == pytest.approx(expected, rel=1e-10)


def test_mean_interval_needs_two_values():
    lower, upper = mean_interval(np.array([5.0, 9.0]), np.array([25.0, 41.0]), np.array([1, 2]))
    assert math.isnan(lower[0]) and math.isnan(upper[0])
    assert lower[1] < 4.5 < upper[1]


def test_confidence_must_be_a_proportion():
    with pytest.raises(ValueError):
        wilson(1, 2, confidence=95)
