"""Peer groups of similar size, and the spread of peers' values (pure: numbers in, numbers out).

"Similar list size" (dashboard.md): the practices of the same fifth (quintile) of registered list
size within the area; ties are split by order so the fifths are as equal as they can be.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["size_quintile", "value_quantiles"]

QUINTILES = 5


def size_quintile(list_sizes: pd.Series) -> pd.Series:
    """Each practice's list-size fifth, 1 (smallest) to 5; <NA> where the size is missing.

    With fewer practices than fifths, each practice is its own group numbered from 1.
    """
    sizes = pd.to_numeric(list_sizes, errors="coerce")
    known = sizes.dropna()
    out = pd.Series(pd.NA, index=sizes.index, dtype="Int64")
    if known.empty:
        return out
    order = known.rank(method="first")
    groups = min(QUINTILES, len(known))
    out[known.index] = pd.qcut(order, groups, labels=range(1, groups + 1)).astype(int)
    return out


def value_quantiles(values: Any, quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9)
                    ) -> dict[float, float]:
    """{quantile: value} of the finite values (numpy's linear method); empty without values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {}
    return dict(zip(quantiles, (float(x) for x in np.quantile(v, quantiles)), strict=True))
