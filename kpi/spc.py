"""Statistical process control: Making Data Count XmR charts, their rules and icons.

Implements NHS England's "Making Data Count" (MDC) XmR chart as kpis.md specifies and as its
reference implementation NHSRplotthedots does it (rules read from that package's
R/ptd_spc_standard.R and R/ptd_calculate_point_type.R; no code taken):

* centre line at the mean; process limits at mean ± 2.66 × mean moving range; "near a limit"
  is beyond two-thirds of that distance (2 sigma);
* special cause: a point beyond a limit; a run of ``run_length`` points on one side of the
  mean; ``trend_length`` points each higher (or each lower) than the one before; two of
  three points in a row beyond 2 sigma on the same side of the mean (all three on that side;
  since MDC's November 2023 change a point beyond 3 sigma counts too);
* each special-cause point takes its direction from the first rule that flags it, in
  NHSRplotthedots 0.2.2's order (limit, trend, two-in-three, run), and is improvement or
  concern by the KPI's polarity (neutral without one);
* the variation icon comes from the most recent point, the assurance icon from where the
  target lies against the last segment's limits; no icons from fewer than 13 points.

Limits are recalculated only at break points the user names (``rebase_at``), never
automatically.

`spc_frame` charts every series of a long frame at once (what the mart needs, with the array
helpers of `kpi.grouped`); `xmr` is the same for one series. See docs/methods/spc.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from kpi.grouped import (
    back,
    check_constant,
    floats,
    per_row,
    shift,
    slice_reduce,
    sorted_rows,
    stretch_lengths,
)

__all__ = ["SpcResult", "SpcSettings", "spc_frame", "xmr"]

# Making Data Count / Wheeler: 3 / d2 with d2 = 1.128 for moving ranges of two points.
LIMIT_FACTOR = 2.66
# The 2-sigma ("near a limit") line is two-thirds of the way to a process limit.
NEAR_FACTOR = 2 * LIMIT_FACTOR / 3
# Wheeler's upper range limit for a moving range: D4 = 3.267 × mean moving range.
MOVING_RANGE_SCREEN = 3.267
# MDC: process limits and icons only from 13 points or more.
MIN_POINTS = 13

Polarity = Literal["higher", "lower"] | None
_POLARITY_SIGN = {"higher": 1, "lower": -1}


@dataclass(frozen=True)
class SpcSettings:
    """Choices MDC and NHSRplotthedots leave open (defaults: MDC's Excel tool, Nov 2023)."""

    run_length: int = 7
    trend_length: int = 7
    min_points: int = MIN_POINTS
    two_in_three_form: Literal["mdc2023", "ptd_0.2.2"] = "mdc2023"
    screen_moving_ranges: bool = False
    fixed_baseline_points: int | None = None

    def __post_init__(self) -> None:
        if self.two_in_three_form not in ("mdc2023", "ptd_0.2.2"):
            raise ValueError(f"two_in_three_form must be 'mdc2023' or 'ptd_0.2.2', "
                             f"got {self.two_in_three_form!r}")
        for name in ("run_length", "trend_length", "min_points"):
            if getattr(self, name) < 2:
                raise ValueError(f"{name} must be at least 2")
        if self.fixed_baseline_points is not None and self.fixed_baseline_points < 2:
            raise ValueError("fixed_baseline_points must be at least 2 (or None)")


@dataclass(frozen=True)
class SpcResult:
    """An XmR chart: one row per point, and the chart's two icons.

    ``points`` columns: value, segment, mean, lower, upper, near_lower, near_upper,
    beyond_limit, run, trend, two_in_three, special_cause, direction (+1 high, -1 low, 0),
    point_type (improvement, concern, neutral, common_cause; None where the segment has too
    few points for limits).
    """

    points: pd.DataFrame
    variation_icon: str | None
    assurance_icon: str | None
    note: str | None = None


def _polarity_signs(polarity: Any, frame: pd.DataFrame) -> np.ndarray:
    """+1 (higher is better), -1 (lower is better) or 0 (neutral) for every row."""
    if not isinstance(polarity, pd.Series) and (polarity is None or polarity in _POLARITY_SIGN):
        return np.full(len(frame), _POLARITY_SIGN.get(polarity, 0))  # one polarity: no lookup
    raw = pd.Series(per_row(polarity, frame, "polarity"), dtype=object)
    known = raw.isin(list(_POLARITY_SIGN)) | raw.isna()
    if not known.all():
        bad = raw[~known].iloc[0]
        raise ValueError(f"polarity must be 'higher', 'lower' or None, got {bad!r}")
    return raw.map(_POLARITY_SIGN).fillna(0).to_numpy(dtype=int)


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
    detail: bool = False,
) -> pd.DataFrame:
    """The Making Data Count XmR chart of every group of a long frame: what the mart stores.

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
        settings: rule lengths, the two-in-three form, screening and a fixed baseline.
        detail: also return segment (numbered from 0 in each group), near_lower and
            near_upper (the 2-sigma lines), as ``xmr`` shows them.

    Returns:
        A frame on ``frame.index`` with columns spc_mean, spc_lower, spc_upper,
        spc_special_cause (the point type of special-cause points: improvement, concern or
        neutral; None for common cause and where there are no limits), point_type (as
        ``xmr``: also common_cause, None without limits), beyond_limit, run, trend,
        two_in_three, direction (+1, -1, 0) and, on every row of the group, variation_icon
        and assurance_icon (None where ``xmr`` gives none).
    """
    rows, group = sorted_rows(frame, by, order)
    y_all = floats(frame, value)[rows]
    sign_all = _polarity_signs(polarity, frame)[rows]
    check_constant(sign_all, group, "polarity")
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
    mean = slice_reduce(y, starts, np.where(assessed, base, lengths))
    ranges = np.abs(np.diff(y))  # ranges[i] = |y[i+1] - y[i]|; only in-baseline ones used
    average = slice_reduce(ranges, starts, np.where(assessed, base - 1, 0))
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
            screened = slice_reduce(ranges[keep], np.cumsum(kept_counts) - kept_counts,
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
        t = floats(frame, target)[rows][charted][last]
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
    extra = {}
    if detail:
        group_start = np.maximum.accumulate(np.where(first, np.arange(count), 0))
        extra = {"segment": column(seg - seg[group_start], -1, int),
                 "near_lower": column(near_lower[seg], np.nan, float),
                 "near_upper": column(near_upper[seg], np.nan, float)}
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
        "variation_icon": back(variation_of[group], rows, frame.index),
        "assurance_icon": back(assurance_of[group], rows, frame.index),
        **extra,
    }, index=frame.index)


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
    same_side_stretch = stretch_lengths((pos == 0) | (side != shift(side, 1, np.nan)))
    run = assessed & (side != 0) & (same_side_stretch >= settings.run_length)

    # trend: trend_length - 1 rises (or falls) in a row; a tie breaks it. step[i] is the
    # step from point i - 1 to point i (0 at a segment's first point).
    step = np.where(pos >= 1, np.sign(y - shift(y, 1, np.nan)), 0.0)
    step_stretch = stretch_lengths((pos <= 1) | (step != shift(step, 1, np.nan)))
    marked = assessed & (step != 0) & (step_stretch >= settings.trend_length - 1)
    in_trend = {}
    for s in (1, -1):
        ends = marked & (step == s)  # the point a marked step ends on
        in_trend[s] = ends | shift(ends, -1, False)  # ... and the point it starts from
    trend_dir = np.where(in_trend[1], 1.0, np.where(in_trend[-1], -1.0, 0.0))

    with np.errstate(invalid="ignore"):
        near = (y > near_upper) | (y < near_lower)
    if settings.two_in_three_form == "ptd_0.2.2":
        near &= ~beyond  # before Nov 2023 only points between 2 and 3 sigma counted
    # windows of three points starting at each point, all on one side, two or more near
    window = (assessed & (pos + 2 < length) & (side != 0)
              & (shift(side, -1, np.nan) == side) & (shift(side, -2, np.nan) == side)
              & (near.astype(int) + shift(near, -1, False) + shift(near, -2, False) >= 2))
    two = near & (window | shift(window, 1, False) | shift(window, 2, False))

    # direction from the first rule that flags the point (NHSRplotthedots 0.2.2 order)
    direction = np.select([beyond, trend_dir != 0, two, run], [side, trend_dir, side, side],
                          default=0).astype(int)
    return {"beyond_limit": beyond, "run": run, "trend": trend_dir != 0, "two_in_three": two,
            "direction": direction}




def xmr(
    values: Sequence[float] | np.ndarray | pd.Series,
    *,
    polarity: Polarity,
    target: float | None = None,
    rebase_at: Sequence[int] = (),
    settings: SpcSettings = SpcSettings(),  # noqa: B008 - frozen, so a shared default is safe
) -> SpcResult:
    """XmR chart of one KPI's values in time order, with MDC rules and icons (`spc_frame` on
    a single series).

    Args:
        values: the KPI value per period, oldest first, no gaps (a Series keeps its index).
        polarity: "higher" or "lower" is better, or None for a neutral measure.
        target: the KPI's target, for the assurance icon.
        rebase_at: positions (0-based) where a new segment with its own limits starts.
        settings: rule lengths, the two-in-three form, screening and a fixed baseline.

    Raises:
        ValueError: missing values, an unknown polarity or a rebase position out of range.
    """
    if polarity not in ("higher", "lower", None):
        raise ValueError(f"polarity must be 'higher', 'lower' or None, got {polarity!r}")
    index = values.index if isinstance(values, pd.Series) else None
    y = np.asarray(values, dtype=float)
    if np.isnan(y).any():
        raise ValueError("SPC needs a value for every period: found missing values")
    breaks = sorted(set(int(b) for b in rebase_at))
    if any(b <= 0 or b >= len(y) for b in breaks):
        raise ValueError(f"rebase positions must lie between 1 and {len(y) - 1}: {breaks}")
    series = pd.DataFrame({"series": 0, "period": np.arange(len(y)), "value": y,
                           "target": np.nan if target is None else float(target),
                           "rebase": np.isin(np.arange(len(y)), breaks)})
    chart = spc_frame(series, by=["series"], polarity=polarity, target="target",
                      rebase="rebase", settings=settings, detail=True)
    rules = ["beyond_limit", "run", "trend", "two_in_three"]
    points = pd.DataFrame({
        "value": y, "segment": chart["segment"].to_numpy(),
        "mean": chart["spc_mean"].to_numpy(), "lower": chart["spc_lower"].to_numpy(),
        "upper": chart["spc_upper"].to_numpy(), "near_lower": chart["near_lower"].to_numpy(),
        "near_upper": chart["near_upper"].to_numpy(),
        **{rule: chart[rule].to_numpy() for rule in rules},
        "special_cause": chart[rules].any(axis=1).to_numpy(),
        "direction": chart["direction"].to_numpy(),
    }, index=index)
    # object, not pandas' string dtype: a point without limits has point type None, not NaN
    points["point_type"] = pd.Series(chart["point_type"].to_numpy(dtype=object),
                                     index=points.index, dtype=object)
    last_segment = len(y) - (breaks[-1] if breaks else 0)
    baseline = min(last_segment, settings.fixed_baseline_points or last_segment)
    if baseline < settings.min_points:
        note = (f"No icons: limits need at least {settings.min_points} points since the last "
                f"break, and there are {last_segment}.")
        return SpcResult(points, None, None, note)
    variation, assurance = chart["variation_icon"].iloc[-1], chart["assurance_icon"].iloc[-1]
    if target is None or polarity is None:
        why = "no target" if target is None else "a neutral measure has no assurance"
        return SpcResult(points, variation, None, f"No assurance icon: {why}.")
    return SpcResult(points, variation, assurance, None)
