"""The Tower Hamlets payment view: how much of each network's care-package money has been earned.

Networks were funded per care package: an upfront element (70% by default) and a performance
element (30%) paid on reaching the package's target, assessed quarterly (kpis.md, "Payment
view"; later some packages moved to 60/40). Each quarter is worth a quarter of the year's
performance element; the share of a quarter earned depends on the package's KPI at the quarter
end against its target, by a part-achievement rule that is a setting:

* `none`: all or nothing: the whole quarter if the target is met, else nothing;
* `pro_rata`: linear between a floor (nothing) and the target (everything);
* `tiers`: a list of (threshold, share): the largest share whose threshold is reached; meeting
  the target always earns the whole quarter.

Thresholds and floors are in the KPI's unit (a percentage as 0-100) and follow its polarity.
See docs/methods/payment.md.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kpi.catalogue import get_kpi
from kpi.targets import financial_years, normalise_year

DEFAULT_PERFORMANCE_SHARE = 0.30  # Tower Hamlets: 70% upfront, 30% on performance (kpis.md)
QUARTERS_PER_YEAR = 4
_QUARTER_OF_END_MONTH = {6: 1, 9: 2, 12: 3, 3: 4}  # NHS financial year starts in April


class PartRule(BaseModel):
    """What a partly met target earns."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["none", "pro_rata", "tiers"] = "none"
    floor: float | None = Field(None, description="pro_rata: the value that earns nothing.")
    tiers: tuple[tuple[float, float], ...] = Field(
        (), description="tiers: (threshold value, share of the quarter earned, 0-1)."
    )

    @model_validator(mode="after")
    def _complete(self) -> PartRule:
        if self.kind == "pro_rata" and self.floor is None:
            raise ValueError("a pro_rata rule needs a floor")
        if self.kind == "tiers" and not self.tiers:
            raise ValueError("a tiers rule needs at least one (threshold, share)")
        if any(not 0 <= share <= 1 for _, share in self.tiers):
            raise ValueError("tier shares must be between 0 and 1")
        return self


class PackageTerms(BaseModel):
    """The money terms of one care package (its headline KPI) for one financial year."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kpi_id: str = Field(description="The package's headline KPI, e.g. cp_diabetes_complete.")
    year: str | None = Field(None, description="Financial year '2024/25'; None: every year.")
    budget: float | None = Field(
        None, ge=0, description="Money per network for the year (None: shares only)."
    )
    performance_share: float = Field(DEFAULT_PERFORMANCE_SHARE, ge=0, le=1)
    rule: PartRule = PartRule()

    @model_validator(mode="after")
    def _known(self) -> PackageTerms:
        try:
            get_kpi(self.kpi_id)
        except KeyError as exc:
            raise ValueError(str(exc)) from None
        if self.year is not None and normalise_year(self.year) != self.year:
            raise ValueError(f"year must look like 2024/25, not {self.year!r}")
        return self


class PaymentTerms(BaseModel):
    """Every package's terms (the payment settings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    terms: tuple[PackageTerms, ...] = ()

    def for_(self, kpi_id: str, year: str) -> PackageTerms | None:
        """The terms for a package and year: that year's, else the every-year terms, else None."""
        exact = [t for t in self.terms if t.kpi_id == kpi_id and t.year == year]
        general = [t for t in self.terms if t.kpi_id == kpi_id and t.year is None]
        return (exact or general or [None])[0]


def read_payment_terms(path: Path | str) -> PaymentTerms:
    """Payment terms from a TOML file of `[[terms]]` tables.

    Raises:
        ValueError: naming the file and every invalid field.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return PaymentTerms.model_validate(data)
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ValueError(f"{path}: invalid payment terms: {exc}") from exc


def share_earned(
    values: np.ndarray | pd.Series,
    targets: np.ndarray | pd.Series | float,
    rule: PartRule,
    polarity: str = "higher",
) -> np.ndarray:
    """Share (0-1) of a quarter's performance money earned by each value (NaN: no value/target).

    Raises:
        ValueError: a pro_rata floor on the wrong side of its target.
    """
    v = np.asarray(values, dtype=float)
    t = np.broadcast_to(np.asarray(targets, dtype=float), v.shape)
    sign = 1.0 if polarity == "higher" else -1.0
    # Work on the "higher is better" scale: flip values and targets for lower-is-better KPIs.
    v, t = sign * v, sign * t
    met = v >= t
    if rule.kind == "none":
        share = met.astype(float)
    elif rule.kind == "pro_rata":
        floor = sign * float(rule.floor)  # type: ignore[arg-type]
        if np.any(t <= floor):
            raise ValueError(
                f"pro_rata floor {rule.floor} must be on the worse side of every target"
            )
        share = np.clip((v - floor) / (t - floor), 0.0, 1.0)
    else:
        thresholds = np.array([sign * th for th, _ in rule.tiers])
        shares = np.array([s for _, s in rule.tiers])
        reached = v[:, None] >= thresholds[None, :]
        share = np.where(reached, shares[None, :], 0.0).max(axis=1, initial=0.0)
        share = np.where(met, 1.0, share)
    return np.where(np.isnan(v) | np.isnan(t), np.nan, share)


def quarter_end_values(monthly: pd.DataFrame) -> pd.DataFrame:
    """The quarter-end rows of monthly KPI values, with year ('2024/25') and quarter (1-4) added.

    `monthly` has at least kpi_id, org_code, period ('YYYY-MM'), value and target.
    """
    month = monthly["period"].astype(str).str.slice(5, 7).astype(int)
    ends = monthly[month.isin(list(_QUARTER_OF_END_MONTH))].copy()
    ends["year"] = financial_years(ends["period"])
    ends["quarter"] = ends["period"].astype(str).str.slice(5, 7).astype(int).map(
        _QUARTER_OF_END_MONTH
    )
    return ends.reset_index(drop=True)


def payment_view(quarters: pd.DataFrame, terms: PaymentTerms) -> pd.DataFrame:
    """Each network's care-package position at each quarter end, and what it has earned.

    `quarters` has org_code, kpi_id, year ('2024/25'), quarter (1-4), value and target (as from
    `quarter_end_values`). Rows of a package and year with no terms are left out.

    Returns:
        The input columns plus met, share_earned (of that quarter's performance money, 0-1),
        share_to_date (of the year's performance element, 0-1), budget, upfront,
        performance_pot, earned_quarter, earned_to_date and paid_to_date (upfront plus
        earned_to_date), sorted by org_code, kpi_id, year, quarter. Money is NaN without a
        budget. A quarter with no value earns nothing (share_earned NaN) until it has one.
    """
    bad_q = ~quarters["quarter"].isin([1, 2, 3, 4])
    if bad_q.any():
        raise ValueError(f"quarter must be 1-4, found {sorted(set(quarters['quarter'][bad_q]))}")
    parts = []
    for (kpi_id, year), group in quarters.groupby(["kpi_id", "year"], sort=False):
        package = terms.for_(str(kpi_id), str(year))
        if package is None:
            continue
        polarity = get_kpi(str(kpi_id)).polarity
        group = group.copy()
        group["met"] = _met(group["value"], group["target"], polarity)
        group["share_earned"] = share_earned(
            group["value"], group["target"], package.rule, polarity
        )
        budget = np.nan if package.budget is None else package.budget
        group["budget"] = budget
        group["upfront"] = budget * (1 - package.performance_share)
        group["performance_pot"] = budget * package.performance_share
        parts.append(group)
    columns = [*quarters.columns, "met", "share_earned", "share_to_date", "budget", "upfront",
               "performance_pot", "earned_quarter", "earned_to_date", "paid_to_date"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts).sort_values(["org_code", "kpi_id", "year", "quarter"])
    out = out.reset_index(drop=True)
    if out.duplicated(["org_code", "kpi_id", "year", "quarter"]).any():
        raise ValueError("more than one value for an organisation, package, year and quarter")
    quarter_share = out["share_earned"].fillna(0.0) / QUARTERS_PER_YEAR
    cumulative = quarter_share.groupby([out["org_code"], out["kpi_id"], out["year"]]).cumsum()
    out["share_to_date"] = cumulative
    out["earned_quarter"] = out["performance_pot"] * quarter_share
    out["earned_to_date"] = out["performance_pot"] * cumulative
    out["paid_to_date"] = out["upfront"] + out["earned_to_date"]
    return out[columns]


def _met(values: pd.Series, targets: pd.Series, polarity: str) -> pd.Series:
    """True where the target is met, False where missed, NA where value or target is missing."""
    v, t = values.astype(float), targets.astype(float)
    met = (v >= t) if polarity == "higher" else (v <= t)
    return met.astype("boolean").mask(v.isna() | t.isna())


def earned_by_year(view: pd.DataFrame, group: Sequence[str] = ("org_code", "year")) -> pd.DataFrame:
    """Totals of a payment view per network and year: budget, upfront, earned and paid so far."""
    latest = view.sort_values("quarter").groupby([*group, "kpi_id"]).tail(1)
    return latest.groupby(list(group))[
        ["budget", "upfront", "performance_pot", "earned_to_date", "paid_to_date"]
    ].sum(min_count=1).reset_index()
