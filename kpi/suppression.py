"""Small-number suppression where figures leave the system (dashboard, CSV download, export).

kpis.md, "Small numbers": any count from 1 to 7 that would let a person be identified is
shown as ``*`` and rates built on it are not shown, in the dashboard and in exports; zero is
shown. The warehouse keeps the true counts: call this at every exit, never before storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SMALL_NUMBER_MAX", "SUPPRESSED", "is_small", "suppress_frame"]

# kpis.md, "Small numbers": counts from 1 to 7 are suppressed (0 is shown).
SMALL_NUMBER_MAX = 7
SUPPRESSED = "*"


def is_small(count: Any) -> Any:
    """True for each count from 1 to 7 (a bool, array or Series like the input); NaN is False."""
    if isinstance(count, pd.Series):
        numbers = pd.to_numeric(count, errors="coerce")
        return ((numbers >= 1) & (numbers <= SMALL_NUMBER_MAX)).fillna(False).astype(bool)
    numbers = np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore"):
        small = (numbers >= 1) & (numbers <= SMALL_NUMBER_MAX)
    return bool(small) if np.ndim(small) == 0 else small


def suppress_frame(
    frame: pd.DataFrame, count_columns: Iterable[str], value_columns: Iterable[str] = ()
) -> pd.DataFrame:
    """A copy fit to leave the system: small counts and the values built on them become '*'.

    Each small count (1-7) is replaced by '*'; in a row with any small count, every value
    column (rates, percentages, limits) is replaced by '*' too. Other cells keep their
    values. A boolean ``suppressed`` column marks the rows touched.

    Raises:
        KeyError: a named column is not in the frame.
    """
    counts, values = list(count_columns), list(value_columns)
    missing = [c for c in counts + values if c not in frame.columns]
    if missing:
        raise KeyError(f"columns not in the frame: {missing}")
    out = frame.copy()
    small = pd.DataFrame({c: is_small(frame[c]) for c in counts}, index=frame.index)
    row_small = small.any(axis=1) if counts else pd.Series(False, index=frame.index)
    for column in counts:
        out[column] = frame[column].astype(object).where(~small[column], SUPPRESSED)
    for column in values:
        out[column] = frame[column].astype(object).where(~row_small, SUPPRESSED)
    out["suppressed"] = row_small.astype(bool)
    return out
