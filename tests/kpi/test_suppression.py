"""Small-number suppression at the exits (kpis.md: counts 1-7 shown as '*', zero shown)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpi.suppression import SMALL_NUMBER_MAX, is_small, suppress_frame


def test_threshold_is_seven_from_the_catalogue():
    assert SMALL_NUMBER_MAX == 7


def test_is_small_for_each_kind_of_input():
    assert [is_small(c) for c in (0, 1, 7, 8)] == [False, True, True, False]
    assert is_small(np.array([0, 3, 7, 8, np.nan])).tolist() == [False, True, True, False, False]
    series = pd.Series([5, None, 12], index=["a", "b", "c"], dtype="Int64")
    assert is_small(series).to_dict() == {"a": True, "b": False, "c": False}


def test_suppress_frame_hides_small_counts_and_their_rates_but_shows_zero():
    frame = pd.DataFrame({
        "practice": ["F84003", "F84004", "F84005", "F84006"],
        "admissions": [0, 3, 7, 8],
        "patients": [5000, 4000, 6000, 7000],
        "rate": [0.0, 0.75, 1.1667, 1.1429],
    })
    out = suppress_frame(frame, ["admissions"], ["rate"])
    assert out["admissions"].tolist() == [0, "*", "*", 8]
    assert out["rate"].tolist() == [0.0, "*", "*", 1.1429]
    assert out["patients"].tolist() == [5000, 4000, 6000, 7000]
    assert out["suppressed"].tolist() == [False, True, True, False]
    # the original frame keeps its true counts
    assert frame["admissions"].tolist() == [0, 3, 7, 8]


def test_small_denominator_count_also_suppresses_the_row():
    frame = pd.DataFrame({"numerator": [2, 40], "denominator": [6, 50], "pct": [33.3, 80.0]})
    out = suppress_frame(frame, ["numerator", "denominator"], ["pct"])
    assert out.loc[0].tolist()[:3] == ["*", "*", "*"]
    assert out.loc[1, "pct"] == 80.0


def test_unknown_columns_are_named():
    with pytest.raises(KeyError, match="nope"):
        suppress_frame(pd.DataFrame({"a": [1]}), ["nope"])
