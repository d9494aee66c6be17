"""The practice page's content for plain values (practice, month): the spine chart of every KPI
reported for practices against the practice's network, its area and its peers of similar list
size, each KPI's recent trend in words, and the CSV of the rows drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from dashboard import peers, queries, state, theme
from dashboard.figures import spine_figure
from dashboard.figures.common import comparison, org_label
from kpi.catalogue import Kpi, load_catalogue
from kpi.spine import spine_positions

ROLES = ("practice", "network", "area")


def spine_kpis(available: list[str]) -> list[Kpi]:
    """Headline monthly KPIs reported for practices that have values, in catalogue order (a
    standardised ratio is a way to compare its crude KPI, not a spine row of its own)."""
    held = set(available)
    return [k for k in load_catalogue() if k.id in held and not k.drilldown_of
            and not k.rolling_of and not k.standardised_of and "practice" in k.levels]


def _value_of(rows: pd.DataFrame, code: str | None) -> pd.Series | None:
    found = rows[rows["org_code"] == code] if code else rows.iloc[0:0]
    return found.iloc[0] if len(found) else None


def _text(row: pd.Series | None, kpi: Kpi) -> str:
    if row is None:
        return "no value"
    return theme.format_value(row["value"], kpi, suppressed=bool(row["suppressed"]))


def _number(row: pd.Series | None) -> float | None:
    if row is None or bool(row["suppressed"]) or pd.isna(row["value"]):
        return None
    return float(row["value"])


@dataclass(frozen=True)
class SpineRow:
    """One KPI's row: what the spine draws and the table says."""

    kpi: Kpi
    positions: dict
    comparison: str
    practice: str
    network: str
    area: str
    peer_range: str
    trend: str
    href: str


def spine_rows(practice: str, month: str, kpis: list[Kpi], group: peers.PeerGroup,
               network: str | None, area: str | None) -> list[SpineRow]:
    """Each KPI's row against the peer group, the network and the area."""
    rows = []
    month_rows = {role: queries.org_month(code, month) for role, code in
                  (("network", network), ("area", area)) if code}
    # every spine KPI of the peers in one read (not the whole country's month per KPI)
    peer_rows = queries.orgs_month(group.codes, tuple(k.id for k in kpis), month)
    for kpi in kpis:
        points = peers.compare(kpi, month, group, curve=False,
                               rows=peer_rows[peer_rows["kpi_id"] == kpi.id]).points
        mine = _value_of(points, practice)
        own = {"practice": mine} | {
            role: _value_of(frame[(frame["kpi_id"] == kpi.id) & (frame["form"] == "month")],
                            network if role == "network" else area)
            for role, frame in month_rows.items()}
        peer_values = points.loc[points["value"].notna(), "value"]
        positions = spine_positions(peer_values, _number(own.get("area")), kpi.polarity,
                                    {role: _number(own.get(role)) for role in ROLES})
        low, high = (peer_values.min(), peer_values.max()) if len(peer_values) else (None, None)
        query = state.to_query(state.PageState(kpi=kpi.id, org=practice, month=month,
                                               peer="size"), ("kpi", "org", "month", "peer"))
        rows.append(SpineRow(
            kpi=kpi, positions=positions,
            comparison=comparison(mine["funnel_class"] if mine is not None else None,
                                  kpi.polarity) if _number(mine) is not None else
            "not_compared",
            practice=_text(mine, kpi), network=_text(own.get("network"), kpi),
            area=_text(own.get("area"), kpi),
            peer_range=_range_text(low, high, len(peer_values), len(points), kpi),
            trend=theme.trend_words(mine["trend"] if mine is not None else None, kpi.polarity),
            href="/kpi" + query))
    return rows


def _range_text(low: float | None, high: float | None, shown: int, peers: int,
                kpi: Kpi) -> str:
    """'5.30 to 10.77 per 1,000', saying how many peers have a value when some do not."""
    if low is None:
        return "no values shown"
    text = (f"{theme.format_number(low, kpi.decimals)} to {theme.format_value(high, kpi)}"
            if low != high else theme.format_value(low, kpi))
    return text if shown == peers else f"{text} ({shown} of {peers} practices shown)"


def _network_in(practice: str, month: str) -> str | None:
    """The practice's network in that month (membership can change)."""
    rows = queries.kpi_month(peers.LIST_SIZE_KPI, month, "practice")
    found = rows.loc[rows["org_code"] == practice, "parent_code"]
    return found.iloc[0] if len(found) and isinstance(found.iloc[0], str) else None


def spine_frame(rows: list[SpineRow]) -> pd.DataFrame:
    """The spine figure's input: one row per KPI with positions and hover words."""
    return pd.DataFrame([{
        "kpi_id": r.kpi.id, "label": state.kpi_label(r.kpi), "comparison": r.comparison,
        "practice_text": r.practice, "network_text": r.network, "area_text": r.area,
        "range_text": r.peer_range} | r.positions for r in rows])


@dataclass(frozen=True)
class PracticeView:
    """Everything the practice page shows for one practice and month."""

    search: str
    heading: str
    figure: go.Figure
    caption: str
    rows: list[SpineRow]


def places_of(practice: str, month: str) -> tuple[str | None, str | None]:
    """The practice's network that month and that network's area."""
    network = _network_in(practice, month)
    parents = queries.organisations(with_data=False).set_index("org_code")["parent_code"]
    return network, (parents.get(network) if network else None)


def practice_data(practice: str, month: str) -> pd.DataFrame:
    """The mart rows the page draws (the practice's, its network's and its area's, for the
    spine's KPIs), with a role column: what the CSV download holds (suppressed)."""
    network, area = places_of(practice, month)
    kpis = {k.id for k in spine_kpis(queries.kpi_ids())}
    parts = [queries.org_month(code, month).assign(role=role)
             for role, code in zip(ROLES, (practice, network, area), strict=True) if code]
    frame = pd.concat(parts, ignore_index=True)
    return frame[frame["kpi_id"].isin(kpis) & (frame["form"] == "month")].reset_index(drop=True)


def practice_view(practice: str, month: str) -> PracticeView:
    """The spine chart, its caption and rows for one practice and month."""
    orgs = queries.organisations(with_data=False).set_index("org_code")
    name = org_label(practice, orgs["org_name"].get(practice))
    level = orgs["level"].get(practice)
    search = state.to_query(state.PageState(kpi=None, org=practice, month=month),
                            ("org", "month"))
    if level != "practice":
        page = {"network": "/network", "place": "/", "system": "/"}.get(level, "/")
        return PracticeView(search, "Choose a practice",
                            go.Figure(), f"{name} is a {level or 'code with no data'}, not a "
                            f"practice: choose a practice above (its own page is {page}).", [])
    network, area = places_of(practice, month)
    group = peers.peer_group(practice, month, "size", orgs=orgs.reset_index())
    rows = spine_rows(practice, month, spine_kpis(queries.kpi_ids()), group, network, area)
    network_label = org_label(network, orgs["org_name"].get(network)) if network else "Network"
    area_label = org_label(area, orgs["org_name"].get(area)) if area else "Area"
    if not rows:
        fig = go.Figure()
        return PracticeView(search, name, fig, f"No KPI values for {name}.", [])
    fig = spine_figure(spine_frame(rows), practice_label=name, network_label=network_label,
                       area_label=area_label, peer_label=group.label, month=month)
    counts = pd.Series([r.comparison for r in rows]).value_counts()
    caption = (f"{name}, {theme.month_label(month)}: {len(rows)} KPIs. Each row runs from the "
               f"worst value of the peers ({group.label}) on the left to the best on the right, "
               f"whichever way is better for the KPI; the darker band is their middle half, the "
               f"centre line {area_label}, the diamond {network_label}. The practice's marker "
               f"shows its comparison with these peers (99.8% funnel limits): "
               + ", ".join(f"{int(counts.get(v, 0))} {theme.COMPARISON_WORDS[v].lower()}"
                           for v in theme.COMPARISON if counts.get(v)) + ". " + group.note)
    return PracticeView(search, f"{name}: every KPI against its peers", fig, caption.strip(),
                        rows)
