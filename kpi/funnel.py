"""Funnel plots for peer comparison: control limits around the group value, and each unit's class.

Method: Spiegelhalter DJ, "Funnel plots for comparing institutional performance", Statistics
in Medicine 2005; 24:1185-1202, as used in PHE/OHID's funnel plot guidance:

* limits are exact: binomial quantiles for proportions, Poisson quantiles for rates, with the
  paper's interpolation between integer counts (Appendix A.1.1) so the funnel is smooth;
* levels 95% and 99.8% (about 2 and 3 standard deviations);
* optional overdispersion (section 3.3): z-scores of the units against the group value,
  winsorised at 10% in each tail, give phi = mean of z²; the multiplicative model inflates
  the variance by phi, the additive (random-effects, DerSimonian-Laird style) model adds
  tau² = (I·phi − (I − 1)) / (Σw − Σw²/Σw), w = 1/s². Both use normal limits.

Values are on the displayed scale: a proportion or a rate per ``denominator`` multiplied by
``multiplier`` (100 for a percentage, 1,000 for a rate per 1,000).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["classify_funnel", "funnel_curve", "funnel_limits", "overdispersion"]

Kind = Literal["proportion", "rate"]
Overdispersion = Literal["multiplicative", "additive"] | None

# Spiegelhalter (2005), section 3.3.2: winsorise 10% of z-scores at each end.
WINSOR_FRACTION = 0.10
LEVELS = (0.95, 0.998)


def _label(level: float) -> str:
    """Column suffix for a level: 0.95 → '95', 0.998 → '998'."""
    return f"{level * 100:g}".replace(".", "")


def _variance(theta: float, kind: Kind) -> float:
    """Variance of one observation on the raw scale (per unit of denominator)."""
    return theta * (1 - theta) if kind == "proportion" else theta


def _exact_limit(n: np.ndarray, theta: float, p: float, kind: Kind) -> np.ndarray:
    """Spiegelhalter (2005) A.1.1: the p-quantile count, interpolated, divided by n."""
    dist = stats.binom(n.astype(float), theta) if kind == "proportion" else stats.poisson(n * theta)
    r = dist.ppf(p)
    below = dist.cdf(r - 1)
    at = dist.cdf(r)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(at > below, (at - p) / (at - below), 0.0)
        return (r - alpha) / n


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


def funnel_limits(
    denominators: Any,
    group_value: float,
    *,
    kind: Kind,
    multiplier: float = 1,
    levels: tuple[float, ...] = LEVELS,
    overdispersion: Overdispersion = None,
    units: tuple[Any, Any] | None = None,
    winsor: float = WINSOR_FRACTION,
) -> pd.DataFrame:
    """Funnel limits at each denominator: columns lower_95, upper_95, lower_998, upper_998.

    Args:
        denominators: the x-axis points (a Series keeps its index).
        group_value: the centre line on the displayed scale (e.g. 80.6 for 80.6%).
        kind: "proportion" (binomial) or "rate" (Poisson).
        multiplier: displayed value = raw × multiplier.
        levels: confidence levels of the limits.
        overdispersion: None for exact limits, or "multiplicative" / "additive".
        units: (numerators, denominators) of the compared units, needed to estimate
            overdispersion.

    The frame's ``attrs`` hold group_value, phi and tau2 (tau2 on the raw scale).
    """
    if kind not in ("proportion", "rate"):
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    index = denominators.index if isinstance(denominators, pd.Series) else None
    n = np.asarray(denominators, dtype=float)
    theta = group_value / multiplier
    phi, tau2 = 1.0, 0.0
    if overdispersion is not None:
        if overdispersion not in ("multiplicative", "additive"):
            raise ValueError(f"overdispersion must be None, 'multiplicative' or 'additive', "
                             f"got {overdispersion!r}")
        if units is None:
            raise ValueError("overdispersion needs the units' (numerators, denominators)")
        phi, tau2 = _overdispersion_of(units, group_value, kind, multiplier, winsor)
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        safe_n = np.where(n > 0, n, np.nan)
        for level in levels:
            tail = (1 - level) / 2
            if overdispersion is None:
                lower = _exact_limit(safe_n, theta, tail, kind)
                upper = _exact_limit(safe_n, theta, 1 - tail, kind)
            else:
                s2 = _variance(theta, kind) / safe_n
                spread = s2 * max(phi, 1.0) if overdispersion == "multiplicative" else s2 + tau2
                half = stats.norm.ppf(1 - tail) * np.sqrt(spread)
                lower, upper = theta - half, theta + half
            top = 1.0 if kind == "proportion" else np.inf
            out[f"lower_{_label(level)}"] = np.clip(lower, 0, top) * multiplier
            out[f"upper_{_label(level)}"] = np.clip(upper, 0, top) * multiplier
    frame = pd.DataFrame(out, index=index)
    frame.attrs.update(group_value=group_value, phi=phi, tau2=tau2)
    return frame


def _overdispersion_of(units, group_value, kind, multiplier, winsor):
    numerators, denominators = units
    return overdispersion(numerators, denominators, group_value, kind=kind,
                          multiplier=multiplier, winsor=winsor)


def classify_funnel(
    numerators: Any,
    denominators: Any,
    *,
    kind: Kind,
    group_value: float | None = None,
    multiplier: float = 1,
    levels: tuple[float, float] = LEVELS,
    overdispersion: Overdispersion = None,
    winsor: float = WINSOR_FRACTION,
) -> pd.Series:
    """Each unit's place on the funnel: within, above_95, above_998, below_95 or below_998.

    The group value defaults to Σ numerators / Σ denominators × multiplier (never an average
    of averages). A unit exactly on a limit is within it; a unit with denominator 0 gets None.
    The Series' ``attrs`` hold group_value, phi and tau2.
    """
    o = pd.Series(numerators) if not isinstance(numerators, pd.Series) else numerators
    n = pd.Series(np.asarray(denominators, dtype=float), index=o.index)
    if group_value is None:
        group_value = float(o.sum() / n.sum() * multiplier)
    limits = funnel_limits(n, group_value, kind=kind, multiplier=multiplier, levels=levels,
                           overdispersion=overdispersion, units=(o, n), winsor=winsor)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = o.astype(float) / n.where(n > 0) * multiplier
    inner, outer = (_label(level) for level in sorted(levels))
    classes = pd.Series("within", index=o.index, dtype=object)
    classes[value > limits[f"upper_{inner}"]] = f"above_{inner}"
    classes[value > limits[f"upper_{outer}"]] = f"above_{outer}"
    classes[value < limits[f"lower_{inner}"]] = f"below_{inner}"
    classes[value < limits[f"lower_{outer}"]] = f"below_{outer}"
    classes[value.isna()] = None
    classes.attrs.update(limits.attrs)
    return classes


def funnel_curve(
    denominators: Any,
    group_value: float,
    *,
    kind: Kind,
    multiplier: float = 1,
    points: int = 120,
    levels: tuple[float, ...] = LEVELS,
    extend: tuple[float, float] = (0.5, 1.1),
) -> pd.DataFrame:
    """Limits along a smooth grid spanning the units' denominators, for drawing a funnel.

    Columns: denominator, then funnel_limits' columns; the grid runs geometrically from
    extend[0] x the smallest positive denominator to extend[1] x the largest, and holds both
    (so the funnel's mouth shows beyond the smallest unit); rounded to whole numbers for
    proportions. Empty frame without units.
    ``attrs`` hold group_value (and phi, tau2 of exact limits: 1 and 0).
    """
    n = np.asarray(denominators, dtype=float)
    n = n[np.isfinite(n) & (n > 0)]
    if n.size == 0:
        columns = [f"{side}_{_label(level)}" for level in levels for side in ("lower", "upper")]
        frame = pd.DataFrame(columns=["denominator", *columns], dtype=float)
        frame.attrs.update(group_value=group_value, phi=1.0, tau2=0.0)
        return frame
    low, high = n.min() * extend[0], n.max() * extend[1]
    grid = np.concatenate([np.geomspace(low, high, points), [n.min(), n.max()]])
    if kind == "proportion":  # binomial limits need whole-number denominators
        grid = np.maximum(np.round(grid), 1)
    grid = np.unique(grid)
    frame = funnel_limits(grid, group_value, kind=kind, multiplier=multiplier, levels=levels)
    frame.insert(0, "denominator", grid)
    return frame
