"""Independent calculation of every mart column beyond the counts: intervals, target, RAG,
suppression, provisional reasons, SPC (full chart and each month's verdicts), funnel classes and
recent trends.

Intervals, RAG and suppression are written here from their formulas (scipy quantiles); SPC,
funnel and trend use the single-series test oracles of tests/kpi/oracles (xmr, classify_funnel,
recent_trend) on each series or group, never the grouped path (kpi.spc.spc_frame and friends)
the mart uses.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy import stats

from kpi.catalogue import Kpi
from tests.kpi.oracles.funnel import classify_funnel
from tests.kpi.oracles.spc import xmr
from tests.kpi.oracles.trend import recent_trend

LEVELS = {"95": 0.95, "998": 0.998}
KIND = {"wilson": "proportion", "byar": "rate"}


def _z(level: float) -> float:
    return stats.norm.ppf(1 - (1 - level) / 2)


def intervals(o: np.ndarray, n: np.ndarray, sq: np.ndarray, kpi: Kpi,
              scale: float) -> dict[str, np.ndarray]:
    """lower_95 .. upper_998 from the formulas: Wilson; exact Poisson under 10 and Byar from 10
    (count limits over the denominator); the t interval of a mean from Σx and Σx²."""
    out = {}
    for suffix, level in LEVELS.items():
        z, alpha = _z(level), 1 - level
        with np.errstate(invalid="ignore", divide="ignore"):
            if kpi.interval == "wilson":
                p = o / n
                centre, half = o + z**2 / 2, z * np.sqrt(o * (1 - p) + z**2 / 4)
                lo, hi = (centre - half) / (n + z**2), (centre + half) / (n + z**2)
                lo, hi = np.clip(lo, 0, 1) * scale, np.clip(hi, 0, 1) * scale
            elif kpi.interval == "byar":
                exact_lo = np.where(o > 0, stats.chi2.ppf(alpha / 2, 2 * o) / 2, 0.0)
                exact_hi = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
                byar_lo = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
                byar_hi = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * np.sqrt(o + 1))) ** 3
                lo = np.where(o < 10, exact_lo, byar_lo) / n * scale
                hi = np.where(o < 10, exact_hi, byar_hi) / n * scale
            else:
                mean = o / n
                sd = np.sqrt(np.maximum((sq - o**2 / n) / (n - 1), 0))
                half = stats.t.ppf(1 - alpha / 2, n - 1) * sd / np.sqrt(n)
                lo, hi = mean - half, mean + half
        bad = np.isnan(o) | ~(n > 0)
        out[f"lower_{suffix}"] = np.where(bad, np.nan, lo)
        out[f"upper_{suffix}"] = np.where(bad, np.nan, hi)
    return out


def rag(value: pd.Series, target: pd.Series, polarity: str, tolerance: float = 0.05) -> pd.Series:
    """green at or better than the target, amber within 5% of it, red beyond."""
    short = (target - value) if polarity == "higher" else (value - target)
    status = np.where(short <= 1e-9, "green",
                      np.where(short <= tolerance * target.abs() + 1e-9, "amber", "red"))
    return pd.Series(status, index=value.index, dtype=object).where(
        value.notna() & target.notna(), None)


def suppressed(o: pd.Series, n: pd.Series) -> pd.Series:
    """A count from 1 to 7 in the numerator or the denominator."""
    return o.between(1, 7) | n.between(1, 7)


def provisional_reason(kpi: Kpi, period: pd.Series, numerator: pd.Series,
                       today: date) -> pd.Series:
    """The reason a row is provisional (the demo's only case: an outcome counted days later)."""
    out = pd.Series(None, index=period.index, dtype=object)
    for i, p in period.items():
        year, month = map(int, p.split("-"))
        due = date(year, month, calendar.monthrange(year, month)[1]) + timedelta(
            days=kpi.provisional_days)
        if kpi.provisional_days and today < due:
            out[i] = (f"provisional: outcomes are counted {kpi.provisional_days} days after "
                      f"the month, final from {due.isoformat()}")
        elif pd.isna(numerator[i]):
            out[i] = "provisional: numerator not yet received"
    return out


def spc(series: pd.DataFrame, polarity: str) -> pd.DataFrame:
    """One series (sorted by period): the full chart's mean, limits and special-cause type, and
    each month's icons from xmr on the series up to that month (13 points or no icon)."""
    out = pd.DataFrame(index=series.index, columns=[
        "spc_mean", "spc_lower", "spc_upper", "spc_special_cause", "variation_icon",
        "assurance_icon"], dtype=object)
    charted = series[series["value"].notna()]
    if charted.empty:
        return out
    chart = xmr(charted["value"].reset_index(drop=True), polarity=polarity).points
    chart.index = charted.index
    out.loc[charted.index, "spc_mean"] = chart["mean"]
    out.loc[charted.index, "spc_lower"] = chart["lower"]
    out.loc[charted.index, "spc_upper"] = chart["upper"]
    out.loc[charted.index, "spc_special_cause"] = chart["point_type"].where(
        chart["special_cause"], None)
    for at in series.index:
        seen = charted.loc[:at]
        if len(seen) < 13:
            out.loc[at, ["variation_icon", "assurance_icon"]] = None
            continue
        target = seen["target"].iloc[-1]
        judged = xmr(seen["value"].to_numpy(), polarity=polarity,
                     target=None if pd.isna(target) else float(target))
        out.loc[at, ["variation_icon", "assurance_icon"]] = [judged.variation_icon,
                                                             judged.assurance_icon]
    return out


def funnel(group: pd.DataFrame, kpi: Kpi) -> pd.Series:
    """The funnel class of each row of one (period, level, peer group)."""
    return classify_funnel(group["numerator"], group["effective_denominator"],
                           kind=KIND[kpi.interval], multiplier=kpi.multiplier)


def trend(series: pd.DataFrame, kpi: Kpi) -> pd.Series:
    """The recent-trend marker of each row over its last five rows."""
    out = pd.Series(None, index=series.index, dtype=object)
    for k, at in enumerate(series.index):
        window = series.iloc[max(0, k - 4): k + 1]
        out[at] = recent_trend(window["numerator"], window["effective_denominator"],
                               KIND[kpi.interval])
    return out
