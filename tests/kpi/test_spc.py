"""Making Data Count XmR rules, icons and rebasing, on hand-built series and a published output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi.spc import SpcSettings, spc_frame, xmr

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "nhsrplotthedots"

# A 14-point baseline alternating 9, 11: mean exactly 10, every moving range 2, so the
# process limits are 10 ± 2.66 × 2 = [4.68, 15.32] and the 2-sigma lines 10 ± 3.5467.
BASELINE = [9.0, 11.0] * 7
FROZEN = SpcSettings(fixed_baseline_points=14)
MEAN, AMR = 10.0, 2.0
UPPER, LOWER = MEAN + 2.66 * AMR, MEAN - 2.66 * AMR


def chart(tail, settings=FROZEN, **kwargs):
    """The baseline, a point on the mean (so nothing carries over), then ``tail``."""
    kwargs.setdefault("polarity", "higher")
    return xmr([*BASELINE, MEAN, *tail], settings=settings, **kwargs)


def flags(result, rule):
    """Positions (in the tail) where ``rule`` fired."""
    column = result.points[rule].to_numpy()[len(BASELINE) + 1 :]
    return [i for i, flag in enumerate(column) if flag]


def test_baseline_limits_follow_the_published_constants():
    p = chart([]).points
    assert p["mean"].iloc[0] == MEAN
    assert p["upper"].iloc[0] == pytest.approx(15.32)
    assert p["lower"].iloc[0] == pytest.approx(4.68)
    assert p["near_upper"].iloc[0] == pytest.approx(10 + 2 * 2.66 * 2 / 3)
    assert not p["special_cause"].any()


def test_point_beyond_limit_fires_and_point_on_limit_does_not():
    result = chart([16.0, 10.0, UPPER, 10.0, LOWER, 10.0, 4.0])
    assert flags(result, "beyond_limit") == [0, 6]
    assert result.points["point_type"].iloc[len(BASELINE) + 1] == "improvement"
    assert result.points["point_type"].iloc[-1] == "concern"


def test_run_of_seven_fires_and_run_of_six_does_not():
    result = chart([10.5] * 6 + [10.0] + [9.5] * 7)
    assert flags(result, "run") == list(range(7, 14))
    assert set(result.points["point_type"].iloc[-7:]) == {"concern"}


def test_run_length_is_a_setting():
    result = chart([10.5] * 6 + [10.0], settings=SpcSettings(fixed_baseline_points=14,
                                                            run_length=6))
    assert flags(result, "run") == list(range(6))


def test_trend_of_seven_fires_across_the_mean_in_its_own_direction():
    rising = [7.5, 8.5, 9.5, 10.2, 10.8, 11.5, 12.5]
    result = chart(rising)
    assert flags(result, "trend") == list(range(7))
    # points below the mean are still improvement: the trend is upward and higher is better
    assert set(result.points["point_type"].iloc[-7:]) == {"improvement"}
    lower_is_better = chart(rising, polarity="lower")
    assert set(lower_is_better.points["point_type"].iloc[-7:]) == {"concern"}


def test_six_rises_or_a_tie_is_not_a_trend():
    assert flags(chart([7.5, 8.5, 9.5, 10.2, 10.8, 11.5, 9.0]), "trend") == []
    assert flags(chart([7.5, 8.5, 9.5, 9.5, 10.8, 11.5, 12.5]), "trend") == []


def test_two_of_three_beyond_two_sigma_on_the_same_side():
    result = chart([14.0, 12.0, 14.0, 10.0])
    assert flags(result, "two_in_three") == [0, 2]  # only the points beyond 2 sigma
    assert flags(result, "special_cause") == [0, 2]


def test_two_of_three_on_opposite_sides_does_not_fire():
    assert flags(chart([14.0, 6.0, 10.0]), "two_in_three") == []
    # both beyond 2 sigma above, but the middle point sits below the mean
    assert flags(chart([14.0, 9.5, 14.0, 10.0]), "two_in_three") == []


def test_november_2023_rule_counts_a_point_beyond_three_sigma():
    tail = [14.0, 12.0, 16.0, 10.0]
    current = chart(tail)
    assert flags(current, "two_in_three") == [0, 2]
    older = chart(tail, settings=SpcSettings(fixed_baseline_points=14,
                                             two_in_three_form="ptd_0.2.2"))
    assert flags(older, "two_in_three") == []
    assert flags(older, "special_cause") == [2]  # still beyond the limit


@pytest.mark.parametrize(
    ("last", "polarity", "icon"),
    [
        (16.0, "higher", "improvement_high"),
        (16.0, "lower", "concern_high"),
        (4.0, "higher", "concern_low"),
        (4.0, "lower", "improvement_low"),
        (16.0, None, "neutral_high"),
        (4.0, None, "neutral_low"),
        (10.5, "higher", "common_cause"),
    ],
)
def test_variation_icon_from_the_most_recent_point(last, polarity, icon):
    assert chart([last], polarity=polarity).variation_icon == icon


@pytest.mark.parametrize(
    ("target", "polarity", "icon"),
    [
        (4.0, "higher", "pass"),
        (16.0, "higher", "fail"),
        (10.0, "higher", "hit_and_miss"),
        (16.0, "lower", "pass"),
        (4.0, "lower", "fail"),
        (UPPER, "higher", "hit_and_miss"),
    ],
)
def test_assurance_icon_from_target_against_limits(target, polarity, icon):
    assert chart([10.5], polarity=polarity, target=target).assurance_icon == icon


def test_no_assurance_without_target_or_polarity():
    assert chart([10.5]).assurance_icon is None
    neutral = chart([10.5], polarity=None, target=4.0)
    assert neutral.assurance_icon is None and "neutral" in neutral.note


def test_fewer_than_thirteen_points_gives_no_limits_and_says_why():
    result = xmr(BASELINE[:12], polarity="higher", target=10.0)
    assert result.variation_icon is None and result.assurance_icon is None
    assert "13" in result.note and "12" in result.note
    assert result.points["upper"].isna().all()
    assert result.points["point_type"].tolist() == [None] * 12  # None, not a string NaN
    assert xmr(BASELINE[:13], polarity="higher").variation_icon == "common_cause"


def test_rebase_recalculates_limits_per_segment():
    values = pd.Series([9.0, 11.0] * 7 + [19.0, 21.0] * 7,
                       index=pd.period_range("2020-01", periods=28, freq="M"))
    whole = xmr(values, polarity="higher")
    assert whole.points["mean"].iloc[0] == 15.0
    assert whole.points["special_cause"].all()  # a step change seen as runs of 14
    rebased = xmr(values, polarity="higher", rebase_at=[14])
    p = rebased.points
    assert list(p.index) == list(values.index)
    assert p["segment"].tolist() == [0] * 14 + [1] * 14
    assert p["mean"].iloc[0] == 10.0 and p["mean"].iloc[-1] == 20.0
    assert p["upper"].iloc[-1] == pytest.approx(20 + 2.66 * 2)
    assert not p["special_cause"].any()
    assert rebased.variation_icon == "common_cause"


def test_short_last_segment_after_rebase_gives_no_icons():
    result = xmr([9.0, 11.0] * 10, polarity="higher", rebase_at=[14])
    assert result.variation_icon is None and "6" in result.note
    assert result.points["upper"].iloc[:14].notna().all()


def test_fixed_baseline_uses_only_the_first_points():
    values = [9.0, 11.0] * 7 + [30.0, 31.0]
    p = xmr(values, polarity="higher", settings=FROZEN).points
    assert p["mean"].iloc[-1] == 10.0
    assert p["beyond_limit"].iloc[-2:].all()


def test_screening_drops_moving_ranges_above_3267_times_the_mean():
    values = np.array([10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 40.0, 10.0, 11.0, 10.0, 11.0,
                       10.0, 11.0])
    ranges = np.abs(np.diff(values))
    kept = ranges[ranges < 3.267 * ranges.mean()]
    screened = xmr(values, polarity=None, settings=SpcSettings(screen_moving_ranges=True))
    plain = xmr(values, polarity=None)
    assert screened.points["upper"].iloc[0] == pytest.approx(values.mean() + 2.66 * kept.mean())
    assert plain.points["upper"].iloc[0] == pytest.approx(values.mean() + 2.66 * ranges.mean())
    assert len(kept) == len(ranges) - 2


def test_missing_values_and_bad_rebase_are_refused():
    with pytest.raises(ValueError, match="missing"):
        xmr([1.0, np.nan] * 7, polarity="higher")
    with pytest.raises(ValueError, match="rebase"):
        xmr([1.0] * 14, polarity="higher", rebase_at=[20])


# Golden: NHSRplotthedots' own snapshots of ptd_spc() on the ae_attendances data (see
# tests/golden/SOURCES.md). NHSRplotthedots screens moving ranges and uses the older
# two-in-three rule; it also draws limits from 12 points (with a warning), so min_points=12.
PTD = SpcSettings(screen_moving_ranges=True, two_in_three_form="ptd_0.2.2", min_points=12)


@pytest.mark.parametrize(
    ("name", "rebase_at"),
    [("ae_all_attendances", ()), ("ae_all_attendances_rebase", (12,)),
     ("ae_all_performance", ())],
)
def test_reproduces_nhsrplotthedots_published_output(name, rebase_at):
    expected = pd.read_csv(GOLDEN / f"{name}.csv")
    result = xmr(expected["y"], polarity="higher", rebase_at=rebase_at, settings=PTD)
    p = result.points
    assert p["segment"].tolist() == expected["rebase_group"].astype(int).tolist()
    np.testing.assert_allclose(p["mean"], expected["mean"], rtol=1e-12)
    np.testing.assert_allclose(p["lower"], expected["lpl"], rtol=1e-12)
    np.testing.assert_allclose(p["upper"], expected["upl"], rtol=1e-12)
    assert p["beyond_limit"].tolist() == expected["outside_limits"].tolist()
    near = ((p["value"] > p["near_upper"]) | (p["value"] < p["near_lower"])) & ~p["beyond_limit"]
    assert near.tolist() == expected["close_to_limits"].tolist()
    assert p["special_cause"].tolist() == (expected["special_cause_flag"] == 1).tolist()
    published_type = expected["point_type"].str.removeprefix("special_cause_")
    assert p["point_type"].tolist() == published_type.tolist()


def test_golden_performance_has_every_kind_of_point():
    """Guard that the golden case exercises the rules, not just common cause."""
    expected = pd.read_csv(GOLDEN / "ae_all_performance.csv")
    assert set(expected["point_type"]) == {
        "common_cause", "special_cause_improvement", "special_cause_concern"}


def test_a_constant_series_is_common_cause_not_a_signal():
    result = xmr([0.1] * 20, polarity="higher", target=0.05)
    assert not result.points["special_cause"].any()
    assert result.variation_icon == "common_cause"
    frame = pd.DataFrame({"org": "A", "period": range(20), "value": [0.1] * 20})
    batch = spc_frame(frame, by=["org"], polarity="higher")
    assert batch["spc_special_cause"].isna().all()
    assert (batch["spc_mean"] == 0.1).all()
