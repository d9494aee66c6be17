"""Programme impact on designed series: known seasonality, trend and step change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpi.impact import (
    MIN_BASELINE_MONTHS,
    ImpactError,
    Tariff,
    estimate_impact,
    is_significant,
    suppress_impact,
)

START = "2024-01"  # 24 baseline months (2022-01 .. 2023-12), then 12 programme months


def _designed(*, step: float = 0.0, seed: int | None = 1, months: int = 36,
              first: str = "2022-01", start: str = START) -> tuple[pd.DataFrame, float]:
    """A series with a winter peak, a 0.3%-a-month rise and a growing list; the step multiplies
    every month from `start`. Returns the series and the designed cumulative effect (the step's
    share of the true means without it)."""
    periods = pd.period_range(first, periods=months, freq="M")
    t = np.arange(months)
    population = 20000 * (1 + 0.001 * t)
    season = np.exp(0.08 * np.cos(2 * np.pi * (periods.month.to_numpy() - 1) / 12))
    mean_without = population * 0.009 * np.exp(0.003 * t) * season
    after = np.asarray([str(p) >= start for p in periods])
    mean = mean_without * np.where(after, 1 - step, 1.0)
    counts = mean if seed is None else np.random.default_rng(seed).poisson(mean).astype(float)
    series = pd.DataFrame({"month": [str(p) for p in periods], "count": counts,
                           "population": population})
    return series, float(-step * mean_without[after].sum())


# a noiseless series fits perfectly, which statsmodels flags
@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_noiseless_step_is_recovered_exactly_with_its_cost():
    series, designed = _designed(step=0.15, seed=None)
    impact = estimate_impact(series, START, unit_cost=1800.0)
    last = impact.iloc[-1]
    # the baseline is exactly log-linear + one harmonic, so the projection is the true mean
    assert last["cumulative_difference"] == pytest.approx(designed, rel=1e-6)
    assert last["cumulative_cost"] == pytest.approx(designed * 1800.0, rel=1e-6)
    programme = impact[impact["phase"] == "programme"]
    assert len(programme) == 12
    assert programme["difference"].to_numpy() == pytest.approx(
        -0.15 / 0.85 * programme["actual"].to_numpy(), rel=1e-6)
    assert impact.loc[impact["phase"] == "baseline", "cumulative_difference"].isna().all()


def test_step_change_lies_within_the_stated_interval():
    series, designed = _designed(step=0.15, seed=7)
    impact = estimate_impact(series, START)
    last = impact.iloc[-1]
    assert last["cumulative_lower"] <= designed <= last["cumulative_upper"]
    assert is_significant(impact)
    assert np.isnan(last["cumulative_cost"])  # no tariff given


def test_interval_covers_the_designed_effect_about_95_percent_of_the_time():
    hits = 0
    for seed in range(200):
        series, designed = _designed(step=0.15, seed=seed)
        last = estimate_impact(series, START).iloc[-1]
        hits += last["cumulative_lower"] <= designed <= last["cumulative_upper"]
    assert 0.90 <= hits / 200 <= 0.99


def test_no_change_gives_no_significant_effect():
    series, designed = _designed(step=0.0, seed=3)
    assert designed == 0
    impact = estimate_impact(series, START)
    last = impact.iloc[-1]
    assert last["cumulative_lower"] < 0 < last["cumulative_upper"]
    assert not is_significant(impact)
    false_alarms = sum(is_significant(estimate_impact(_designed(seed=s)[0], START))
                       for s in range(100, 300))
    assert false_alarms / 200 <= 0.10


def test_too_short_baseline_is_refused_naming_the_minimum():
    series, _ = _designed(months=20, first="2023-01")  # 12 months before 2024-01
    short = series[series["month"] >= "2023-02"]  # 11 months before the start
    with pytest.raises(ImpactError, match=f"only 11 month.*at least {MIN_BASELINE_MONTHS}"):
        estimate_impact(short, START)
    assert len(estimate_impact(series, START)) == 20  # exactly 12 months is enough


def test_no_months_after_start_is_refused():
    series, _ = _designed(months=24)
    with pytest.raises(ImpactError, match="no months of data from the programme start"):
        estimate_impact(series, START)


def test_tariff_prices_admissions_and_bed_days():
    tariff = Tariff(admission=1500.0, bed_day=350.0)
    assert tariff.unit_cost("ea_rate") == 1500.0
    assert tariff.unit_cost("ea_bed_days_65") == 350.0
    assert tariff.unit_cost("dtoc_rate") == 350.0
    assert tariff.unit_cost("care_home_admissions_65") is None


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")
def test_small_actual_hides_its_difference_and_every_later_cumulative():
    series, _ = _designed(step=0.15, seed=None, months=30)
    impact = estimate_impact(series, START)
    impact.loc[26, "actual"] = 5.0  # a programme month with a small count
    out = suppress_impact(impact)
    assert out.loc[26, ["actual", "difference"]].isna().all()
    assert out.loc[26:, "cumulative_difference"].isna().all()
    assert out.loc[24:25, "cumulative_difference"].notna().all()
    assert out["suppressed"].tolist() == [False] * 26 + [True] * 4
    assert out.loc[26, "expected"] == impact.loc[26, "expected"]
