"""Recent-trend markers for tables and tiles: is the KPI rising or falling over its last 5 points?

Method: OHID Fingertips, *Public health technical guidance*, "Fingertips trend markers"
(fingertips.phe.org.uk/static-reports/public-health-technical-guidance/Presentation/
Trend_markers.html), the "recent trend" calculated from the most recent five values:

* proportions: chi-squared test for trend in proportions (Cochran-Armitage form) on the
  numerators and denominators, time points scored 1 to 5;
* every other type (our rates): weighted least-squares slope of the values on time, weights
  1/SE², with SE taken from the values' 95% confidence intervals (here the Byar / exact
  Poisson interval of kpi.intervals), χ² = slope² / var(slope);
* one degree of freedom; significant when p < 0.002 (kpis.md: "significant at p = 0.002").

Fingertips applies the test only to annual, non-overlapping periods; carekpi applies it to
monthly values as a screening marker, as kpis.md asks. The marker is "increasing",
"decreasing", "no_significant_change" or "cannot_be_calculated" (fewer than 5 points, a
missing or zero denominator, or no variation to test: every numerator 0 or every one equal
to its denominator).

`trend_frame` gives the marker of every row of a long frame at once (what the mart stores);
`recent_trend` is the same for one series. See docs/methods/trend.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from kpi.grouped import back, check_constant, floats, kinds, shift, sorted_rows
from kpi.intervals import rate_interval, z_value

__all__ = ["recent_trend", "recent_trends", "trend_frame", "trend_test"]

POINTS = 5  # Fingertips: the most recent five values
SIGNIFICANCE = 0.002  # kpis.md: significant at p = 0.002

Marker = Literal["increasing", "decreasing", "no_significant_change", "cannot_be_calculated"]


def trend_frame(
    frame: pd.DataFrame,
    *,
    by: list[str],
    order: str = "period",
    numerator: str,
    denominator: str,
    kind: pd.Series | str,
    points: int = POINTS,
    significance: float = SIGNIFICANCE,
) -> pd.Series:
    """Every row's recent-trend marker over its last ``points`` rows (the row and the ones
    before it in its group): what the mart stores.

    The window is counted in rows, as recent_trend counts values: a month with no row is not
    a gap. kind ("proportion" or "rate") may vary by row but must be constant within a group.

    Returns:
        A Series on ``frame.index`` named trend: increasing, decreasing,
        no_significant_change or cannot_be_calculated (fewer than ``points`` rows so far, a
        missing numerator or denominator or a denominator of 0 in the window, or, for a
        proportion, every numerator 0 or each equal to its denominator).
    """
    rows, group = sorted_rows(frame, by, order)
    o, n = floats(frame, numerator)[rows], floats(frame, denominator)[rows]
    proportion = kinds(kind, frame)[rows]
    check_constant(proportion, group, "kind")
    first = np.r_[True, group[1:] != group[:-1]] if len(group) else np.zeros(0, dtype=bool)
    starts = np.flatnonzero(first)
    pos = np.arange(len(group)) - starts[np.cumsum(first) - 1]
    usable = ~np.isnan(o) & ~np.isnan(n) & (n > 0)

    full = pos >= points - 1
    for k in range(1, points):  # every point of the window usable
        full &= shift(usable, k, False)
    full &= usable
    chi_squared, sign = np.full(len(group), np.nan), np.full(len(group), np.nan)
    no_variation = np.zeros(len(group), dtype=bool)
    for is_proportion in (True, False):
        # a group is one kind, so each kind's rows hold whole windows
        rows_of_kind = proportion == is_proportion
        if rows_of_kind.any():
            test = _armitage_windows if is_proportion else _weighted_slope_windows
            chi, slope, flat = test(o[rows_of_kind], n[rows_of_kind], usable[rows_of_kind],
                                    points)
            chi_squared[rows_of_kind], sign[rows_of_kind] = chi, slope
            no_variation[rows_of_kind] = flat
    calculable = full & ~no_variation
    p_value = np.full(len(group), np.nan)
    p_value[calculable] = stats.chi2.sf(chi_squared[calculable], df=1)
    marker = np.where(~calculable, "cannot_be_calculated",
                      np.where(p_value >= significance, "no_significant_change",
                               np.where(sign > 0, "increasing", "decreasing")))
    return back(marker, rows, frame.index).rename("trend")


def _window_sum(terms: Iterable[np.ndarray], size: int) -> np.ndarray:
    """Σ of a window's terms in window order: numpy sums a handful of values one after
    another from 0, so this equals ``.sum()`` on each window bit for bit."""
    out = np.zeros(size)
    for term in terms:
        out += term
    return out


def _window(a: np.ndarray, points: int) -> Iterator[tuple[float, np.ndarray]]:
    """(x, values) for each point of every row's window: x = 1 the oldest, ``points`` the row."""
    for k in range(points):
        yield float(k + 1), shift(a, points - 1 - k, np.nan)


def _armitage_windows(o: np.ndarray, n: np.ndarray, usable: np.ndarray, points: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cochran-Armitage chi-squared, its signed numerator, and "no variation to test" (every
    numerator 0 or each equal to its denominator) of every window, as
    Fingertips computes them."""
    size = len(o)
    with np.errstate(invalid="ignore", divide="ignore"):
        o_sum = _window_sum((ok for _, ok in _window(o, points)), size)
        n_sum = _window_sum((nk for _, nk in _window(n, points)), size)
        p = o_sum / n_sum
        nx_sum = _window_sum((nk * x for x, nk in _window(n, points)), size)
        numerator = _window_sum((ok * x for x, ok in _window(o, points)), size) - p * nx_sum
        spread = (_window_sum((nk * x**2 for x, nk in _window(n, points)), size)
                  - nx_sum**2 / n_sum)
        chi_squared = numerator**2 / (p * (1 - p) * spread)
    return chi_squared, numerator, (o_sum == 0) | (o_sum == n_sum)


def _weighted_slope_windows(o: np.ndarray, n: np.ndarray, usable: np.ndarray, points: int
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least-squares slope of rate on time (weights 1/SE², SE from the 95% Byar /
    exact Poisson interval) and its chi-squared for every window."""
    size = len(o)
    se = np.full(size, np.nan)
    lower, upper = rate_interval(o[usable], n[usable])
    se[usable] = (np.asarray(upper) - np.asarray(lower)) / (2 * z_value(0.95))
    with np.errstate(invalid="ignore", divide="ignore"):
        w, y = 1 / se**2, o / n
        w_sum = _window_sum((wk for _, wk in _window(w, points)), size)
        x_bar = _window_sum((wk * x for x, wk in _window(w, points)), size) / w_sum
        y_bar = _window_sum((wk * yk for (_, wk), (_, yk) in zip(
            _window(w, points), _window(y, points), strict=True)), size) / w_sum
        sxx = _window_sum((wk * (x - x_bar) ** 2 for x, wk in _window(w, points)), size)
        slope = _window_sum((wk * (x - x_bar) * (yk - y_bar) for (x, wk), (_, yk) in zip(
            _window(w, points), _window(y, points), strict=True)), size) / sxx
    return slope**2 * sxx, slope, np.zeros(size, dtype=bool)


def trend_test(
    numerators: Any, denominators: Any, kind: Literal["proportion", "rate"]
) -> tuple[float, float, float]:
    """Chi-squared for a linear trend over the given points (scored 1, 2, ...), its p-value
    on one degree of freedom, and the sign-carrying slope statistic."""
    o = np.asarray(numerators, dtype=float)
    n = np.asarray(denominators, dtype=float)
    usable = ~np.isnan(o) & ~np.isnan(n) & (n > 0)
    test = _armitage_windows if kind == "proportion" else _weighted_slope_windows
    chi_squared, slope, _ = test(o, n, usable, len(o))
    return (float(chi_squared[-1]), float(stats.chi2.sf(chi_squared[-1], df=1)),
            float(slope[-1]))


def recent_trend(
    numerators: Sequence[float] | np.ndarray | pd.Series,
    denominators: Sequence[float] | np.ndarray | pd.Series,
    kind: Literal["proportion", "rate"],
    *,
    points: int = POINTS,
    significance: float = SIGNIFICANCE,
) -> Marker:
    """The recent-trend marker of one series (oldest first) over its last ``points`` values
    (`trend_frame` on that series)."""
    if kind not in ("proportion", "rate"):
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    o = np.asarray(numerators, dtype=float)
    if len(o) == 0:
        return "cannot_be_calculated"
    series = pd.DataFrame({"series": 0, "period": np.arange(len(o)), "o": o,
                           "n": np.asarray(denominators, dtype=float)})
    markers = trend_frame(series, by=["series"], numerator="o", denominator="n", kind=kind,
                          points=points, significance=significance)
    return markers.iloc[-1]


def recent_trends(
    frame: pd.DataFrame,
    by: str | list[str],
    *,
    numerator: str,
    denominator: str,
    order: str,
    kind: Literal["proportion", "rate"],
    **options: Any,
) -> pd.Series:
    """The recent-trend marker for every group (e.g. organisation) of a long frame, at its
    last row in ``order``."""
    by = [by] if isinstance(by, str) else list(by)
    markers = trend_frame(frame, by=by, order=order, numerator=numerator,
                          denominator=denominator, kind=kind, **options)
    ordered = frame[by].assign(recent_trend=markers).loc[frame[order].sort_values().index]
    return ordered.groupby(by, sort=True)["recent_trend"].last()
