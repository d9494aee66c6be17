"""Peers of similar list size: equal fifths by rank; quantiles of peers' values."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.peers import size_quintile, value_quantiles


def test_list_size_fifths_are_equal_groups_by_size():
    sizes = pd.Series([1000, 9000, 3000, 7000, 5000, 2000, 10000, 4000, 6000, 8000, None],
                      index=list("abcdefghijk"))
    fifth = size_quintile(sizes)
    assert fifth.loc[["a", "f"]].tolist() == [1, 1]  # 1,000 and 2,000: the smallest fifth
    assert fifth.loc[["b", "g"]].tolist() == [5, 5]
    assert fifth.loc[["c", "h"]].tolist() == [2, 2]
    assert pd.isna(fifth["k"]) and fifth.dropna().value_counts().tolist() == [2] * 5


def test_fewer_practices_than_fifths_and_ties():
    assert size_quintile(pd.Series([500, 100])).tolist() == [2, 1]
    tied = size_quintile(pd.Series([100] * 10))
    assert tied.value_counts().tolist() == [2] * 5  # ties split by order, never one big group
    assert size_quintile(pd.Series([None, None])).isna().all()


def test_value_quantiles_linear():
    assert value_quantiles([1, 2, 3, 4, 5, float("nan")], (0.25, 0.5, 0.9)) == \
        pytest.approx({0.25: 2.0, 0.5: 3.0, 0.9: 4.6})
    assert value_quantiles([]) == {}
