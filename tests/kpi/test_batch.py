"""The whole-mart statistics equal the test oracles applied group by group.

Every test builds a long frame (seeded random series, and hand-built edge cases), computes
the reference by calling the single-series oracles of tests/kpi/oracles (xmr, classify_funnel,
recent_trend: plain loops, independent of the vectorised code) on each group in a plain Python
loop, and requires kpi.spc.spc_frame / kpi.funnel.funnel_frame / kpi.trend.trend_frame to
match row for row: floats to 1e-9, flags and labels exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpi.funnel import funnel_frame
from kpi.grouped import group_quantile, slice_reduce
from kpi.spc import SpcSettings, spc_frame
from kpi.trend import trend_frame
from tests.kpi.oracles.funnel import classify_funnel
from tests.kpi.oracles.spc import xmr
from tests.kpi.oracles.trend import recent_trend

SPC_FLOATS = {"spc_mean": "mean", "spc_lower": "lower", "spc_upper": "upper"}
SPC_FLAGS = ("beyond_limit", "run", "trend", "two_in_three", "direction")


# --- SPC ---------------------------------------------------------------------------------------


def spc_reference(frame: pd.DataFrame, by: list[str], *, polarity_column: str | None,
                  target: str | None, rebase: str | None, settings: SpcSettings) -> pd.DataFrame:
    """xmr on each group: the group's charted rows in period order, rebases carried forward to
    the next charted row; uncharted rows get NaN / None / False."""
    out = pd.DataFrame(index=frame.index, columns=[
        *SPC_FLOATS, "point_type", "spc_special_cause", *SPC_FLAGS, "variation_icon",
        "assurance_icon"], dtype=object)
    out[list(SPC_FLOATS)] = np.nan
    out[["beyond_limit", "run", "trend", "two_in_three"]] = False
    out["direction"] = 0
    out[["point_type", "spc_special_cause", "variation_icon", "assurance_icon"]] = None
    for _, group in frame.groupby(by, sort=False, dropna=False):
        group = group.sort_values("period")
        charted = group[group["value"].notna()]
        if charted.empty:
            continue
        breaks = []
        if rebase is not None:
            flagged = group[rebase].to_numpy(dtype=bool)
            has_value = group["value"].notna().to_numpy()
            pending, position = False, -1
            for flag, present in zip(flagged, has_value, strict=True):
                pending |= bool(flag)
                if present:
                    position += 1
                    if pending and position > 0:
                        breaks.append(position)
                    pending = False
        polarity = charted[polarity_column].iloc[-1] if polarity_column else None
        polarity = None if pd.isna(polarity) else polarity
        goal = charted[target].iloc[-1] if target else None
        goal = None if goal is None or pd.isna(goal) else float(goal)
        result = xmr(charted["value"], polarity=polarity, target=goal, rebase_at=breaks,
                     settings=settings)
        p = result.points
        for column, source in SPC_FLOATS.items():
            out.loc[charted.index, column] = p[source].to_numpy()
        for column in SPC_FLAGS:
            out.loc[charted.index, column] = p[column].to_numpy()
        out.loc[charted.index, "point_type"] = p["point_type"].to_numpy()
        special = p["point_type"].where(p["special_cause"], None)
        out.loc[charted.index, "spc_special_cause"] = special.to_numpy()
        out.loc[group.index, "variation_icon"] = result.variation_icon
        out.loc[group.index, "assurance_icon"] = result.assurance_icon
    return out


def assert_spc_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert got.index.equals(want.index)
    for column in SPC_FLOATS:
        np.testing.assert_allclose(got[column].to_numpy(dtype=float),
                                   want[column].to_numpy(dtype=float), rtol=1e-9, atol=1e-9,
                                   equal_nan=True, err_msg=column)
    for column in SPC_FLAGS:
        assert got[column].tolist() == want[column].tolist(), column
    for column in ("point_type", "spc_special_cause", "variation_icon", "assurance_icon"):
        assert labels(got[column]) == labels(want[column]), column


def labels(column: pd.Series) -> list:
    """Text values with every kind of missing written as None."""
    return [None if value is None or value is pd.NA or value != value else value
            for value in column]


def random_series_frame(seed: int, groups: int = 300) -> pd.DataFrame:
    """Several hundred series of 5-60 months: levels, shifts, trends and outliers so that every
    rule fires somewhere; missing values, rebase rows, both polarities and neutral, targets;
    rows shuffled so the functions must sort by group and period themselves."""
    rng = np.random.default_rng(seed)
    parts = []
    for number in range(groups):
        months = int(rng.integers(5, 61))
        level = rng.uniform(10, 90)
        y = level + rng.normal(0, rng.uniform(0.5, 5), months)
        if rng.random() < 0.4:  # a step change, often a run
            y[rng.integers(0, months):] += rng.normal(0, 6)
        if rng.random() < 0.3:  # a steady rise, often a trend
            start = int(rng.integers(0, months))
            y[start:] += np.arange(months - start) * rng.uniform(0.5, 3)
        if rng.random() < 0.3:  # an outlier beyond a limit
            y[rng.integers(0, months)] += rng.choice([-1, 1]) * 25
        if rng.random() < 0.3:  # rounded values: ties for trends and the mean
            y = np.round(y)
        y[rng.random(months) < 0.06] = np.nan
        parts.append(pd.DataFrame({
            "kpi_id": f"k{number % 7}",
            "org_code": f"P{number:04d}",
            "period": pd.period_range("2020-01", periods=months, freq="M").astype(str),
            "value": y,
            "polarity": rng.choice(np.array(["higher", "lower", None], dtype=object)),
            "target": rng.choice([np.nan, level - 10, level, level + 10]),
            "rebase": rng.random(months) < 0.03,
        }))
    frame = pd.concat(parts, ignore_index=True)
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True)


SETTINGS = [
    SpcSettings(),
    SpcSettings(screen_moving_ranges=True, two_in_three_form="ptd_0.2.2"),
    SpcSettings(run_length=6, trend_length=6, fixed_baseline_points=15),
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_spc_frame_equals_xmr_per_series(settings):
    frame = random_series_frame(seed=7)
    got = spc_frame(frame, by=["kpi_id", "org_code"], polarity=frame["polarity"],
                    target="target", rebase="rebase", settings=settings)
    want = spc_reference(frame, ["kpi_id", "org_code"], polarity_column="polarity",
                         target="target", rebase="rebase", settings=settings)
    assert_spc_equal(got, want)
    # the random series do exercise every rule and both icons
    for rule in ("beyond_limit", "run", "trend", "two_in_three"):
        assert got[rule].any(), rule
    assert {"improvement", "concern", "neutral"} <= set(got["spc_special_cause"].dropna())
    assert {"pass", "fail", "hit_and_miss"} <= set(got["assurance_icon"].dropna())


def edge_frame() -> pd.DataFrame:
    """Hand-built series: short, exactly 13, constant, points exactly on the limits."""
    baseline = [9.0, 11.0] * 7  # mean 10, moving range 2: limits 4.68 and 15.32 exactly as xmr
    upper, lower = 10.0 + 2.66 * 2.0, 10.0 - 2.66 * 2.0
    series = {
        "short": [5.0, 6.0, 7.0, 8.0, 9.0],
        "twelve": list(np.linspace(1, 12, 12)),
        "thirteen": [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0, 8.0, 9.0],
        "constant": [0.1] * 20,
        "constant_int": [4.0] * 15,
        "on_limits": [*baseline, 10.0, upper, 10.0, lower, 10.0],
        "all_missing": [np.nan] * 6,
        "rebase_13_13": [*np.arange(13.0), *(np.arange(13.0) + 50)],
        "rebase_13_12": [*np.arange(13.0), *(np.arange(12.0) + 50)],
    }
    parts = []
    for name, values in series.items():
        rebase = np.zeros(len(values), dtype=bool)
        if name.startswith("rebase"):
            rebase[13] = True
        parts.append(pd.DataFrame({
            "org_code": name, "period": np.arange(len(values)), "value": values,
            "rebase": rebase, "target": 10.0,
        }))
    return pd.concat(parts, ignore_index=True)


# xmr warns when screening leaves a constant series no moving range to average (mean NaN)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("settings", SETTINGS[:2])
@pytest.mark.parametrize("polarity", ["higher", "lower", None])
def test_spc_frame_edge_cases(settings, polarity):
    frame = edge_frame()
    frame["polarity"] = polarity
    got = spc_frame(frame, by=["org_code"], polarity=polarity, target="target",
                    rebase="rebase", settings=settings)
    want = spc_reference(frame, ["org_code"], polarity_column="polarity", target="target",
                         rebase="rebase", settings=settings)
    assert_spc_equal(got, want)
    rows = got.groupby(frame["org_code"])
    assert rows["spc_lower"].count()["twelve"] == 0  # fewer than 13 points: no limits
    assert rows["variation_icon"].first()["thirteen"] is not None
    on = got[frame["org_code"] == "on_limits"]
    assert not on["beyond_limit"].any()  # exactly on a limit is not beyond it
    assert got.loc[frame["org_code"] == "rebase_13_12", "variation_icon"].isna().all()


def test_spc_frame_refuses_a_polarity_that_changes_within_a_series():
    frame = edge_frame()
    polarity = pd.Series("higher", index=frame.index, dtype=object)
    polarity.iloc[3] = "lower"
    with pytest.raises(ValueError, match="same on every row"):
        spc_frame(frame, by=["org_code"], polarity=polarity)
    with pytest.raises(ValueError, match="polarity must be"):
        spc_frame(frame, by=["org_code"], polarity="up")


# --- funnel ------------------------------------------------------------------------------------

KPI_KINDS = {"k0": ("proportion", 100.0), "k1": ("rate", 1000.0), "k2": ("proportion", 1.0),
             "k3": ("rate", 100_000.0)}


def random_funnel_frame(seed: int) -> pd.DataFrame:
    """Practices × KPIs × months in peer groups of 3-80, overdispersed, with zero and missing
    denominators and a peer group where every numerator is 0."""
    rng = np.random.default_rng(seed)
    parts = []
    for number in range(120):
        kpi = f"k{number % 4}"
        kind, _ = KPI_KINDS[kpi]
        units = int(rng.integers(3, 81))
        n = rng.integers(0, 3000, units).astype(float)
        n[rng.random(units) < 0.05] = 0
        n[rng.random(units) < 0.03] = np.nan
        centre = rng.uniform(0.05, 0.9) if kind == "proportion" else rng.uniform(0.001, 0.05)
        theta = np.clip(centre * rng.lognormal(0, rng.choice([0.01, 0.3]), units), 0, 1)
        safe = np.nan_to_num(n).astype(int)
        o = (rng.binomial(safe, theta) if kind == "proportion" else rng.poisson(safe * theta))
        o = o.astype(float)
        if number == 5:
            o[:] = 0
        parts.append(pd.DataFrame({"kpi_id": kpi, "period": f"2024-{number % 12 + 1:02d}",
                                   "peer": f"g{number}", "o": o, "n": n}))
    frame = pd.concat(parts, ignore_index=True)
    frame["kind"] = frame["kpi_id"].map(lambda k: KPI_KINDS[k][0]).astype(object)
    frame["multiplier"] = frame["kpi_id"].map(lambda k: KPI_KINDS[k][1]).astype(float)
    return frame.sample(frac=1, random_state=seed)


def funnel_reference(frame: pd.DataFrame, by: list[str], overdispersion) -> pd.Series:
    out = pd.Series(None, index=frame.index, dtype=object)
    for _, group in frame.groupby(by, sort=False, dropna=False):
        classes = classify_funnel(group["o"], group["n"], kind=group["kind"].iloc[0],
                                  multiplier=group["multiplier"].iloc[0],
                                  overdispersion=overdispersion)
        out.loc[group.index] = classes.to_numpy()
    return out


@pytest.mark.parametrize("overdispersion", [None, "multiplicative", "additive"])
def test_funnel_frame_equals_classify_funnel_per_group(overdispersion):
    frame = random_funnel_frame(seed=3)
    if overdispersion is not None:  # classify_funnel needs one unit with a denominator
        frame = frame[frame.groupby("peer")["n"].transform("max") > 0]
    by = ["kpi_id", "period", "peer"]
    got = funnel_frame(frame, by=by, numerator="o", denominator="n", kind=frame["kind"],
                       multiplier=frame["multiplier"], overdispersion=overdispersion)
    want = funnel_reference(frame, by, overdispersion)
    assert got.index.equals(frame.index)
    assert labels(got) == labels(want)
    found = set(got.dropna())
    assert {"within", "above_998", "below_998"} <= found
    assert got[frame["n"].fillna(0) == 0].isna().all()


def test_funnel_frame_either_side_of_an_exact_limit_with_scalar_kind():
    # 20 units of 50 at 0.5 (group value 0.5 exactly): counts just inside and just outside
    # the interpolated 95% binomial limit, computed here from scipy's binomial
    from scipy import stats

    n = 50
    upper = stats.binom(n, 0.5).ppf(0.975)
    at = stats.binom(n, 0.5).cdf(upper)
    below = stats.binom(n, 0.5).cdf(upper - 1)
    limit = upper - (at - 0.975) / (at - below)  # an interpolated count, rarely an integer
    o = np.array([25.0] * 18 + [np.floor(limit), np.ceil(limit)])
    o[:2] = [50 - o[-2], 50 - o[-1]]  # mirror images keep the group value at 0.5
    frame = pd.DataFrame({"g": "x", "o": o, "n": float(n)})
    got = funnel_frame(frame, by=["g"], numerator="o", denominator="n", kind="proportion",
                       multiplier=100)
    want = classify_funnel(frame["o"], frame["n"], kind="proportion", multiplier=100)
    assert labels(got) == labels(want)
    assert got.iloc[-1] == "above_95" and got.iloc[-2] == "within"


def test_funnel_frame_refuses_unknown_kind():
    frame = pd.DataFrame({"g": ["a"], "o": [1.0], "n": [2.0]})
    with pytest.raises(ValueError, match="kind must be"):
        funnel_frame(frame, by=["g"], numerator="o", denominator="n", kind="ratio",
                     multiplier=1)


# --- recent trend ------------------------------------------------------------------------------


def random_trend_frame(seed: int) -> pd.DataFrame:
    """Series of 1-30 months for a proportion KPI and a rate KPI: flat, rising and falling,
    large and small counts, with missing values, zero denominators and all-zero numerators."""
    rng = np.random.default_rng(seed)
    parts = []
    for number in range(400):
        kind = "proportion" if number % 2 else "rate"
        months = int(rng.integers(1, 31))
        n = rng.integers(20, 5000, months).astype(float)
        base = rng.uniform(0.05, 0.6) if kind == "proportion" else rng.uniform(0.001, 0.05)
        slope = rng.choice([0.0, 0.0, 0.02, -0.02, 0.005])
        theta = np.clip(base * (1 + slope * np.arange(months)), 0, 1)
        o = (rng.binomial(n.astype(int), theta) if kind == "proportion"
             else rng.poisson(n * theta)).astype(float)
        if number % 37 == 0:
            o[:] = 0
        if number % 41 == 0 and kind == "proportion":
            o = n.copy()
        n[rng.random(months) < 0.03] = 0
        o[rng.random(months) < 0.03] = np.nan
        parts.append(pd.DataFrame({"kpi_id": f"{kind}_kpi", "org_code": f"P{number:03d}",
                                   "period": np.arange(months), "o": o, "n": n,
                                   "kind": kind}))
    frame = pd.concat(parts, ignore_index=True)
    frame["kind"] = frame["kind"].astype(object)
    return frame.sample(frac=1, random_state=seed)


def trend_reference(frame: pd.DataFrame, by: list[str], points: int = 5) -> pd.Series:
    """recent_trend on every prefix of every series: its marker is the prefix's last row's."""
    out = pd.Series(None, index=frame.index, dtype=object)
    for _, group in frame.groupby(by, sort=False):
        group = group.sort_values("period")
        kind = group["kind"].iloc[0]
        for end in range(1, len(group) + 1):
            out.loc[group.index[end - 1]] = recent_trend(
                group["o"].iloc[:end], group["n"].iloc[:end], kind, points=points)
    return out


def test_trend_frame_equals_recent_trend_on_every_row():
    frame = random_trend_frame(seed=11)
    got = trend_frame(frame, by=["kpi_id", "org_code"], numerator="o", denominator="n",
                      kind=frame["kind"])
    want = trend_reference(frame, ["kpi_id", "org_code"])
    assert got.index.equals(frame.index)
    assert labels(got) == labels(want)
    assert set(got) == {"increasing", "decreasing", "no_significant_change",
                        "cannot_be_calculated"}
    for kind in ("proportion", "rate"):  # both tests reach a significant answer
        assert {"increasing", "decreasing"} <= set(got[frame["kind"] == kind])


def test_trend_frame_window_length_is_a_setting():
    frame = random_trend_frame(seed=12)
    frame = frame[frame["kind"] == "rate"]
    got = trend_frame(frame, by=["org_code"], numerator="o", denominator="n", kind="rate",
                      points=7)
    assert labels(got) == labels(trend_reference(frame, ["org_code"], points=7))


def test_trend_frame_short_and_gappy_windows_cannot_be_calculated():
    # rising proportions 10, 20, ... of 100: significant once five points are in the window
    frame = pd.DataFrame({"org": "A", "period": range(12),
                          "o": [10.0, 20, 30, 40, 50, np.nan, 60, 70, 80, 90, 95, 99],
                          "n": [100.0] * 12})
    got = trend_frame(frame, by=["org"], numerator="o", denominator="n", kind="proportion")
    assert got.tolist()[:4] == ["cannot_be_calculated"] * 4
    assert got.iloc[4] == "increasing"
    assert got.tolist()[5:10] == ["cannot_be_calculated"] * 5  # the gap stays in the window
    assert got.tolist()[10:] == ["increasing"] * 2


# --- the exactness the batch functions rest on --------------------------------------------------


def test_slice_means_equal_numpy_mean_of_each_slice_bit_for_bit():
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 300, 400)  # beyond 128, where numpy's pairwise sum recurses
    values = rng.normal(0, 1, counts.sum()) * 10.0 ** rng.integers(-8, 9, counts.sum())
    starts = np.cumsum(counts) - counts
    for how in ("mean", "sum"):
        got = slice_reduce(values, starts, counts, how=how)
        want = [getattr(values[s:s + c], how)() if c else (np.nan if how == "mean" else 0.0)
                for s, c in zip(starts, counts, strict=True)]
        assert np.array_equal(got, np.array(want), equal_nan=True)


def test_group_quantiles_equal_numpy_quantile_bit_for_bit():
    rng = np.random.default_rng(6)
    sizes = rng.integers(1, 60, 300)
    group = np.repeat(np.arange(len(sizes)), sizes)
    z = rng.normal(0, 3, len(group))
    z[rng.random(len(group)) < 0.01] = np.nan
    order = rng.permutation(len(group))
    for q in (0.1, 0.9, 0.5):
        got = group_quantile(z[order], group[order], len(sizes), q)
        want = [np.quantile(z[group == g], q) for g in range(len(sizes))]
        assert np.array_equal(got, np.array(want), equal_nan=True)
