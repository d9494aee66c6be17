"""Who a practice is compared with in a month: its network, its area, or the practices of similar
list size in its area; the points and limits the KPI page's funnel and ranked bars draw.

Only values that may leave the system are used (dashboard.queries returns them suppressed); the
group's value is the network's or area's own mart value where there is one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard import queries
from dashboard.figures.common import org_label
from dashboard.state import PEERS
from kpi.catalogue import Kpi
from kpi.funnel import classify_funnel, funnel_curve
from kpi.peers import size_quintile, value_quantiles

# The KPI whose denominator is the registered list (size of a practice).
LIST_SIZE_KPI = "ea_rate"
# Interval method -> the count model of the funnel (a mean has none), as etl/mart_statistics.py.
KIND = {"wilson": "proportion", "byar": "rate"}


@dataclass(frozen=True)
class PeerGroup:
    """The practices compared, what they are called, and whose mart value is the group's."""

    key: str
    label: str
    codes: tuple[str, ...]
    value_org: str | None  # the network or area whose value is the group's; None: summed
    note: str = ""


def _parents(month_rows: pd.DataFrame) -> pd.Series:
    """Each organisation's parent that month; None (never NaN) where it has none."""
    parents = month_rows.set_index("org_code")["parent_code"]
    return parents.map(lambda v: v if isinstance(v, str) else None)


def peer_group(org_code: str, month: str, peer: str, *, orgs: pd.DataFrame,
               level: str = "practice") -> PeerGroup:
    """The peer group of an organisation in a month, among organisations of `level`.

    Practices: the practice's network, its area, or its list-size fifth of the area (a network
    or area chosen as the organisation: its own practices). Networks (KPIs whose feeds arrive at
    network level): the networks of the area.
    """
    practices = queries.kpi_month(LIST_SIZE_KPI, month, "practice")
    network_of = _parents(practices)
    current = orgs.set_index("org_code")
    names, parent_now = current["org_name"], current["parent_code"]
    org_level = current["level"].get(org_code)

    def label(code: str | None) -> str:
        return org_label(code, names.get(code)) if code else "no group"

    network = {"practice": network_of.get(org_code), "network": org_code}.get(org_level)
    place = parent_now.get(network) if network else org_code
    if level == "network":
        networks = _parents(queries.kpi_month(LIST_SIZE_KPI, month, "network"))
        codes = tuple(sorted(c for c, p in networks.items() if p == place))
        note = "" if peer == "area" else (
            "This KPI is reported for networks, not practices: the networks of the area are "
            "compared.")
        return PeerGroup("area", f"Networks of {label(place)}", codes, place, note)
    # column-wise: a Series.get per practice costs ~1 s at national scale
    places = network_of.map(parent_now)
    in_area = (places.isna() if place is None else places.eq(place)) & network_of.notna()
    area_codes = tuple(sorted(network_of.index[in_area]))
    if peer == "network" and network:
        codes = tuple(sorted(network_of.index[network_of.eq(network)]))
        return PeerGroup("network", f"Practices of {label(network)}", codes, network)
    if peer == "size" and org_level == "practice":
        sizes = practices.set_index("org_code")["denominator"].reindex(list(area_codes))
        fifth = size_quintile(sizes)
        mine = fifth.get(org_code)
        if pd.isna(mine):
            return PeerGroup("area", f"Practices of {label(place)}", area_codes, place,
                             "This practice's list size is not known this month, so it is "
                             "compared with the whole area.")
        codes = tuple(sorted(fifth.index[fifth == mine]))
        low, high = sizes[list(codes)].min(), sizes[list(codes)].max()
        return PeerGroup("size", f"Practices of similar list size in {label(place)}", codes,
                         None, f"Similar list size: the practices in the same fifth of "
                         f"registered list size in {label(place)} (fifth {int(mine)} of 5: "
                         f"{low:,.0f} to {high:,.0f} patients).")
    note = "" if peer == "area" else (
        f"The peer group '{PEERS.get(peer, peer).lower()}' is for a practice: every practice "
        "of the area is compared.")
    return PeerGroup("area", f"Practices of {label(place)}", area_codes, place, note)


@dataclass(frozen=True)
class Comparison:
    """What the funnel and ranked bars draw for one KPI, month and peer group."""

    points: pd.DataFrame  # read.kpi_month rows of the peers, plus effective_denominator, class
    limits: pd.DataFrame  # kpi.funnel.funnel_curve (empty without a count model)
    group_value: float | None
    bands: dict[float, float]
    kind: str | None


def effective_denominator(rows: pd.DataFrame, kpi: Kpi) -> pd.Series:
    """The denominator a value is divided by (DToC: adults x days in the month)."""
    days = pd.PeriodIndex(rows["period"], freq="M").days_in_month.to_numpy()
    return rows["denominator"].astype(float) * (days if kpi.per_day_of_month else 1)


def compare(kpi: Kpi, month: str, group: PeerGroup, level: str = "practice", *,
            curve: bool = True, rows: pd.DataFrame | None = None) -> Comparison:
    """The peers' points with their funnel class against this group, the funnel's curves (when
    `curve`) and the group's value and quantile bands.

    `rows`: this KPI's mart rows of the month holding at least the group's (the practice page
    reads every KPI of the peers at once); by default the whole level's month is read.
    """
    if rows is None:
        rows = queries.kpi_month(kpi.id, month, level)
    points = rows[rows["org_code"].isin(group.codes)].reset_index(drop=True)
    points["effective_denominator"] = effective_denominator(points, kpi)
    kind = KIND.get(kpi.interval)
    group_value = None
    if group.value_org:
        own = queries.kpi_month(kpi.id, month, "network" if group.key == "network"
                                else "place")
        match = own.loc[own["org_code"] == group.value_org, "value"]
        group_value = float(match.iloc[0]) if len(match) and pd.notna(match.iloc[0]) else None
    shown = points[points["value"].notna() & points["effective_denominator"].gt(0)]
    if group_value is None and len(shown):  # a mean's group value is a ratio of sums too
        group_value = float(shown["numerator"].sum() / shown["effective_denominator"].sum()
                            * kpi.multiplier)
    if kind and group_value is not None and len(shown):
        if group.key != "network" or level != "practice":  # the mart's: against the network
            points["funnel_class"] = classify_funnel(
                points["numerator"].fillna(0), points["effective_denominator"].where(
                    points["value"].notna(), np.nan), kind=kind, group_value=group_value,
                multiplier=kpi.multiplier)
        limits = funnel_curve(shown["effective_denominator"] if curve else [], group_value,
                              kind=kind, multiplier=kpi.multiplier)
    else:
        points["funnel_class"] = None
        limits = funnel_curve([], group_value or 0.0, kind=kind or "rate")
    return Comparison(points, limits, group_value, value_quantiles(points["value"]), kind)
