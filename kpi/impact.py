"""Programme impact: a count KPI's months since a programme start against a projected baseline.

The months before the start are fitted with a quasi-Poisson GLM (statsmodels; log link, offset
log(population)): intercept, linear trend and one annual harmonic pair (sin, cos of the calendar
month). The fit is projected forward as the counterfactual ("business as usual"), with a 95%
prediction interval by the delta method: the coefficients' covariance (scaled by the Pearson
dispersion) carried through the log link, plus the counts' own quasi-Poisson variance
(dispersion x mean). The cumulative interval uses the summed gradient, so months that share
coefficient error are not treated as independent.

Minimum baseline: 12 months. One full year is the least that shows every calendar month once,
so the annual wave is not mistaken for trend; the model has 4 parameters, leaving 8 degrees of
freedom for the dispersion. Month-of-year terms (11 parameters) would need 24 months or more,
which the demo's 18-month baseline, like many programmes', does not have.

This is an estimate against a projection, not proof of cause: anything else that changed at the
start moves the difference too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from kpi.suppression import is_small

MIN_BASELINE_MONTHS = 12
Z_95 = 1.959963984540054

# Count KPIs the page and command accept: the counted unit and the tariff that prices it.
COUNT_KPIS: dict[str, tuple[str, str | None]] = {
    "ea_rate": ("emergency admissions", "admission"),
    "ea_bed_days_65": ("bed days (65+ emergency)", "bed_day"),
    "dtoc_rate": ("delayed days", "bed_day"),
    "care_home_admissions_65": ("care-home admissions (65+)", None),
}

COLUMNS = ("month", "phase", "actual", "population", "expected", "lower", "upper", "difference",
           "cumulative_difference", "cumulative_lower", "cumulative_upper", "cumulative_cost")


class ImpactError(ValueError):
    """A question the impact model cannot answer (too short a baseline, no months after)."""


@dataclass(frozen=True)
class Tariff:
    """Cost per emergency admission and per bed day (pounds)."""

    admission: float
    bed_day: float

    def unit_cost(self, kpi_id: str) -> float | None:
        """The price of one counted unit of `kpi_id`, or None where no tariff applies."""
        kind = COUNT_KPIS[kpi_id][1]
        return None if kind is None else getattr(self, kind)


def _design(months: pd.Series, first: pd.Period) -> np.ndarray:
    """Columns: intercept, trend (months since the first), sin and cos of the calendar month."""
    periods = pd.PeriodIndex(months, freq="M")
    t = np.asarray([(p - first).n for p in periods], dtype=float)
    angle = 2 * np.pi * np.asarray(periods.month, dtype=float) / 12
    return np.column_stack([np.ones_like(t), t, np.sin(angle), np.cos(angle)])


def estimate_impact(series: pd.DataFrame, start: str, *, unit_cost: float | None = None
                    ) -> pd.DataFrame:
    """Month by month: actual, expected (the baseline's projection), its 95% bounds, difference,
    and from `start` on the cumulative difference, its 95% bounds and its cost (COLUMNS).

    `series` has columns month (YYYY-MM), count and population, one row per month. Baseline
    months (before `start`) carry the fitted values; cumulative columns are NaN there.
    Raises ImpactError naming the minimum when fewer than MIN_BASELINE_MONTHS precede `start`.
    """
    data = series.dropna(subset=["count", "population"]).sort_values("month")
    data = data[data["population"] > 0].reset_index(drop=True)
    before = data[data["month"] < start]
    after = data[data["month"] >= start]
    if len(before) < MIN_BASELINE_MONTHS:
        raise ImpactError(
            f"only {len(before)} month(s) of data before the programme start {start}: at least "
            f"{MIN_BASELINE_MONTHS} are needed (a full year, so the seasonal pattern is not "
            "mistaken for a trend)")
    if after.empty:
        raise ImpactError(f"no months of data from the programme start {start} on")
    first = pd.Period(before["month"].iloc[0], freq="M")
    x_all = _design(data["month"], first)
    offset = np.log(data["population"].to_numpy(dtype=float))
    n_before = len(before)
    model = sm.GLM(before["count"].to_numpy(dtype=float), x_all[:n_before],
                   family=sm.families.Poisson(), offset=offset[:n_before])
    fit = model.fit(scale="X2")  # quasi-Poisson: Pearson dispersion scales the covariance
    dispersion = max(float(fit.scale), 1.0)  # never narrower than Poisson
    cov = np.asarray(fit.cov_params()) * dispersion / float(fit.scale)
    mu = np.exp(x_all @ fit.params + offset)
    gradient = mu[:, None] * x_all  # d mu / d beta, row per month
    var_fit = np.einsum("ij,jk,ik->i", gradient, cov, gradient)
    sd = np.sqrt(var_fit + dispersion * mu)

    out = pd.DataFrame({"month": data["month"], "actual": data["count"].astype(float),
                        "population": data["population"].astype(float), "expected": mu})
    out["phase"] = np.where(out["month"] < start, "baseline", "programme")
    out["lower"] = np.maximum(mu - Z_95 * sd, 0.0)
    out["upper"] = mu + Z_95 * sd
    out["difference"] = out["actual"] - out["expected"]
    post = slice(n_before, None)
    cum_gradient = np.cumsum(gradient[post], axis=0)
    cum_sd = np.sqrt(np.einsum("ij,jk,ik->i", cum_gradient, cov, cum_gradient)
                     + dispersion * np.cumsum(mu[post]))
    cum_diff = np.cumsum(out["difference"].to_numpy()[post])
    for column, values in (("cumulative_difference", cum_diff),
                           ("cumulative_lower", cum_diff - Z_95 * cum_sd),
                           ("cumulative_upper", cum_diff + Z_95 * cum_sd)):
        out[column] = np.nan
        out.loc[out.index[post], column] = values
    out["cumulative_cost"] = (out["cumulative_difference"] * unit_cost
                              if unit_cost is not None else np.nan)
    return out[list(COLUMNS)].reset_index(drop=True)


def is_significant(impact: pd.DataFrame) -> bool:
    """True when the last cumulative difference's 95% interval excludes zero."""
    last = impact.dropna(subset=["cumulative_difference"]).iloc[-1]
    return bool(last["cumulative_lower"] > 0 or last["cumulative_upper"] < 0)


def suppress_impact(impact: pd.DataFrame) -> pd.DataFrame:
    """A copy fit to leave the system: a month whose actual count is 1-7 loses its actual and
    difference (expected + difference would give it back), and every cumulative figure from that
    month on (successive cumulatives would too)."""
    out = impact.copy()
    small = is_small(out["actual"])
    out.loc[small, ["actual", "difference"]] = np.nan
    tainted = small.cumsum().astype(bool) & out["cumulative_difference"].notna()
    cumulative = ["cumulative_difference", "cumulative_lower", "cumulative_upper",
                  "cumulative_cost"]
    out.loc[tainted, cumulative] = np.nan
    out["suppressed"] = small | tainted
    return out
