"""Confidence intervals for KPI values: proportions, counts, rates and means.

The methods are those of Public Health England's (now OHID's) published indicator methods
(Fingertips public health technical guidance, "Confidence intervals", "Proportions", "Rates"
and "Means"; the same methods as the PHEindicatormethods R package):

* proportions: Wilson score interval (Wilson 1927; Newcombe and Altman 2000);
* counts: exact Poisson limits from chi-squared quantiles for counts under 10, Byar's
  approximation (Breslow and Day 1987) for counts of 10 or more;
* rates: the count's limits divided by the denominator;
* means: the t-distribution interval from the sum and sum of squares of the values.

Every function accepts scalars, numpy arrays or pandas Series (aligned positionally) and
returns the same kind: a Series keeps the index of the first Series argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["byar", "mean_interval", "rate_interval", "wilson", "z_value"]

# PHE technical guidance: "exact method for numerators < 10 and Byar's method for
# numerators >= 10" (PHE tool for common public health statistics and CIs, Feb 2018).
BYAR_MIN_COUNT = 10


def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile for a confidence level such as 0.95 or 0.998."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (0.95, 0.998), got {confidence!r}")
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def _template(*args: Any) -> Any:
    """The first argument that decides the shape of the result (a Series wins)."""
    for arg in args:
        if isinstance(arg, pd.Series):
            return arg
    for arg in args:
        if np.ndim(arg) > 0:
            return arg
    return args[0]


def _array(value: Any) -> np.ndarray:
    if isinstance(value, pd.Series):
        return pd.to_numeric(value, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(value, dtype=float)


def _like(result: np.ndarray, template: Any) -> Any:
    """Give ``result`` the type of ``template``: float, ndarray or Series with its index."""
    if isinstance(template, pd.Series):
        return pd.Series(np.broadcast_to(result, len(template)), index=template.index)
    if np.ndim(template) == 0 and np.ndim(result) == 0:
        return float(result)
    return np.asarray(result, dtype=float)


def wilson(numerator: Any, denominator: Any, confidence: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval for each proportion, as proportions between 0 and 1.

    lower, upper = (2O + z² ∓ z·sqrt(z² + 4Oq)) / (2(n + z²)), q = 1 − O/n.
    NaN where the denominator is 0 (or missing).

    Raises:
        ValueError: a numerator below 0 or above its denominator, or a negative denominator.
    """
    z = z_value(confidence)
    o, n = np.broadcast_arrays(_array(numerator), _array(denominator))
    with np.errstate(invalid="ignore", divide="ignore"):
        if np.any(o < 0) or np.any(n < 0):
            raise ValueError("numerators and denominators must be zero or more")
        if np.any(o > n):
            raise ValueError("numerators must not exceed their denominators")
        q = 1 - o / n
        root = z * np.sqrt(z**2 + 4 * o * q)
        lower = (2 * o + z**2 - root) / (2 * (n + z**2))
        upper = (2 * o + z**2 + root) / (2 * (n + z**2))
    empty = ~(n > 0)
    lower = np.where(empty, np.nan, np.clip(lower, 0, 1))
    upper = np.where(empty, np.nan, np.clip(upper, 0, 1))
    template = _template(numerator, denominator)
    return _like(lower, template), _like(upper, template)


def byar(count: Any, confidence: float = 0.95, *, exact_below: int = BYAR_MIN_COUNT
         ) -> tuple[Any, Any]:
    """Confidence limits for each observed count of events (Poisson).

    Counts under ``exact_below`` (10, PHE's rule for rates and ratios): exact limits
    χ²(α/2; 2O)/2 and χ²(1 − α/2; 2O + 2)/2 (lower 0 for O = 0). Other counts: Byar's
    approximation O·(1 − 1/(9O) − z/(3√O))³ and (O + 1)·(1 − 1/(9(O + 1)) + z/(3√(O + 1)))³.
    ``exact_below=0`` gives Byar's formula for every count, as PHE's worked examples test it;
    where that formula's lower limit falls below zero (a count of 1 at 99.8%) it is NaN, as
    PHEindicatormethods returns it.

    Raises:
        ValueError: a negative count.
    """
    z = z_value(confidence)
    alpha = 1 - confidence
    o = _array(count)
    if np.any(o < 0):
        raise ValueError("counts must be zero or more")
    with np.errstate(invalid="ignore", divide="ignore"):
        exact_lower = np.where(o > 0, stats.chi2.ppf(alpha / 2, 2 * o) / 2, 0.0)
        exact_upper = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
        byar_lower = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
        byar_upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * np.sqrt(o + 1))) ** 3
    byar_lower = np.where(byar_lower < 0, np.nan, byar_lower)
    small = o < exact_below
    lower = np.where(small, exact_lower, byar_lower)
    upper = np.where(small, exact_upper, byar_upper)
    missing = np.isnan(o)
    lower, upper = np.where(missing, np.nan, lower), np.where(missing, np.nan, upper)
    return _like(lower, count), _like(upper, count)


def rate_interval(
    count: Any, denominator: Any, multiplier: float = 1, confidence: float = 0.95
) -> tuple[Any, Any]:
    """Confidence limits for each rate count / denominator × multiplier (NaN if denominator 0)."""
    lower, upper, n = np.broadcast_arrays(*byar(_array(count), confidence), _array(denominator))
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(n > 0, multiplier / n, np.nan)
    template = _template(count, denominator)
    return _like(lower * scale, template), _like(upper * scale, template)


def mean_interval(total: Any, total_sq: Any, n: Any, confidence: float = 0.95) -> tuple[Any, Any]:
    """Confidence limits for each mean, from the sum and sum of squares of its n values.

    mean ± t(1 − α/2; n − 1) · s/√n with s² = (Σx² − (Σx)²/n)/(n − 1): PHE's method for means
    (normal theory, Student's t, which is the normal approximation for the sample sizes of a
    month's hospital spells). NaN where n < 2.
    """
    s, s2, m = np.broadcast_arrays(_array(total), _array(total_sq), _array(n))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / m
        # rounding can make the variance a hair negative when every value is equal
        variance = np.maximum((s2 - s**2 / m) / (m - 1), 0)
        half = stats.t.ppf(1 - (1 - confidence) / 2, m - 1) * np.sqrt(variance / m)
    valid = m >= 2
    lower = np.where(valid, mean - half, np.nan)
    upper = np.where(valid, mean + half, np.nan)
    z_value(confidence)  # validates the level
    template = _template(total, total_sq, n)
    return _like(lower, template), _like(upper, template)
