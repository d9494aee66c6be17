"""Array helpers for computing a statistic over every group of a long frame at once.

The mart holds one row per KPI x organisation x month (about 330,000 series of up to 60 months
at national scale), and design.md asks for it to be rebuilt "with vectorised pandas or SQL, not
a Python loop over organisations". `kpi.spc.spc_frame`, `kpi.funnel.funnel_frame` and
`kpi.trend.trend_frame` therefore sort the rows once by group and period and compute every
rule on flat arrays with these helpers: shifts, cumulative sums, run lengths, and reductions of
equal-length slices stacked into a matrix. Means are taken with numpy on rows of such a matrix,
so the summation order (numpy's pairwise sum), and hence every bit of a mean, equals that of
the same slice reduced alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["back", "check_constant", "floats", "group_quantile", "group_sums", "kinds",
           "per_row", "shift", "slice_reduce", "sorted_rows", "stretch_lengths"]


def sorted_rows(frame: pd.DataFrame, by: Sequence[str], order: str) -> tuple[
        np.ndarray, np.ndarray]:
    """Row positions sorted by group then ``order``, and each sorted row's group number."""
    group = frame.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy()
    key, _ = pd.factorize(frame[order], sort=True)  # any sortable period type
    if (key < 0).any():
        raise ValueError(f"column {order!r} has missing values: every row needs its period")
    rows = np.lexsort((key, group))
    return rows, group[rows]


def per_row(param: Any, frame: pd.DataFrame, name: str) -> np.ndarray:
    """A per-row parameter (a Series aligned to the frame, or one scalar) as an array."""
    if isinstance(param, pd.Series):
        if not param.index.equals(frame.index):
            param = param.reindex(frame.index)
        return param.to_numpy(dtype=object if param.dtype.kind not in "fiub" else None)
    if isinstance(param, (np.ndarray, list)):
        raise TypeError(f"{name} must be a Series aligned to the frame or a scalar")
    return np.full(len(frame), param, dtype=object)


def floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats, missing values as NaN."""
    return pd.to_numeric(frame[column]).to_numpy(dtype=float, na_value=np.nan)


def kinds(kind: Any, frame: pd.DataFrame) -> np.ndarray:
    """True where a row is a proportion, False where a rate; anything else is refused."""
    if isinstance(kind, str) and kind in ("proportion", "rate"):  # one kind for all rows
        return np.full(len(frame), kind == "proportion")
    named = pd.Series(per_row(kind, frame, "kind"), dtype=object)
    known = named.isin(["proportion", "rate"])
    if not known.all():
        raise ValueError(f"kind must be 'proportion' or 'rate', got {named[~known].iloc[0]!r}")
    return (named == "proportion").to_numpy()


def slice_reduce(values: np.ndarray, starts: np.ndarray, counts: np.ndarray,
                 how: str = "mean") -> np.ndarray:
    """``values[start:start + count].mean()`` (or ``.sum()``) for every slice, bit for bit.

    Slices of equal length are stacked into a matrix and reduced along its rows, which numpy
    does with the same pairwise summation as on each slice alone (tested). Empty slices
    give NaN (a mean of nothing) or 0 (a sum).
    """
    out = np.full(len(counts), np.nan if how == "mean" else 0.0)
    if len(counts) == 0:
        return out
    by_count = np.argsort(counts, kind="stable")
    sorted_counts = counts[by_count]
    edges = np.flatnonzero(np.r_[True, sorted_counts[1:] != sorted_counts[:-1], True])
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = int(sorted_counts[lo])
        if m == 0:
            continue
        slices = by_count[lo:hi]
        block = values[starts[slices, None] + np.arange(m)]
        out[slices] = block.mean(axis=1) if how == "mean" else block.sum(axis=1)
    return out


def stretch_lengths(new: np.ndarray) -> np.ndarray:
    """Length of the stretch each element belongs to; ``new`` marks where stretches start."""
    stretch = np.cumsum(new) - 1
    return np.bincount(stretch)[stretch]


def shift(a: np.ndarray, k: int, fill: Any) -> np.ndarray:
    """``a`` moved k places later (k > 0) or earlier (k < 0), ends filled with ``fill``."""
    out = np.full_like(a, fill)
    if k > 0:
        out[k:] = a[:-k]
    elif k < 0:
        out[:k] = a[-k:]
    else:
        out[:] = a
    return out


def back(sorted_values: np.ndarray, rows: np.ndarray, index: pd.Index) -> pd.Series:
    """Values held in sorted order, put back in the frame's order as an object Series."""
    out = np.empty(len(rows), dtype=object)
    out[rows] = sorted_values
    return pd.Series(out, index=index, dtype=object)


def check_constant(values: np.ndarray, group: np.ndarray, what: str) -> None:
    """Refuse a parameter (polarity, kind) that changes within one group."""
    changes = (values[1:] != values[:-1]) & (group[1:] == group[:-1])
    if changes.any():
        raise ValueError(f"{what} must be the same on every row of a group")


def group_sums(values: np.ndarray, group: np.ndarray, groups: int) -> np.ndarray:
    """Σ of each group with missing values as 0, summed as pandas' Series.sum sums them."""
    rows = np.argsort(group, kind="stable")
    counts = np.bincount(group, minlength=groups)
    return slice_reduce(np.nan_to_num(values[rows], nan=0.0), np.cumsum(counts) - counts,
                        counts, how="sum")


def group_quantile(z: np.ndarray, group: np.ndarray, groups: int, q: float) -> np.ndarray:
    """np.quantile(z, q) (method 'linear') of each group: NaN for a group holding a NaN."""
    rows = np.lexsort((z, group))  # NaN sorts last, as in np.quantile
    sorted_z = z[rows]
    counts = np.bincount(group, minlength=groups)
    starts = np.cumsum(counts) - counts
    has_nan = np.bincount(group, weights=np.isnan(z), minlength=groups) > 0
    virtual = (counts - 1) * q
    previous = np.floor(virtual)
    gamma = virtual - previous
    at_top = virtual >= counts - 1
    lo = np.where(at_top, counts - 1, previous).astype(int)
    hi = np.where(at_top, counts - 1, previous + 1).astype(int)
    take = np.clip(starts + lo, 0, max(len(z) - 1, 0)), np.clip(starts + hi, 0, max(len(z) - 1, 0))
    a, b = (sorted_z[t] if len(z) else np.zeros(groups) for t in take)
    # numpy's _lerp: from below for gamma < 0.5, from above otherwise
    diff = b - a
    value = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    return np.where(has_nan | (counts == 0), np.nan, value)
