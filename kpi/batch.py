"""The KPI statistics for a whole mart at once: SPC charts, funnel classes and trend markers.

The mart holds one row per KPI × organisation × month (about 330,000 series of up to 60 months
at national scale), and design.md asks for it to be rebuilt "with vectorised pandas or SQL,
not a Python loop over organisations". The functions here take the long frame and give, row
for row, exactly what the single-series functions give when applied to each group:

* :func:`spc_frame`: :func:`kpi.spc.xmr` per group (e.g. kpi_id, org_code);
* :func:`funnel_frame`: :func:`kpi.funnel.classify_funnel` per group (e.g. kpi_id, period,
  peer group);
* :func:`trend_frame`: :func:`kpi.trend.recent_trend` on every row's last five points.

How they stay exact: rows are sorted once by group and period, and every rule is computed on
the flat arrays with shifts, cumulative sums and run lengths. Means are taken with numpy on
rows of a matrix that holds the segments of one length, so the summation order (numpy's
pairwise sum) and hence every bit of the mean and limits equal those of the single-series
function; points exactly on a limit are therefore classed the same. The only Python loops
are over the distinct segment lengths (at most the number of months), the five points of a
trend window, and the two kinds (proportion, rate) and two funnel levels.

Memory: spc_frame peaks at about 330 bytes a row (benchmarks/stats_batch.py), so the mart
should call it per KPI (6,571 practices × 60 months is about 400,000 rows, 130 MB) rather than
on all KPIs at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kpi.funnel import LEVELS, WINSOR_FRACTION, Overdispersion, _exact_limit, _label
from kpi.intervals import rate_interval, z_value
from kpi.spc import LIMIT_FACTOR, MOVING_RANGE_SCREEN, NEAR_FACTOR, SpcSettings
from kpi.trend import POINTS, SIGNIFICANCE

__all__ = ["funnel_frame", "spc_frame", "trend_frame"]

_POLARITY_SIGN = {"higher": 1, "lower": -1}


# --- shared helpers ----------------------------------------------------------------------------


def _sorted_rows(frame: pd.DataFrame, by: Sequence[str], order: str) -> tuple[
        np.ndarray, np.ndarray]:
    """Row positions sorted by group then ``order``, and each sorted row's group number."""
    group = frame.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy()
    key, _ = pd.factorize(frame[order], sort=True)  # any sortable period type
    if (key < 0).any():
        raise ValueError(f"column {order!r} has missing values: every row needs its period")
    rows = np.lexsort((key, group))
    return rows, group[rows]


def _per_row(param: Any, frame: pd.DataFrame, name: str) -> np.ndarray:
    """A per-row parameter (a Series aligned to the frame, or one scalar) as an array."""
    if isinstance(param, pd.Series):
        if not param.index.equals(frame.index):
            param = param.reindex(frame.index)
        return param.to_numpy(dtype=object if param.dtype.kind not in "fiub" else None)
    if isinstance(param, (np.ndarray, list)):
        raise TypeError(f"{name} must be a Series aligned to the frame or a scalar")
    return np.full(len(frame), param, dtype=object)


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column]).to_numpy(dtype=float, na_value=np.nan)


def _slice_reduce(values: np.ndarray, starts: np.ndarray, counts: np.ndarray,
                  how: str = "mean") -> np.ndarray:
    """``values[start:start + count].mean()`` (or ``.sum()``) for every slice, bit for bit.

    Slices of equal length are stacked into a matrix and reduced along its rows, which numpy
    does with the same pairwise summation as on each slice alone (tested). Empty slices
    give NaN (a mean of nothing) or 0 (a sum).
    """
    out = np.full(len(counts), np.nan if how == "mean" else 0.0)
    if len(counts) == 0:
        return out
    by_count = np.argsort(counts, kind="stable")
    sorted_counts = counts[by_count]
    edges = np.flatnonzero(np.r_[True, sorted_counts[1:] != sorted_counts[:-1], True])
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = int(sorted_counts[lo])
        if m == 0:
            continue
        slices = by_count[lo:hi]
        block = values[starts[slices, None] + np.arange(m)]
        out[slices] = block.mean(axis=1) if how == "mean" else block.sum(axis=1)
    return out


def _stretch_lengths(new: np.ndarray) -> np.ndarray:
    """Length of the stretch each element belongs to; ``new`` marks where stretches start."""
    stretch = np.cumsum(new) - 1
    return np.bincount(stretch)[stretch]


def _shift(a: np.ndarray, k: int, fill: Any) -> np.ndarray:
    """``a`` moved k places later (k > 0) or earlier (k < 0), ends filled with ``fill``."""
    out = np.full_like(a, fill)
    if k > 0:
        out[k:] = a[:-k]
    elif k < 0:
        out[:k] = a[-k:]
    else:
        out[:] = a
    return out


# --- SPC -------------------------------------------------------------------------------------


def _polarity_signs(polarity: Any, frame: pd.DataFrame) -> np.ndarray:
    """+1 (higher is better), -1 (lower is better) or 0 (neutral) for every row."""
    if not isinstance(polarity, pd.Series) and (polarity is None or polarity in _POLARITY_SIGN):
        return np.full(len(frame), _POLARITY_SIGN.get(polarity, 0))  # one polarity: no lookup
    raw = pd.Series(_per_row(polarity, frame, "polarity"), dtype=object)
    known = raw.isin(list(_POLARITY_SIGN)) | raw.isna()
    if not known.all():
        bad = raw[~known].iloc[0]
        raise ValueError(f"polarity must be 'higher', 'lower' or None, got {bad!r}")
    return raw.map(_POLARITY_SIGN).fillna(0).to_numpy(dtype=int)


def _check_constant(values: np.ndarray, group: np.ndarray, what: str) -> None:
    """Refuse a parameter (polarity, kind) that changes within one group."""
    changes = (values[1:] != values[:-1]) & (group[1:] == group[:-1])
    if changes.any():
        raise ValueError(f"{what} must be the same on every row of a group")


def spc_frame(
    frame: pd.DataFrame,
    *,
    by: list[str],
    order: str = "period",
    value: str = "value",
    polarity: pd.Series | str | None,
    target: str | None = None,
    rebase: str | None = None,
    settings: SpcSettings = SpcSettings(),  # noqa: B008 - frozen, so a shared default is safe
) -> pd.DataFrame:
    """The Making Data Count XmR chart of every group, row for row as :func:`kpi.spc.xmr`.

    Args:
        frame: the long frame, one row per group × period.
        by: the columns naming a series (e.g. ["kpi_id", "org_code"]).
        order: the column giving time order within a group (unique within a group).
        value: the column charted. Rows where it is missing are left out of the chart (the
            chart runs over the remaining points, as ``xmr`` on the series without them) and
            get NaN / None / False outputs.
        polarity: "higher", "lower" or None for every row, or a Series aligned to the frame
            (it varies by KPI; it must be constant within a group).
        target: the column holding the KPI's target; the assurance icon uses the target on the
            group's last charted row.
        rebase: a boolean column, True on the row where a new segment (own limits) starts.
            A rebase on a row without a value takes effect at the next charted row; a rebase
            on or before a group's first charted row changes nothing.
        settings: as for ``xmr``.

    Returns:
        A frame on ``frame.index`` with columns spc_mean, spc_lower, spc_upper,
        spc_special_cause (the point type of special-cause points: improvement, concern or
        neutral; None for common cause and where there are no limits), point_type (as
        ``xmr``: also common_cause, None without limits), beyond_limit, run, trend,
        two_in_three, direction (+1, -1, 0) and, on every row of the group, variation_icon
        and assurance_icon (None where ``xmr`` gives none).
    """
    rows, group = _sorted_rows(frame, by, order)
    y_all = _floats(frame, value)[rows]
    sign_all = _polarity_signs(polarity, frame)[rows]
    _check_constant(sign_all, group, "polarity")
    charted = np.flatnonzero(~np.isnan(y_all))
    y, g, sign = y_all[charted], group[charted], sign_all[charted]
    count = len(y)

    # segments: a group's first charted point, or the first charted point after a rebase
    first = np.r_[True, g[1:] != g[:-1]] if count else np.zeros(0, dtype=bool)
    new = first.copy()
    if rebase is not None:
        flags = frame[rebase].fillna(False).to_numpy(dtype=bool)[rows]
        seen = np.cumsum(flags)[charted]
        new[1:] |= seen[1:] != seen[:-1]
    seg = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    lengths = np.diff(np.r_[starts, count])
    pos = np.arange(count) - starts[seg]
    base = (np.minimum(lengths, settings.fixed_baseline_points)
            if settings.fixed_baseline_points else lengths)
    assessed = base >= settings.min_points

    # centre line: the baseline's mean where assessed, else the mean of the whole segment
    mean = _slice_reduce(y, starts, np.where(assessed, base, lengths))
    ranges = np.abs(np.diff(y))  # ranges[i] = |y[i+1] - y[i]|; only in-baseline ones used
    average = _slice_reduce(ranges, starts, np.where(assessed, base - 1, 0))
    # A flat baseline's centre line is its value exactly (as xmr): a rounded mean would put
    # every point of a constant series beyond limits of zero width.
    flat = assessed & (average == 0)
    mean = np.where(flat, y[np.minimum(starts, len(y) - 1)] if len(y) else mean, mean)
    if settings.screen_moving_ranges:
        seg_after = seg[1:]
        in_base = (pos[1:] >= 1) & (pos[1:] < base[seg_after]) & assessed[seg_after]
        keep = in_base & (ranges < MOVING_RANGE_SCREEN * average[seg_after])
        kept_counts = np.bincount(seg_after[keep], minlength=len(starts))
        with np.errstate(invalid="ignore"):
            screened = _slice_reduce(ranges[keep], np.cumsum(kept_counts) - kept_counts,
                                     kept_counts)
        average = np.where(assessed, screened, np.nan)
    nan = np.full(len(starts), np.nan)
    lower = np.where(assessed, mean - LIMIT_FACTOR * average, nan)
    upper = np.where(assessed, mean + LIMIT_FACTOR * average, nan)
    near_lower = np.where(assessed, mean - NEAR_FACTOR * average, nan)
    near_upper = np.where(assessed, mean + NEAR_FACTOR * average, nan)

    rules = _spc_rules(y, pos, lengths[seg], assessed[seg], mean[seg], lower[seg], upper[seg],
                       near_lower[seg], near_upper[seg], settings)
    special = rules["beyond_limit"] | rules["run"] | rules["trend"] | rules["two_in_three"]
    direction = rules["direction"]
    point_type = np.where(
        ~assessed[seg], None,
        np.where(~special, "common_cause",
                 np.where(sign == 0, "neutral",
                          np.where(direction == sign, "improvement", "concern")))).astype(object)

    # icons from the group's last charted point and its segment's limits
    last = np.flatnonzero(np.r_[g[1:] != g[:-1], True]) if count else np.zeros(0, dtype=int)
    last_seg = seg[last]
    last_type = point_type[last]
    variation = np.where(
        ~assessed[last_seg], None,
        np.where(last_type == "common_cause", "common_cause",
                 last_type.astype(str) + np.where(direction[last] > 0, "_high", "_low")))
    assurance = np.full(len(last), None, dtype=object)
    if target is not None:
        t = _floats(frame, target)[rows][charted][last]
        lo, hi, s = lower[last_seg], upper[last_seg], sign[last]
        # the target beyond the limit on the bad side is always met; on the good side never
        fail = np.where(s > 0, t > hi, t < lo)
        passed = np.where(s > 0, t < lo, t > hi)
        verdict = np.where(fail, "fail", np.where(passed, "pass", "hit_and_miss"))
        show = assessed[last_seg] & ~np.isnan(t) & (s != 0)
        assurance[show] = verdict[show]
    groups = int(group.max()) + 1 if len(group) else 0
    variation_of = np.full(groups, None, dtype=object)
    assurance_of = np.full(groups, None, dtype=object)
    variation_of[g[last]] = variation
    assurance_of[g[last]] = assurance

    # back to the frame's row order
    where = rows[charted]
    n = len(frame)

    def column(values: np.ndarray, fill: Any, dtype: Any) -> np.ndarray:
        out = np.full(n, fill, dtype=dtype)
        out[where] = values
        return out

    special_type = np.where(special & assessed[seg], point_type, None)
    return pd.DataFrame({
        "spc_mean": column(mean[seg], np.nan, float),
        "spc_lower": column(lower[seg], np.nan, float),
        "spc_upper": column(upper[seg], np.nan, float),
        "spc_special_cause": pd.Series(column(special_type, None, object), dtype=object,
                                       index=frame.index),
        "point_type": pd.Series(column(point_type, None, object), dtype=object,
                                index=frame.index),
        **{key: column(rules[key], False, bool)
           for key in ("beyond_limit", "run", "trend", "two_in_three")},
        "direction": column(direction, 0, int),
        "variation_icon": _back(variation_of[group], rows, frame.index),
        "assurance_icon": _back(assurance_of[group], rows, frame.index),
    }, index=frame.index)


def _back(sorted_values: np.ndarray, rows: np.ndarray, index: pd.Index) -> pd.Series:
    """Values held in sorted order, put back in the frame's order as an object Series."""
    out = np.empty(len(rows), dtype=object)
    out[rows] = sorted_values
    return pd.Series(out, index=index, dtype=object)


def _spc_rules(
    y: np.ndarray, pos: np.ndarray, length: np.ndarray, assessed: np.ndarray, mean: np.ndarray,
    lower: np.ndarray, upper: np.ndarray, near_lower: np.ndarray, near_upper: np.ndarray,
    settings: SpcSettings,
) -> dict[str, np.ndarray]:
    """MDC's four rules on every point at once (per-point segment statistics given)."""
    side = np.sign(y - mean)
    with np.errstate(invalid="ignore"):
        beyond = assessed & ((y > upper) | (y < lower))

    # run: a stretch of run_length or more points on one side; the mean itself breaks it
    same_side_stretch = _stretch_lengths((pos == 0) | (side != _shift(side, 1, np.nan)))
    run = assessed & (side != 0) & (same_side_stretch >= settings.run_length)

    # trend: trend_length - 1 rises (or falls) in a row; a tie breaks it. step[i] is the
    # step from point i - 1 to point i (0 at a segment's first point).
    step = np.where(pos >= 1, np.sign(y - _shift(y, 1, np.nan)), 0.0)
    step_stretch = _stretch_lengths((pos <= 1) | (step != _shift(step, 1, np.nan)))
    marked = assessed & (step != 0) & (step_stretch >= settings.trend_length - 1)
    in_trend = {}
    for s in (1, -1):
        ends = marked & (step == s)  # the point a marked step ends on
        in_trend[s] = ends | _shift(ends, -1, False)  # ... and the point it starts from
    trend_dir = np.where(in_trend[1], 1.0, np.where(in_trend[-1], -1.0, 0.0))

    with np.errstate(invalid="ignore"):
        near = (y > near_upper) | (y < near_lower)
    if settings.two_in_three_form == "ptd_0.2.2":
        near &= ~beyond  # before Nov 2023 only points between 2 and 3 sigma counted
    # windows of three points starting at each point, all on one side, two or more near
    window = (assessed & (pos + 2 < length) & (side != 0)
              & (_shift(side, -1, np.nan) == side) & (_shift(side, -2, np.nan) == side)
              & (near.astype(int) + _shift(near, -1, False) + _shift(near, -2, False) >= 2))
    two = near & (window | _shift(window, 1, False) | _shift(window, 2, False))

    # direction from the first rule that flags the point (NHSRplotthedots 0.2.2 order)
    direction = np.select([beyond, trend_dir != 0, two, run], [side, trend_dir, side, side],
                          default=0).astype(int)
    return {"beyond_limit": beyond, "run": run, "trend": trend_dir != 0, "two_in_three": two,
            "direction": direction}


# --- funnel -----------------------------------------------------------------------------------


def _kinds(kind: Any, frame: pd.DataFrame) -> np.ndarray:
    """True where a row is a proportion, False where a rate; anything else is refused."""
    if isinstance(kind, str) and kind in ("proportion", "rate"):  # one kind for all rows
        return np.full(len(frame), kind == "proportion")
    kinds = pd.Series(_per_row(kind, frame, "kind"), dtype=object)
    known = kinds.isin(["proportion", "rate"])
    if not known.all():
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kinds[~known].iloc[0]!r}")
    return (kinds == "proportion").to_numpy()


def _group_sums(values: np.ndarray, group: np.ndarray, groups: int) -> np.ndarray:
    """Σ of each group with missing values as 0, summed as pandas' Series.sum sums them."""
    rows = np.argsort(group, kind="stable")
    counts = np.bincount(group, minlength=groups)
    return _slice_reduce(np.nan_to_num(values[rows], nan=0.0), np.cumsum(counts) - counts,
                         counts, how="sum")


def _group_quantile(z: np.ndarray, group: np.ndarray, groups: int, q: float) -> np.ndarray:
    """np.quantile(z, q) (method 'linear') of each group: NaN for a group holding a NaN."""
    rows = np.lexsort((z, group))  # NaN sorts last, as in np.quantile
    sorted_z = z[rows]
    counts = np.bincount(group, minlength=groups)
    starts = np.cumsum(counts) - counts
    has_nan = np.bincount(group, weights=np.isnan(z), minlength=groups) > 0
    virtual = (counts - 1) * q
    previous = np.floor(virtual)
    gamma = virtual - previous
    at_top = virtual >= counts - 1
    lo = np.where(at_top, counts - 1, previous).astype(int)
    hi = np.where(at_top, counts - 1, previous + 1).astype(int)
    take = np.clip(starts + lo, 0, max(len(z) - 1, 0)), np.clip(starts + hi, 0, max(len(z) - 1, 0))
    a, b = (sorted_z[t] if len(z) else np.zeros(groups) for t in take)
    # numpy's _lerp: from below for gamma < 0.5, from above otherwise
    diff = b - a
    value = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    return np.where(has_nan | (counts == 0), np.nan, value)


def _overdispersion(o: np.ndarray, n: np.ndarray, theta: np.ndarray, variance: np.ndarray,
                    group: np.ndarray, groups: int, winsor: float) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """phi and tau² of every group, as kpi.funnel.overdispersion on each (per-row theta and
    variance given; only units with a positive denominator count)."""
    keep = n > 0
    o, n, theta, variance, g = o[keep], n[keep], theta[keep], variance[keep], group[keep]
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = variance / n
        z = (o / n - theta) / np.sqrt(s2)
        low = _group_quantile(z, g, groups, winsor)
        high = _group_quantile(z, g, groups, 1 - winsor)
        z = np.clip(z, low[g], high[g])
        rows = np.argsort(g, kind="stable")
        units = np.bincount(g, minlength=groups)
        starts = np.cumsum(units) - units
        phi = _slice_reduce((z**2)[rows], starts, units)
        w = 1 / s2[rows]
        w_sum = _slice_reduce(w, starts, units, how="sum")
        w2_sum = _slice_reduce(w**2, starts, units, how="sum")
        excess = units * phi - (units - 1)
        tau2 = np.where(excess > 0, excess / (w_sum - w2_sum / w_sum), 0.0)
    return phi, np.where(tau2 > 0.0, tau2, 0.0)


def funnel_frame(
    frame: pd.DataFrame,
    *,
    by: list[str],
    numerator: str,
    denominator: str,
    kind: pd.Series | str,
    multiplier: pd.Series | float,
    overdispersion: Overdispersion = None,
    levels: tuple[float, float] = LEVELS,
    winsor: float = WINSOR_FRACTION,
) -> pd.Series:
    """Each row's funnel class against its group, as :func:`kpi.funnel.classify_funnel`.

    Args:
        frame: the long frame, one row per unit (e.g. practice) × group.
        by: the columns naming a funnel (e.g. ["kpi_id", "period", "peer_group"]).
        numerator, denominator: the columns of counts; the group value is
            Σ numerators / Σ denominators × multiplier (missing counts as 0, as pandas sums).
        kind: "proportion" (binomial limits) or "rate" (Poisson), per row or for all;
            multiplier: the display scale (100, 1000), per row or for all. Both are meant to
            be constant within a group (they vary by KPI).
        overdispersion: None for exact limits, or "multiplicative" / "additive".

    Returns:
        A Series on ``frame.index`` named funnel_class: within, above_95, above_998,
        below_95, below_998, or None where the denominator is 0 or missing.
    """
    if overdispersion not in (None, "multiplicative", "additive"):
        raise ValueError(f"overdispersion must be None, 'multiplicative' or 'additive', "
                         f"got {overdispersion!r}")
    group = frame.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy()
    groups = int(group.max()) + 1 if len(group) else 0
    o, n = _floats(frame, numerator), _floats(frame, denominator)
    proportion = _kinds(kind, frame)
    scale = _per_row(multiplier, frame, "multiplier").astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (_group_sums(o, group, groups) / _group_sums(n, group, groups))[group]
        group_value = pooled * scale
        theta = group_value / scale
        safe_n = np.where(n > 0, n, np.nan)
        value = o / safe_n * scale
    variance = np.where(proportion, theta * (1 - theta), theta)
    if overdispersion is not None:
        phi, tau2 = _overdispersion(o, n, theta, variance, group, groups, winsor)
        phi, tau2 = phi[group], tau2[group]

    limits = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for level in levels:
            tail = (1 - level) / 2
            if overdispersion is None:
                lower, upper = np.empty(len(n)), np.empty(len(n))
                for is_proportion in (True, False):
                    rows = proportion == is_proportion
                    kind_name = "proportion" if is_proportion else "rate"
                    lower[rows] = _exact_limit(safe_n[rows], theta[rows], tail, kind_name)
                    upper[rows] = _exact_limit(safe_n[rows], theta[rows], 1 - tail, kind_name)
            else:
                s2 = variance / safe_n
                # max(phi, 1.0) as kpi.funnel writes it: a NaN phi stays NaN
                spread = (s2 * np.where(1.0 > phi, 1.0, phi)
                          if overdispersion == "multiplicative" else s2 + tau2)
                half = stats.norm.ppf(1 - tail) * np.sqrt(spread)
                lower, upper = theta - half, theta + half
            top = np.where(proportion, 1.0, np.inf)
            limits[_label(level)] = (np.clip(lower, 0, top) * scale,
                                     np.clip(upper, 0, top) * scale)

    inner, outer = (_label(level) for level in sorted(levels))
    classes = np.full(len(n), "within", dtype=object)
    classes[value > limits[inner][1]] = f"above_{inner}"
    classes[value > limits[outer][1]] = f"above_{outer}"
    classes[value < limits[inner][0]] = f"below_{inner}"
    classes[value < limits[outer][0]] = f"below_{outer}"
    classes[np.isnan(value)] = None
    return pd.Series(classes, index=frame.index, dtype=object, name="funnel_class")


# --- recent trend -------------------------------------------------------------------------------


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
    before it in its group), as :func:`kpi.trend.recent_trend` on that window.

    The window is counted in rows, as recent_trend counts values: a month with no row is not
    a gap. kind ("proportion" or "rate") may vary by row but must be constant within a group.

    Returns:
        A Series on ``frame.index`` named trend: increasing, decreasing,
        no_significant_change or cannot_be_calculated (fewer than ``points`` rows so far, a
        missing numerator or denominator or a denominator of 0 in the window, or, for a
        proportion, every numerator 0 or each equal to its denominator).
    """
    rows, group = _sorted_rows(frame, by, order)
    o, n = _floats(frame, numerator)[rows], _floats(frame, denominator)[rows]
    proportion = _kinds(kind, frame)[rows]
    _check_constant(proportion, group, "kind")
    first = np.r_[True, group[1:] != group[:-1]] if len(group) else np.zeros(0, dtype=bool)
    starts = np.flatnonzero(first)
    pos = np.arange(len(group)) - starts[np.cumsum(first) - 1]
    usable = ~np.isnan(o) & ~np.isnan(n) & (n > 0)

    full = pos >= points - 1
    for k in range(1, points):  # every point of the window usable
        full &= _shift(usable, k, False)
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
    return _back(marker, rows, frame.index).rename("trend")


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
        yield float(k + 1), _shift(a, points - 1 - k, np.nan)


def _armitage_windows(o: np.ndarray, n: np.ndarray, usable: np.ndarray, points: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cochran-Armitage chi-squared, its signed numerator, and "no variation to test" (every
    numerator 0 or each equal to its denominator) of every window, as
    kpi.trend._proportion_trend computes them."""
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
    exact Poisson interval) and its chi-squared for every window, as kpi.trend._rate_trend."""
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
