"""Verdicts that hold together and red-red alerts, on designed series (kpi/verdicts.py)."""

from __future__ import annotations

import numpy as np
import pytest

from kpi.verdicts import latest_shift, reconcile_verdict, red_red_reasons

BASE = [9.0, 11.0] * 10  # 20 points around 10: mean 10, mean moving range 2
STEP = [15.0, 16.0] * 4  # 8 points at 15-16: a sustained shift above any mean near 10


def _limits(values: list[float]) -> tuple[float, float, float]:
    """Mean and XmR limits computed by hand (Wheeler: mean ± 2.66 × mean moving range)."""
    mean = sum(values) / len(values)
    mr = sum(abs(b - a) for a, b in zip(values[:-1], values[1:], strict=True)) / (len(values) - 1)
    return mean, mean - 2.66 * mr, mean + 2.66 * mr


def test_a_run_of_eight_above_the_mean_is_a_shift_with_its_own_limits():
    values = BASE + STEP
    mean = float(np.mean(values))  # 11.43: the step's points are all above it, the last base not
    shift = latest_shift(values, mean, polarity="lower", target=12.0)
    assert shift is not None
    assert (shift.start, shift.points, shift.side) == (20, 8, 1)
    own_mean, lower, upper = _limits(STEP)
    assert shift.mean == pytest.approx(own_mean)
    assert shift.lower == pytest.approx(lower)
    assert shift.upper == pytest.approx(upper)
    # lower is better and target 12 lies below the shift's lower limit 12.84: always missed
    assert shift.assurance == "fail"


def test_six_points_on_one_side_are_not_a_shift():
    values = BASE + STEP[:6]
    assert latest_shift(values, 11.0, polarity="lower") is None


def test_a_suppressed_month_inside_the_run_neither_breaks_nor_counts():
    values = BASE + STEP[:4] + [None] + STEP[4:7]  # 7 known points above the mean
    shift = latest_shift(values, 11.0, polarity="higher")
    assert shift is not None and shift.points == 7 and shift.start == 20
    assert latest_shift(BASE + STEP[:3] + [np.nan] + STEP[3:6], 11.0, polarity="higher") is None


def test_no_mean_or_latest_on_the_mean_gives_no_shift():
    assert latest_shift(BASE + STEP, None, polarity="higher") is None
    assert latest_shift([12.0] * 8 + [11.0], 11.0, polarity="higher") is None


def test_elm_surgery_rise_reads_against_the_current_process_and_says_why():
    # a care package rising from 8% to 78% over 36 months, target 75%: limits over the whole
    # rise put 75 above the upper limit (the mart's "fail"), though the last month is 78 (green)
    values = list(np.linspace(8.0, 78.0, 36))
    mean = float(np.mean(values))
    shift = latest_shift(values, mean, polarity="higher", target=75.0)
    assert shift is not None and shift.start == 18 and shift.points == 18
    own_mean, lower, upper = _limits(values[18:])
    assert (shift.mean, shift.upper) == (pytest.approx(own_mean), pytest.approx(upper))
    verdict = reconcile_verdict("green", "fail", shift)
    assert verdict.assurance == ("fail" if 75.0 > upper else "hit_and_miss")
    assert verdict.why.startswith("On target this month, but")


def test_reconcile_explains_only_contradictions():
    assert reconcile_verdict("green", "fail", None).why
    assert reconcile_verdict("red", "pass", None).why.startswith("Off target this month")
    for rag, assurance in (("green", "pass"), ("red", "fail"), ("amber", "fail"),
                           (None, "pass"), ("green", "hit_and_miss")):
        verdict = reconcile_verdict(rag, assurance, None)
        assert verdict.why == "" and verdict.assurance == assurance


def test_in_a_shift_the_tile_shows_the_current_process_assurance():
    values = BASE + STEP
    shift = latest_shift(values, 11.0, polarity="lower", target=20.0)  # 20 above 18.16: pass
    assert shift.assurance == "pass"
    assert reconcile_verdict("green", "fail", shift).assurance == "pass"
    assert reconcile_verdict("green", "fail", shift).why == ""


def _row(**kw):
    row = {"value": 9.0, "suppressed": False, "funnel_class": "above_998",
           "variation_icon": "common_cause", "trend": "no_significant_change"}
    return row | kw


@pytest.mark.parametrize(("row", "polarity", "expected"), [
    (_row(variation_icon="concern_high"), "lower",
     ["above the 99.8% funnel limit of its peers", "special cause of concern"]),
    (_row(trend="increasing"), "lower",
     ["above the 99.8% funnel limit of its peers", "significantly increasing over 5 months"]),
    (_row(funnel_class="below_998", trend="decreasing", variation_icon="concern_low"), "higher",
     ["below the 99.8% funnel limit of its peers", "special cause of concern",
      "significantly decreasing over 5 months"]),
    (_row(), "lower", []),  # worse than peers, not getting worse
    (_row(funnel_class="above_95", variation_icon="concern_high"), "lower", []),  # only 95%
    (_row(variation_icon="concern_high"), "higher", []),  # above is the good side
    (_row(trend="decreasing"), "lower", []),  # improving
    (_row(variation_icon="concern_high", suppressed=True), "lower", []),
    (_row(variation_icon="concern_high", value=float("nan")), "lower", []),
])
def test_red_red_needs_worse_than_peers_and_getting_worse(row, polarity, expected):
    assert red_red_reasons(row, polarity) == expected
