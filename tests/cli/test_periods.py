"""carekpi.periods: the one reading and writing of a 'YYYY-MM' month."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from carekpi import periods


@pytest.mark.parametrize("text", ["2024-01", "1999-12", "2024-10"])
def test_real_months_are_periods(text):
    assert periods.is_period(text)


@pytest.mark.parametrize("text", ["2024-13", "2024-00", "2024-1", "24-01", "2024-01-01",
                                  " 2024-01", "2024/01", None, 202401])
def test_other_text_is_not_a_period(text):
    assert not periods.is_period(text)
    if isinstance(text, str):
        with pytest.raises(ValueError, match=r"is not a month written YYYY-MM"):
            periods.parse(text)


def test_parse_and_format():
    assert periods.parse("2023-04") == (2023, 4)
    assert periods.period_of(date(2023, 4, 30)) == "2023-04"
    assert periods.period_of(pd.Timestamp("2021-12-31 23:59")) == "2021-12"


@pytest.mark.parametrize(("period", "months", "want"), [
    ("2024-01", -1, "2023-12"), ("2024-12", 1, "2025-01"), ("2024-05", -12, "2023-05"),
    ("2024-05", 0, "2024-05"), ("2020-03", 25, "2022-04"), ("2020-03", -27, "2017-12"),
])
def test_add_months(period, months, want):
    assert periods.add_months(period, months) == want


def test_month_days():
    # leap years: 2024 and 2000 are, 2023 and 1900 are not
    assert [periods.days_in(p) for p in ("2024-02", "2023-02", "2000-02", "1900-02",
                                         "2024-04", "2024-12")] == [29, 28, 29, 28, 30, 31]
    assert periods.first_day("2024-02") == date(2024, 2, 1)
    assert periods.last_day("2024-02") == date(2024, 2, 29)
    assert periods.days_in_each(pd.Series(["2023-02", "2024-02", "2023-02"])).tolist() == [
        28.0, 29.0, 28.0]
