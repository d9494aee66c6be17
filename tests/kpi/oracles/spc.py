"""Test oracle for kpi.spc: the XmR chart of one series, a loop over its segments and points.

Rules as kpi/spc.py documents them (Making Data Count, as NHSRplotthedots does it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from kpi.spc import (
    LIMIT_FACTOR,
    MOVING_RANGE_SCREEN,
    NEAR_FACTOR,
    Polarity,
    SpcResult,
    SpcSettings,
)


def _runs(flags: np.ndarray, length: int) -> np.ndarray:
    """True for every point inside a stretch of ``length`` or more consecutive True flags."""
    out = np.zeros(len(flags), dtype=bool)
    start = 0
    for i in range(len(flags) + 1):
        if i == len(flags) or not flags[i]:
            if i - start >= length:
                out[start:i] = True
            start = i + 1
    return out


def _segment_rules(
    y: np.ndarray, mean: float, lower: float, upper: float, near_lower: float,
    near_upper: float, settings: SpcSettings,
) -> dict[str, np.ndarray]:
    side = np.sign(y - mean)
    beyond = (y > upper) | (y < lower)

    run = np.zeros(len(y), dtype=bool)
    for s in (1, -1):
        run |= _runs(side == s, settings.run_length)

    # a trend of n points is n - 1 consecutive rises (or falls); equal neighbours break it
    steps = np.sign(np.diff(y))
    trend_dir = np.zeros(len(y))
    for s in (1, -1):
        rising = _runs(steps == s, settings.trend_length - 1)
        in_trend = np.zeros(len(y), dtype=bool)
        in_trend[:-1] |= rising
        in_trend[1:] |= rising
        trend_dir[in_trend & (trend_dir == 0)] = s

    near = (y > near_upper) | (y < near_lower)
    if settings.two_in_three_form == "ptd_0.2.2":
        near &= ~beyond  # before Nov 2023 only points between 2 and 3 sigma counted
    two = np.zeros(len(y), dtype=bool)
    for i in range(len(y) - 2):
        window = slice(i, i + 3)
        same_side = side[i] != 0 and bool(np.all(side[window] == side[i]))
        if same_side and near[window].sum() >= 2:
            two[window] |= near[window]

    # direction from the first rule that flags the point (NHSRplotthedots 0.2.2 order)
    direction = np.select(
        [beyond, trend_dir != 0, two, run], [side, trend_dir, side, side], default=0
    )
    return {
        "beyond_limit": beyond, "run": run, "trend": trend_dir != 0, "two_in_three": two,
        "direction": direction.astype(int),
    }


def _limits(baseline: np.ndarray, screen: bool) -> tuple[float, float]:
    """Mean and mean moving range of the baseline points."""
    moving = np.abs(np.diff(baseline))
    average = moving.mean()
    if screen:
        # NHSRplotthedots screens once: ranges of 3.267 × the mean or more are dropped
        average = moving[moving < MOVING_RANGE_SCREEN * average].mean()
    # A flat baseline's centre line is its value exactly, not a rounded mean of it.
    centre = float(baseline[0]) if not moving.any() else float(baseline.mean())
    return centre, float(average)


def _point_type(direction: int, special: bool, polarity: Polarity) -> str:
    if not special:
        return "common_cause"
    if polarity is None:
        return "neutral"
    good = 1 if polarity == "higher" else -1
    return "improvement" if direction == good else "concern"


def _variation_icon(point_type: str, direction: int, polarity: Polarity) -> str:
    if point_type == "common_cause":
        return "common_cause"
    high_or_low = "high" if direction > 0 else "low"
    return f"{point_type}_{high_or_low}"


def _assurance_icon(target: float, lower: float, upper: float, polarity: str) -> str:
    # the target beyond the limit on the bad side is always met; on the good side never
    if polarity == "higher":
        return "fail" if target > upper else "pass" if target < lower else "hit_and_miss"
    return "fail" if target < lower else "pass" if target > upper else "hit_and_miss"


def xmr(values: Sequence[float] | pd.Series, *, polarity: Polarity, target: float | None = None,
        rebase_at: Sequence[int] = (), settings: SpcSettings = SpcSettings()  # noqa: B008
        ) -> SpcResult:
    """The chart as kpi.spc.xmr gives it, segment by segment (valid input assumed)."""
    index = values.index if isinstance(values, pd.Series) else None
    y = np.asarray(values, dtype=float)
    bounds = [0, *sorted(set(int(b) for b in rebase_at)), len(y)]

    columns: dict[str, list[Any]] = {key: [] for key in (
        "segment", "mean", "lower", "upper", "near_lower", "near_upper", "beyond_limit", "run",
        "trend", "two_in_three", "direction", "point_type")}
    last_assessed = False
    last_limits = (np.nan, np.nan)
    for segment, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        part = y[start:stop]
        baseline = part[: settings.fixed_baseline_points or len(part)]
        n = len(part)
        columns["segment"] += [segment] * n
        assessed = len(baseline) >= settings.min_points
        if assessed:
            mean, average_range = _limits(baseline, settings.screen_moving_ranges)
            lower, upper = mean - LIMIT_FACTOR * average_range, mean + LIMIT_FACTOR * average_range
            near_lower, near_upper = (mean - NEAR_FACTOR * average_range,
                                      mean + NEAR_FACTOR * average_range)
            rules = _segment_rules(part, mean, lower, upper, near_lower, near_upper, settings)
            special = rules["beyond_limit"] | rules["run"] | rules["trend"] | rules["two_in_three"]
            types = [_point_type(d, s, polarity) for d, s in zip(rules["direction"], special,
                                                                  strict=True)]
        else:
            mean = float(part.mean())
            lower = upper = near_lower = near_upper = np.nan
            rules = {key: np.zeros(n, dtype=bool) for key in (
                "beyond_limit", "run", "trend", "two_in_three")}
            rules["direction"] = np.zeros(n, dtype=int)
            types = [None] * n
        for key, value in (("mean", mean), ("lower", lower), ("upper", upper),
                           ("near_lower", near_lower), ("near_upper", near_upper)):
            columns[key] += [value] * n
        for key in ("beyond_limit", "run", "trend", "two_in_three", "direction"):
            columns[key] += list(rules[key])
        columns["point_type"] += types
        last_assessed, last_limits = assessed, (lower, upper)

    points = pd.DataFrame({"value": y, **columns}, index=index)
    for key in ("beyond_limit", "run", "trend", "two_in_three"):
        points[key] = points[key].astype(bool)
    points["special_cause"] = points[["beyond_limit", "run", "trend", "two_in_three"]].any(axis=1)
    points["point_type"] = points["point_type"].astype(object)
    points = points[["value", "segment", "mean", "lower", "upper", "near_lower", "near_upper",
                     "beyond_limit", "run", "trend", "two_in_three", "special_cause",
                     "direction", "point_type"]]

    if not last_assessed:
        note = (f"No icons: limits need at least {settings.min_points} points since the last "
                f"break, and there are {bounds[-1] - bounds[-2]}.")
        return SpcResult(points, None, None, note)
    last = points.iloc[-1]
    variation = _variation_icon(last["point_type"], int(last["direction"]), polarity)
    if target is None or polarity is None:
        why = "no target" if target is None else "a neutral measure has no assurance"
        return SpcResult(points, variation, None, f"No assurance icon: {why}.")
    assurance = _assurance_icon(float(target), *last_limits, polarity)
    return SpcResult(points, variation, assurance, None)
