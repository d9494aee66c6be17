"""The month a figure belongs to, written 'YYYY-MM': the one place that parses and shapes it."""

from __future__ import annotations

import calendar
import re
from datetime import date

import numpy as np
import pandas as pd

# A real month: four-digit year, month 01..12 (pandas' str.fullmatch takes this pattern too).
PATTERN = r"\d{4}-(0[1-9]|1[0-2])"
_PERIOD = re.compile(PATTERN)


def is_period(text: object) -> bool:
    """True when `text` is a month written YYYY-MM."""
    return isinstance(text, str) and _PERIOD.fullmatch(text) is not None


def parse(period: str) -> tuple[int, int]:
    """(year, month) of a 'YYYY-MM' period; ValueError naming the text when it is not one."""
    if not is_period(period):
        raise ValueError(f"{period!r} is not a month written YYYY-MM")
    return int(period[:4]), int(period[5:7])


def period_of(day: date) -> str:
    """The 'YYYY-MM' period a date (or Timestamp) falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def add_months(period: str, months: int) -> str:
    """The period `months` after `period` (before it when negative)."""
    year, month = parse(period)
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def first_day(period: str) -> date:
    """The first day of the month."""
    year, month = parse(period)
    return date(year, month, 1)


def days_in(period: str) -> int:
    """How many days the month has."""
    year, month = parse(period)
    return calendar.monthrange(year, month)[1]


def last_day(period: str) -> date:
    """The last day of the month."""
    year, month = parse(period)
    return date(year, month, days_in(period))


def days_in_each(periods: pd.Series) -> np.ndarray:
    """Days in each period of a Series (worked out once per distinct month: frames are large)."""
    days = {p: days_in(p) for p in pd.unique(periods)}
    return periods.map(days).to_numpy(dtype=float)
