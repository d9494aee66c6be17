"""Test oracle for kpi.funnel: limits and classes of one funnel at a time.

Spiegelhalter (2005) exact limits interpolated between counts, and his overdispersion
adjustments, as kpi/funnel.py documents them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kpi.funnel import LEVELS, WINSOR_FRACTION, Kind, Overdispersion, exact_limit, label

# The per-point interpolated quantile (exact_limit) is shared: tests/kpi/test_funnel.py checks
# it against quantiles found by walking the integers. The oracle is independent in the rest:
# one funnel at a time, scalar group value and overdispersion, classes by pandas masks.


def _variance(theta: float, kind: Kind) -> float:
    return theta * (1 - theta) if kind == "proportion" else theta


def overdispersion(
    numerators: Any, denominators: Any, group_value: float, *, kind: Kind,
    multiplier: float = 1, winsor: float = WINSOR_FRACTION,
) -> tuple[float, float]:
    """Overdispersion factor phi and between-unit variance tau² (raw scale) for a set of units.

    phi is the mean squared winsorised z-score; tau² is 0 when I·phi ≤ I − 1 (no excess).
    """
    o = np.asarray(numerators, dtype=float)
    n = np.asarray(denominators, dtype=float)
    keep = n > 0
    o, n = o[keep], n[keep]
    theta = group_value / multiplier
    s2 = _variance(theta, kind) / n
    z = (o / n - theta) / np.sqrt(s2)
    low, high = np.quantile(z, [winsor, 1 - winsor])
    z = np.clip(z, low, high)
    units = len(z)
    phi = float(np.mean(z**2))
    w = 1 / s2
    excess = units * phi - (units - 1)
    tau2 = max(0.0, float(excess / (w.sum() - (w**2).sum() / w.sum()))) if excess > 0 else 0.0
    return phi, tau2


def funnel_limits(denominators: Any, group_value: float, *, kind: Kind, multiplier: float = 1,
                  levels: tuple[float, ...] = LEVELS, overdispersion: Overdispersion = None,
                  units: tuple[Any, Any] | None = None, winsor: float = WINSOR_FRACTION
                  ) -> pd.DataFrame:
    """Limits at each denominator, one level at a time (valid options assumed)."""
    index = denominators.index if isinstance(denominators, pd.Series) else None
    n = np.asarray(denominators, dtype=float)
    theta = group_value / multiplier
    phi, tau2 = 1.0, 0.0
    if overdispersion is not None:
        phi, tau2 = _overdispersion_of(units, group_value, kind, multiplier, winsor)
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        safe_n = np.where(n > 0, n, np.nan)
        for level in levels:
            tail = (1 - level) / 2
            if overdispersion is None:
                lower = exact_limit(safe_n, theta, tail, kind)
                upper = exact_limit(safe_n, theta, 1 - tail, kind)
            else:
                s2 = _variance(theta, kind) / safe_n
                spread = s2 * max(phi, 1.0) if overdispersion == "multiplicative" else s2 + tau2
                half = stats.norm.ppf(1 - tail) * np.sqrt(spread)
                lower, upper = theta - half, theta + half
            top = 1.0 if kind == "proportion" else np.inf
            out[f"lower_{label(level)}"] = np.clip(lower, 0, top) * multiplier
            out[f"upper_{label(level)}"] = np.clip(upper, 0, top) * multiplier
    frame = pd.DataFrame(out, index=index)
    frame.attrs.update(group_value=group_value, phi=phi, tau2=tau2)
    return frame


def _overdispersion_of(units, group_value, kind, multiplier, winsor):
    numerators, denominators = units
    return overdispersion(numerators, denominators, group_value, kind=kind,
                          multiplier=multiplier, winsor=winsor)


def classify_funnel(numerators: Any, denominators: Any, *, kind: Kind,
                    group_value: float | None = None, multiplier: float = 1,
                    levels: tuple[float, float] = LEVELS, overdispersion: Overdispersion = None,
                    winsor: float = WINSOR_FRACTION) -> pd.Series:
    """Each unit's class against one funnel's limits (group value pooled unless given)."""
    o = pd.Series(numerators) if not isinstance(numerators, pd.Series) else numerators
    n = pd.Series(np.asarray(denominators, dtype=float), index=o.index)
    if group_value is None:
        group_value = float(o.sum() / n.sum() * multiplier)
    limits = funnel_limits(n, group_value, kind=kind, multiplier=multiplier, levels=levels,
                           overdispersion=overdispersion, units=(o, n), winsor=winsor)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = o.astype(float) / n.where(n > 0) * multiplier
    inner, outer = (label(level) for level in sorted(levels))
    classes = pd.Series("within", index=o.index, dtype=object)
    classes[value > limits[f"upper_{inner}"]] = f"above_{inner}"
    classes[value > limits[f"upper_{outer}"]] = f"above_{outer}"
    classes[value < limits[f"lower_{inner}"]] = f"below_{inner}"
    classes[value < limits[f"lower_{outer}"]] = f"below_{outer}"
    classes[value.isna()] = None
    classes.attrs.update(limits.attrs)
    return classes
