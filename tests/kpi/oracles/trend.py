"""Test oracle for kpi.trend: the recent-trend marker of one series, from its last points.

Fingertips' recent trend as kpi/trend.py documents it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from kpi.intervals import rate_interval, z_value
from kpi.trend import POINTS, SIGNIFICANCE, Marker


def _proportion_trend(o: np.ndarray, n: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """Cochran-Armitage chi-squared for a linear trend in proportions, and its slope sign."""
    p = o.sum() / n.sum()
    numerator = (o * x).sum() - p * (n * x).sum()
    spread = (n * x**2).sum() - (n * x).sum() ** 2 / n.sum()
    return numerator**2 / (p * (1 - p) * spread), numerator


def _rate_trend(o: np.ndarray, n: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """Weighted least-squares slope of rate on time, with SE from the 95% interval."""
    lower, upper = rate_interval(o, n)
    se = (np.asarray(upper) - np.asarray(lower)) / (2 * z_value(0.95))
    w = 1 / se**2
    y = o / n
    x_bar = (w * x).sum() / w.sum()
    y_bar = (w * y).sum() / w.sum()
    sxx = (w * (x - x_bar) ** 2).sum()
    slope = (w * (x - x_bar) * (y - y_bar)).sum() / sxx
    return slope**2 * sxx, slope


def recent_trend(numerators: Sequence[float], denominators: Sequence[float], kind: str, *,
                 points: int = POINTS, significance: float = SIGNIFICANCE) -> Marker:
    """The marker from the series' last ``points`` values, tested one window at a time."""
    o = np.asarray(numerators, dtype=float)[-points:]
    n = np.asarray(denominators, dtype=float)[-points:]
    if len(o) < points or np.isnan(o).any() or np.isnan(n).any() or (n <= 0).any():
        return "cannot_be_calculated"
    if kind == "proportion" and (o.sum() == 0 or o.sum() == n.sum()):
        return "cannot_be_calculated"
    _, p_value, slope = trend_test(o, n, kind)
    if p_value >= significance:
        return "no_significant_change"
    return "increasing" if slope > 0 else "decreasing"


def trend_test(o: np.ndarray, n: np.ndarray, kind: str) -> tuple[float, float, float]:
    """Chi-squared on one degree of freedom, its p-value and the slope's sign-carrier."""
    x = np.arange(1, len(o) + 1, dtype=float)
    test = _proportion_trend if kind == "proportion" else _rate_trend
    chi_squared, slope = test(o, n, x)
    return float(chi_squared), float(stats.chi2.sf(chi_squared, df=1)), float(slope)
