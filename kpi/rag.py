"""Red / amber / green status of KPI values against their targets, by the KPI's polarity.

green: the target is met (at or better than it); amber: missed by no more than the tolerance
(a share of the target, default 5%: a setting); red: missed by more. No status (None) where the
value or the target is missing.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from kpi.catalogue import load_catalogue

DEFAULT_TOLERANCE = 0.05  # 5% of the target: a local convention, overridable in settings
RAG_VALUES = ("green", "amber", "red")
Rag = Literal["green", "amber", "red"]
_EPS = 1e-9  # a value exactly on a boundary (after float rounding) counts as inside it


def rag(
    values: pd.Series | np.ndarray | float,
    targets: pd.Series | np.ndarray | float | None,
    polarity: pd.Series | np.ndarray | str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> pd.Series:
    """RAG status for each value: 'green', 'amber', 'red' or None (object Series).

    `polarity` is 'higher' or 'lower' (one for all, or one per value).
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, not {tolerance}")
    index = values.index if isinstance(values, pd.Series) else None
    v = np.atleast_1d(np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float))
    t = np.broadcast_to(
        np.asarray(np.nan if targets is None else pd.to_numeric(targets, errors="coerce"),
                   dtype=float),
        v.shape,
    )
    pol = np.broadcast_to(np.asarray(polarity, dtype=object), v.shape)
    bad = ~np.isin(pol, ("higher", "lower"))
    if bad.any():
        raise ValueError(f"polarity must be 'higher' or 'lower', not {pol[bad][0]!r}")
    # Shortfall: how far the value is on the bad side of the target (<= 0 means met).
    shortfall = np.where(pol == "higher", t - v, v - t)
    scale = np.abs(t)
    with np.errstate(invalid="ignore"):
        met = shortfall <= _EPS * np.maximum(scale, 1.0)
        near = shortfall <= tolerance * scale + _EPS * np.maximum(scale, 1.0)
    status = np.select([met, near], ["green", "amber"], default="red").astype(object)
    status[np.isnan(v) | np.isnan(t)] = None
    return pd.Series(status, index=index, dtype=object, name="rag")


def rag_one(value: float | None, target: float | None, polarity: str,
            tolerance: float = DEFAULT_TOLERANCE) -> Rag | None:
    """RAG status of a single value (see `rag`)."""
    return rag(np.nan if value is None else value, target, polarity, tolerance=tolerance).iloc[0]


def rag_frame(frame: pd.DataFrame, *, tolerance: float = DEFAULT_TOLERANCE) -> pd.Series:
    """RAG status for each row of a frame with kpi_id, value and target (polarity from the
    catalogue)."""
    polarity = {k.id: k.polarity for k in load_catalogue()}
    pol = frame["kpi_id"].map(polarity)
    if pol.isna().any():
        raise KeyError(f"unknown KPI id(s) {sorted(set(frame['kpi_id'][pol.isna()]))}")
    return rag(frame["value"], frame["target"], pol.to_numpy(dtype=object), tolerance=tolerance)
