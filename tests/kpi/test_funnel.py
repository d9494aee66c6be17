"""Funnel limits and classes against exact binomial/Poisson quantiles computed here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kpi.funnel import classify_funnel, funnel_limits, overdispersion


def interpolated_limit(dist, n: float, p: float) -> float:
    """Spiegelhalter (2005) A.1.1, by walking the integers rather than calling ppf."""
    r = 0
    while dist.cdf(r) < p:
        r += 1
    below = dist.cdf(r - 1) if r > 0 else 0.0
    alpha = (dist.cdf(r) - p) / (dist.cdf(r) - below)
    return (r - alpha) / n


@pytest.mark.parametrize("n", [12, 57, 400, 2500])
@pytest.mark.parametrize("level", [0.95, 0.998])
def test_proportion_limits_are_interpolated_binomial_quantiles(n, level):
    theta = 0.75
    limits = funnel_limits(np.array([n]), theta * 100, kind="proportion", multiplier=100)
    label = "95" if level == 0.95 else "998"
    dist = stats.binom(n, theta)
    tail = (1 - level) / 2
    assert limits[f"lower_{label}"].iloc[0] == pytest.approx(
        100 * interpolated_limit(dist, n, tail), rel=1e-9)
    assert limits[f"upper_{label}"].iloc[0] == pytest.approx(
        100 * interpolated_limit(dist, n, 1 - tail), rel=1e-9)


@pytest.mark.parametrize("n", [300, 4000, 25000])
def test_rate_limits_are_interpolated_poisson_quantiles(n):
    rate = 12.0 / 1000
    limits = funnel_limits(pd.Series([n], index=["P"]), 12.0, kind="rate", multiplier=1000)
    dist = stats.poisson(n * rate)
    # a negative interpolated count (tiny expected counts) is floored at a rate of 0
    assert limits.loc["P", "lower_998"] == pytest.approx(
        1000 * max(0.0, interpolated_limit(dist, n, 0.001)), rel=1e-9)
    assert limits.loc["P", "upper_95"] == pytest.approx(
        1000 * interpolated_limit(dist, n, 0.975), rel=1e-9)
    assert limits.attrs["group_value"] == 12.0


def test_limits_narrow_towards_the_group_value():
    limits = funnel_limits(np.array([50, 500, 5000, 50000]), 30.0, kind="proportion",
                           multiplier=100)
    assert limits["upper_998"].is_monotonic_decreasing
    assert limits["lower_998"].is_monotonic_increasing
    assert (limits["lower_998"] < limits["lower_95"]).all()
    assert (limits["upper_95"] < limits["upper_998"]).all()


def test_units_placed_against_independent_exact_limits():
    n, theta = 1000, 0.6
    dist = stats.binom(n, theta)
    cut = {p: interpolated_limit(dist, n, p) * n for p in (0.001, 0.025, 0.975, 0.999)}
    numerators = pd.Series({
        "far_low": np.floor(cut[0.001]) - 1,
        "low": np.floor(cut[0.025]) - 1,
        "mid": n * theta,
        "high": np.ceil(cut[0.975]) + 1,
        "far_high": np.ceil(cut[0.999]) + 1,
        "empty": 0,
    })
    denominators = pd.Series({k: (n if k != "empty" else 0) for k in numerators.index})
    classes = classify_funnel(numerators, denominators, kind="proportion", group_value=theta)
    assert classes.to_dict() == {
        "far_low": "below_998", "low": "below_95", "mid": "within", "high": "above_95",
        "far_high": "above_998", "empty": None,
    }


def test_group_value_defaults_to_pooled_ratio_not_mean_of_ratios():
    classes = classify_funnel([1, 90], [10, 100], kind="proportion", multiplier=100)
    assert classes.attrs["group_value"] == pytest.approx(91 / 110 * 100)


def overdispersed_practices(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lists = rng.integers(3000, 12000, size=80)
    true_rates = rng.gamma(shape=6, scale=0.012 / 6, size=80)  # between-practice variation
    return rng.poisson(lists * true_rates), lists


def test_overdispersion_reduces_outliers_on_an_overdispersed_set():
    counts, lists = overdispersed_practices()
    exact = classify_funnel(counts, lists, kind="rate", multiplier=1000)
    multiplicative = classify_funnel(counts, lists, kind="rate", multiplier=1000,
                                     overdispersion="multiplicative")
    additive = classify_funnel(counts, lists, kind="rate", multiplier=1000,
                               overdispersion="additive")
    outside = lambda c: int((c != "within").sum())  # noqa: E731
    assert outside(exact) > 40  # most practices outside: the case for adjusting
    assert outside(multiplicative) < outside(exact) / 2
    assert outside(additive) < outside(exact) / 2
    assert multiplicative.attrs["phi"] > 2 and additive.attrs["tau2"] > 0


def test_phi_is_mean_squared_winsorised_z_score():
    counts, lists = overdispersed_practices(3)
    theta = counts.sum() / lists.sum()
    z = (counts / lists - theta) / np.sqrt(theta / lists)
    z = np.clip(z, *np.quantile(z, [0.1, 0.9]))
    phi, tau2 = overdispersion(counts, lists, theta * 1000, kind="rate", multiplier=1000)
    assert phi == pytest.approx(np.mean(z**2), rel=1e-12)
    w = lists / theta
    assert tau2 == pytest.approx((80 * phi - 79) / (w.sum() - (w**2).sum() / w.sum()), rel=1e-12)


def test_no_excess_dispersion_means_no_adjustment():
    rng = np.random.default_rng(11)
    lists = rng.integers(3000, 12000, size=60)
    counts = rng.binomial(lists, 0.3)
    phi, tau2 = overdispersion(counts, lists, 30.0, kind="proportion", multiplier=100)
    assert phi < 1.5 and tau2 == 0.0


def test_overdispersion_needs_units():
    with pytest.raises(ValueError, match="units"):
        funnel_limits(np.array([100]), 0.5, kind="proportion", overdispersion="additive")
