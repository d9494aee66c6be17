"""Spine-chart positions: worst left, best right, the reference in the middle (Fingertips)."""

from __future__ import annotations

import math

import pytest

from kpi.spine import spine_positions


def test_spine_positions_put_worst_left_best_right_and_the_reference_in_the_middle():
    peers = [10, 20, 30, 40, 50]
    up = spine_positions(peers, 30, "higher", {"practice": 45, "network": None})
    assert up["worst"] == 0 and up["best"] == 1 and up["median"] == 0.5
    assert up["worse_quartile"] == 0.25 and up["better_quartile"] == 0.75
    assert up["practice"] == 0.875 and math.isnan(up["network"])
    down = spine_positions(peers, 30, "lower", {"practice": 45})
    assert down["worst"] == 0 and down["best"] == 1 and down["practice"] == 0.125
    assert down["worse_quartile"] == 0.25  # the 75th percentile (40) is the worse one
    # off-centre reference: the longer side fills half the chart
    skew = spine_positions(peers, 20, "higher", {"area": 20})
    assert skew["area"] == 0.5 and skew["best"] == 1 and skew["worst"] == pytest.approx(0.3333333)
    with pytest.raises(ValueError, match="polarity"):
        spine_positions(peers, 30, "up")
