"""Funnel plots for peer comparison: control limits around the group value, and each unit's class.

Method: Spiegelhalter DJ, "Funnel plots for comparing institutional performance", Statistics
in Medicine 2005; 24:1185-1202, as used in PHE/OHID's funnel plot guidance:

* limits are exact by default: binomial quantiles for proportions, Poisson quantiles for rates,
  with the paper's interpolation between integer counts (Appendix A.1.1) so the funnel is
  smooth; ``method="normal"`` gives θ ± z·√(V(θ)/n) instead, the limits of PHE's funnel tool
  for proportions (PHEindicatormethods' ``phe_funnels``: a value beyond them is one whose
  Wilson score interval excludes θ);
* levels 95% and 99.8% (about 2 and 3 standard deviations);
* optional overdispersion (section 3.3): z-scores of the units against the group value,
  winsorised at 10% in each tail, give phi = mean of z²; the multiplicative model inflates
  the variance by phi, the additive (random-effects, DerSimonian-Laird style) model adds
  tau² = (I·phi − (I − 1)) / (Σw − Σw²/Σw), w = 1/s². Both use normal limits;
* indirectly standardised ratios (PHE's ratio funnel): a ratio's limits for each observed
  count are the count over the exact Poisson limits of that count (`ratio_funnel_limits`),
  and a unit's class is where its own Byar/exact interval lies against 100
  (`ratio_classes`).

Values are on the displayed scale: a proportion or a rate per ``denominator`` multiplied by
``multiplier`` (100 for a percentage, 1,000 for a rate per 1,000).

`funnel_frame` classes every row of a long frame against its own group at once (what the mart
needs); `classify_funnel` is the same for one funnel. See docs/methods/funnel.md.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from kpi import grouped
from kpi.intervals import byar

__all__ = ["classify_funnel", "funnel_curve", "funnel_frame", "funnel_limits", "overdispersion",
           "ratio_classes", "ratio_funnel_limits"]

Kind = Literal["proportion", "rate"]
Method = Literal["exact", "normal"]
Overdispersion = Literal["multiplicative", "additive"] | None

# Spiegelhalter (2005), section 3.3.2: winsorise 10% of z-scores at each end.
WINSOR_FRACTION = 0.10
LEVELS = (0.95, 0.998)
RATIO_CENTRE = 100  # a standardised ratio of 100: as many events as expected


def label(level: float) -> str:
    """Column suffix for a level: 0.95 → '95', 0.998 → '998'."""
    return f"{level * 100:g}".replace(".", "")


def exact_limit(n: np.ndarray, theta: Any, p: float, kind: Kind) -> np.ndarray:
    """Spiegelhalter (2005) A.1.1: the p-quantile count, interpolated, divided by n."""
    dist = stats.binom(n.astype(float), theta) if kind == "proportion" else stats.poisson(n * theta)
    r = dist.ppf(p)
    below = dist.cdf(r - 1)
    at = dist.cdf(r)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(at > below, (at - p) / (at - below), 0.0)
        return (r - alpha) / n


def _check_options(method: str, overdispersion: Any) -> None:
    if method not in ("exact", "normal"):
        raise ValueError(f"method must be 'exact' or 'normal', got {method!r}")
    if overdispersion not in (None, "multiplicative", "additive"):
        raise ValueError(f"overdispersion must be None, 'multiplicative' or 'additive', "
                         f"got {overdispersion!r}")


def _limits(n: np.ndarray, theta: np.ndarray, proportion: np.ndarray, level: float, *,
            method: Method, overdispersion: Overdispersion, phi: Any, tau2: Any
            ) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limits on the raw scale (0-1, or events per unit) at each point.

    ``n`` holds NaN where there is no denominator; theta, phi and tau2 are per point (or one
    value); ``proportion`` is True where a point is a proportion, False where a rate.
    """
    tail = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        if overdispersion is None and method == "exact":
            lower, upper = np.empty(len(n)), np.empty(len(n))
            theta = np.broadcast_to(theta, n.shape)
            for is_proportion in (True, False):
                rows = proportion == is_proportion
                kind: Kind = "proportion" if is_proportion else "rate"
                lower[rows] = exact_limit(n[rows], theta[rows], tail, kind)
                upper[rows] = exact_limit(n[rows], theta[rows], 1 - tail, kind)
        else:
            s2 = np.where(proportion, theta * (1 - theta), theta) / n
            if overdispersion == "additive":
                spread = s2 + tau2
            else:  # max(phi, 1) written so that a NaN phi stays NaN; phi is 1 without one
                spread = s2 * np.where(1.0 > phi, 1.0, phi)
            half = stats.norm.ppf(1 - tail) * np.sqrt(spread)
            lower, upper = theta - half, theta + half
        top = np.where(proportion, 1.0, np.inf)
        return np.clip(lower, 0, top), np.clip(upper, 0, top)


def _grouped_overdispersion(o: np.ndarray, n: np.ndarray, theta: np.ndarray,
                            proportion: np.ndarray, group: np.ndarray, groups: int,
                            winsor: float) -> tuple[np.ndarray, np.ndarray]:
    """phi and tau² (raw scale) of every group; only units with a positive denominator count.

    phi is the mean squared winsorised z-score; tau² is 0 when I·phi ≤ I − 1 (no excess).
    """
    keep = n > 0
    variance = np.where(proportion, theta * (1 - theta), theta)
    o, n, theta, variance, g = o[keep], n[keep], theta[keep], variance[keep], group[keep]
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = variance / n
        z = (o / n - theta) / np.sqrt(s2)
        low = grouped.group_quantile(z, g, groups, winsor)
        high = grouped.group_quantile(z, g, groups, 1 - winsor)
        z = np.clip(z, low[g], high[g])
        rows = np.argsort(g, kind="stable")
        units = np.bincount(g, minlength=groups)
        starts = np.cumsum(units) - units
        phi = grouped.slice_reduce((z**2)[rows], starts, units)
        w = 1 / s2[rows]
        w_sum = grouped.slice_reduce(w, starts, units, how="sum")
        w2_sum = grouped.slice_reduce(w**2, starts, units, how="sum")
        excess = units * phi - (units - 1)
        tau2 = np.where(excess > 0, excess / (w_sum - w2_sum / w_sum), 0.0)
    return phi, np.where(tau2 > 0.0, tau2, 0.0)


def overdispersion(
    numerators: Any, denominators: Any, group_value: float, *, kind: Kind,
    multiplier: float = 1, winsor: float = WINSOR_FRACTION,
) -> tuple[float, float]:
    """Overdispersion factor phi and between-unit variance tau² (raw scale) for a set of units.

    phi is the mean squared winsorised z-score; tau² is 0 when I·phi ≤ I − 1 (no excess).
    """
    return _phi_tau2(numerators, denominators, group_value, kind, multiplier, winsor)


def _phi_tau2(numerators: Any, denominators: Any, group_value: float, kind: Kind,
              multiplier: float, winsor: float) -> tuple[float, float]:
    """`overdispersion` under a name that the functions' own `overdispersion` argument does
    not hide."""
    o = np.asarray(numerators, dtype=float)
    n = np.asarray(denominators, dtype=float)
    theta = np.full(len(o), group_value / multiplier)
    phi, tau2 = _grouped_overdispersion(o, n, theta, np.full(len(o), kind == "proportion"),
                                        np.zeros(len(o), dtype=int), 1, winsor)
    return float(phi[0]), float(tau2[0])


def funnel_limits(
    denominators: Any,
    group_value: float,
    *,
    kind: Kind,
    multiplier: float = 1,
    levels: tuple[float, ...] = LEVELS,
    method: Method = "exact",
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
        method: "exact" (Spiegelhalter's interpolated quantiles) or "normal" (PHE's
            proportion funnels).
        overdispersion: None, or "multiplicative" / "additive" (normal limits).
        units: (numerators, denominators) of the compared units, needed to estimate
            overdispersion.

    The frame's ``attrs`` hold group_value, phi and tau2 (tau2 on the raw scale).
    """
    if kind not in ("proportion", "rate"):
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    _check_options(method, overdispersion)
    index = denominators.index if isinstance(denominators, pd.Series) else None
    n = np.asarray(denominators, dtype=float)
    theta = group_value / multiplier
    phi, tau2 = 1.0, 0.0
    if overdispersion is not None:
        if units is None:
            raise ValueError("overdispersion needs the units' (numerators, denominators)")
        phi, tau2 = _phi_tau2(*units, group_value, kind, multiplier, winsor)
    safe_n = np.where(n > 0, n, np.nan)
    out = {}
    for level in levels:
        lower, upper = _limits(safe_n, np.float64(theta), np.full(len(n), kind == "proportion"),
                               level, method=method, overdispersion=overdispersion, phi=phi,
                               tau2=tau2)
        out[f"lower_{label(level)}"] = lower * multiplier
        out[f"upper_{label(level)}"] = upper * multiplier
    frame = pd.DataFrame(out, index=index)
    frame.attrs.update(group_value=group_value, phi=phi, tau2=tau2)
    return frame


def _place(value: np.ndarray, limits: dict[str, tuple[np.ndarray, np.ndarray]],
           levels: tuple[float, ...]) -> np.ndarray:
    """within, above_/below_ the inner or outer level; None where the value is missing."""
    inner, outer = (label(level) for level in sorted(levels))
    classes = np.full(len(value), "within", dtype=object)
    with np.errstate(invalid="ignore"):
        classes[value > limits[inner][1]] = f"above_{inner}"
        classes[value > limits[outer][1]] = f"above_{outer}"
        classes[value < limits[inner][0]] = f"below_{inner}"
        classes[value < limits[outer][0]] = f"below_{outer}"
    classes[np.isnan(value)] = None
    return classes


def funnel_frame(
    frame: pd.DataFrame,
    *,
    by: list[str],
    numerator: str,
    denominator: str,
    kind: pd.Series | str,
    multiplier: pd.Series | float,
    group_value: str | None = None,
    method: Method = "exact",
    overdispersion: Overdispersion = None,
    levels: tuple[float, float] = LEVELS,
    winsor: float = WINSOR_FRACTION,
) -> pd.Series:
    """Each row's funnel class against its group: the statistic the mart stores.

    Args:
        frame: the long frame, one row per unit (e.g. practice) × group.
        by: the columns naming a funnel (e.g. ["kpi_id", "period", "peer_group"]).
        numerator, denominator: the columns of counts.
        kind: "proportion" (binomial limits) or "rate" (Poisson), per row or for all;
            multiplier: the display scale (100, 1000), per row or for all. Both are meant to
            be constant within a group (they vary by KPI).
        group_value: a column holding each group's centre on the display scale; by default
            Σ numerators / Σ denominators × multiplier of the group (missing counts as 0, as
            pandas sums; never an average of averages).
        method, overdispersion, levels, winsor: as for `funnel_limits`.

    Returns:
        A Series on ``frame.index`` named funnel_class: within, above_95, above_998,
        below_95, below_998, or None where the denominator is 0 or missing. A unit exactly
        on a limit is within it.
    """
    _check_options(method, overdispersion)
    group = frame.groupby(list(by), sort=False, dropna=False).ngroup().to_numpy()
    groups = int(group.max()) + 1 if len(group) else 0
    o, n = grouped.floats(frame, numerator), grouped.floats(frame, denominator)
    proportion = grouped.kinds(kind, frame)
    scale = grouped.per_row(multiplier, frame, "multiplier").astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if group_value is None:
            pooled = (grouped.group_sums(o, group, groups)
                      / grouped.group_sums(n, group, groups))[group]
            centre = pooled * scale
        else:
            centre = grouped.floats(frame, group_value)
        theta = centre / scale
        safe_n = np.where(n > 0, n, np.nan)
        value = o / safe_n * scale
    phi, tau2 = 1.0, 0.0
    if overdispersion is not None:
        phi, tau2 = _grouped_overdispersion(o, n, theta, proportion, group, groups, winsor)
        phi, tau2 = phi[group], tau2[group]
    limits = {}
    for level in levels:
        lower, upper = _limits(safe_n, theta, proportion, level, method=method,
                               overdispersion=overdispersion, phi=phi, tau2=tau2)
        limits[label(level)] = (lower * scale, upper * scale)
    return pd.Series(_place(value, limits, levels), index=frame.index, dtype=object,
                     name="funnel_class")


def classify_funnel(
    numerators: Any,
    denominators: Any,
    *,
    kind: Kind,
    group_value: float | None = None,
    multiplier: float = 1,
    levels: tuple[float, float] = LEVELS,
    method: Method = "exact",
    overdispersion: Overdispersion = None,
    winsor: float = WINSOR_FRACTION,
) -> pd.Series:
    """Each unit's place on one funnel: within, above_95, above_998, below_95 or below_998.

    `funnel_frame` on a single group. The group value defaults to Σ numerators /
    Σ denominators × multiplier. A unit with denominator 0 gets None. The Series' ``attrs``
    hold group_value, phi and tau2.
    """
    if kind not in ("proportion", "rate"):
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    o = numerators if isinstance(numerators, pd.Series) else pd.Series(numerators)
    n = pd.Series(np.asarray(denominators, dtype=float), index=o.index)
    if group_value is None:
        group_value = float(o.sum() / n.sum() * multiplier)
    frame = pd.DataFrame({"o": o, "n": n, "group": 0, "centre": group_value}, index=o.index)
    classes = funnel_frame(frame, by=["group"], numerator="o", denominator="n", kind=kind,
                           multiplier=multiplier, group_value="centre", method=method,
                           overdispersion=overdispersion, levels=levels, winsor=winsor)
    phi, tau2 = 1.0, 0.0
    if overdispersion is not None:
        phi, tau2 = _phi_tau2(o, n, group_value, kind, multiplier, winsor)
    classes.attrs.update(group_value=group_value, phi=phi, tau2=tau2)
    return classes.rename(None)


def ratio_funnel_limits(observed: Any, *, levels: tuple[float, ...] = LEVELS,
                        multiplier: float = RATIO_CENTRE) -> pd.DataFrame:
    """The funnel of a standardised ratio, by observed events (PHE's ratio funnel).

    For each observed count O and level: ``lower_<level>_expected``, the expected count at
    which O sits on the lower limit (the exact Poisson upper limit of O), and
    ``lower_<level>`` = O / that × multiplier, the ratio on the limit; ``upper_...`` likewise
    from the exact lower limit of O. Columns follow the levels, lower then upper.
    """
    index = observed.index if isinstance(observed, pd.Series) else None
    o = np.asarray(observed, dtype=float)
    out: dict[str, np.ndarray] = {}
    for level in levels:
        low_count, high_count = byar(o, level, exact_below=np.inf)  # exact for every count
        for side, expected in (("lower", high_count), ("upper", low_count)):
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{side}_{label(level)}_expected"] = expected
                out[f"{side}_{label(level)}"] = o / expected * multiplier
    return pd.DataFrame(out, index=index)


def ratio_classes(ratios: pd.DataFrame, *, reference: float = RATIO_CENTRE,
                  levels: tuple[float, float] = LEVELS) -> pd.Series:
    """Each standardised ratio's class against ``reference`` (100), from its own interval.

    ``ratios`` holds lower_95, upper_95, lower_998, upper_998 (as `kpi.standardise`
    gives them): above_998 when the 99.8% interval lies wholly above the reference, above_95
    when the 95% one does, below_... likewise, else within; None where the limits are
    missing (no expected events). This is PHE's significance for ratio funnels.
    """
    inner, outer = (label(level) for level in sorted(levels))
    classes = pd.Series("within", index=ratios.index, dtype=object, name="funnel_class")
    classes[ratios[f"lower_{inner}"] > reference] = f"above_{inner}"
    classes[ratios[f"lower_{outer}"] > reference] = f"above_{outer}"
    classes[ratios[f"upper_{inner}"] < reference] = f"below_{inner}"
    classes[ratios[f"upper_{outer}"] < reference] = f"below_{outer}"
    classes[ratios[f"upper_{inner}"].isna()] = None
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
        columns = [f"{side}_{label(level)}" for level in levels for side in ("lower", "upper")]
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
