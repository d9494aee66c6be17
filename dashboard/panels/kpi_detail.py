"""The KPI page's content for plain values (kpi, org, month, peer): figures, words, rows and
CSV downloads, computed here so the page's callbacks stay a line each and tests need no browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
from dash import dcc

from dashboard import ids, peers, queries, state, theme
from dashboard.components.download import png_caption, png_download, send_csv
from dashboard.figures import funnel_figure, ranked_bar_figure, spc_figure
from dashboard.figures.breakdown import breakdown_figure
from dashboard.figures.common import figure_meta
from dashboard.figures.funnel import funnel_caption
from dashboard.figures.ranked_bar import MAX_BARS, ranked
from dashboard.figures.spc import spc_caption
from dashboard.panels.common import breadcrumb_items, org_name
from kpi.catalogue import Kpi, get_kpi

CHARTS = (ids.KPI_SPC, ids.KPI_FUNNEL, ids.KPI_RANKED, ids.KPI_BREAKDOWN)
RATIO_SUFFIX = "_sr"  # the age-sex standardised ratio of a KPI (when the mart holds it)
# NHS England's monthly delayed transfers of care return: the reason categories A to I and O.
DTOC_REASONS = {
    "a": "A: completion of assessment", "b": "B: public funding",
    "c": "C: further NHS non-acute care", "di": "D(i): residential home placement",
    "dii": "D(ii): nursing home placement", "e": "E: care package in own home",
    "f": "F: community equipment and adaptations", "g": "G: patient or family choice",
    "h": "H: disputes", "i": "I: housing", "o": "O: other"}
SEXES = {"F": "Female", "M": "Male"}
SPC_SHORT = {"common_cause": "Common cause", "improvement": "◆ Improvement",
             "concern": "■ Concern", "neutral": "⬢ Neutral"}  # the chart's marker shapes


def _empty(message: str) -> go.Figure:
    """A blank chart that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font={"size": theme.BASE_FONT_SIZE})
    fig.update_layout(template="carekpi", xaxis={"visible": False}, yaxis={"visible": False},
                      height=260)
    return fig


def series_rows(series: pd.DataFrame, kpi: Kpi) -> list[dict]:
    """The table's rows, newest month first: numbers rounded with units, '*' where suppressed."""
    rows = []
    for r in series.sort_values("period", ascending=False).itertuples(index=False):
        hidden = bool(r.suppressed)
        rag = theme.RAG.get(r.rag) if isinstance(r.rag, str) and not hidden else None
        spc = r.spc_special_cause if isinstance(r.spc_special_cause, str) else "common_cause"
        rows.append({
            "month": theme.month_label(r.period),
            "value": theme.format_value(r.value, kpi, suppressed=hidden),
            "interval": "*" if hidden else (
                f"{theme.format_number(r.lower_95, kpi.decimals)} to "
                f"{theme.format_number(r.upper_95, kpi.decimals)}"),
            "numerator": "*" if hidden else theme.format_number(r.numerator, 0),
            "denominator": "*" if hidden else theme.format_number(r.denominator, 0),
            "target": theme.format_value(r.target, kpi) if pd.notna(r.target) else "none",
            "rag": f"{rag.symbol} {rag.words}" if rag else "–",
            "spc": "–" if hidden or pd.isna(r.value) else SPC_SHORT[spc],
            "status": "; ".join(s for s in (
                "suppressed (counts 1 to 7)" if hidden else "",
                "provisional" + (f": {r.provisional_reason}" if isinstance(
                    getattr(r, "provisional_reason", None), str) else "")
                if r.provisional else "") if s) or "final"})
    return rows


@dataclass(frozen=True)
class KpiView:
    """Everything the page shows for one state (the main callback's outputs, in order)."""

    search: str
    heading: str
    breadcrumb: list
    spc: go.Figure
    spc_caption: str
    peer_note: str
    funnel: go.Figure
    funnel_caption: str
    ranked: go.Figure
    ranked_caption: str
    breakdown: go.Figure
    breakdown_caption: str
    table: list[dict]
    ratio_link: list
    pngs: list = field(default_factory=list)


def kpi_view(kpi_id: str | None, org_code: str | None, month: str | None,
             peer: str | None) -> KpiView:
    """The page's content for a KPI, organisation, month and peer group (plain values)."""
    peer = peer if peer in state.PEERS else state.DEFAULT_PEER
    if not kpi_id or not org_code:
        blank = _empty("No data loaded yet: run `carekpi etl run`.")
        return KpiView("", "No data", [], blank, "", "", blank, "", blank, "", blank, "", [], [])
    kpi = get_kpi(kpi_id)
    label = org_name(org_code)
    st = state.PageState(kpi=kpi_id, org=org_code, month=month, peer=peer)
    series = queries.kpi_series(kpi_id, org_code, state.kpi_form(kpi_id))
    notes = queries.annotations(org_code, kpi_id)
    if series.empty:
        spc, caption = _empty(f"No {kpi.title} values for {label}."), f"No values for {label}."
    else:
        spc = spc_figure(series, kpi, org_label=label, annotations=notes.to_dict("records"),
                         month=month)
        caption = spc_caption(series, kpi, label) + (
            f" Shaded: {theme.month_label(month)}, the month compared below." if month else "")
    compare = compare_panel(kpi, org_code, month, peer) if month else None
    breakdown, breakdown_text = breakdown_panel(kpi, org_code, month, label)
    pngs = [png_download(chart_id, png_caption(title, label, theme.month_label(month)
                                               if month else ""))
            for chart_id, title in zip(CHARTS, (f"{kpi.title}: SPC chart",
                                                f"{kpi.title}: funnel plot",
                                                f"{kpi.title}: ranked practices",
                                                f"{kpi.title}: breakdown"), strict=True)]
    ratio = f"{kpi_id}{RATIO_SUFFIX}"
    ratio_link = [dcc.Link("Show the age-sex standardised ratio of this KPI",
                           href="/kpi" + state.to_query(st, kpi=ratio))] \
        if ratio in queries.kpi_ids() else []
    return KpiView(
        search=state.to_query(st, ("kpi", "org", "month", "peer")),
        heading=f"{state.kpi_label(kpi)}: {label}",
        breadcrumb=breadcrumb_items(org_code, month, kpi_id=kpi_id),
        spc=spc, spc_caption=caption,
        peer_note=compare.note if compare else "",
        funnel=compare.funnel if compare else _empty("Choose a month."),
        funnel_caption=compare.funnel_caption if compare else "",
        ranked=compare.ranked if compare else _empty("Choose a month."),
        ranked_caption=compare.ranked_caption if compare else "",
        breakdown=breakdown, breakdown_caption=breakdown_text,
        table=series_rows(series, kpi), ratio_link=ratio_link, pngs=pngs)


@dataclass(frozen=True)
class ComparePanel:
    """The funnel and ranked bars of one month, with their words and data."""

    note: str
    funnel: go.Figure
    funnel_caption: str
    ranked: go.Figure
    ranked_caption: str
    points: pd.DataFrame


def compared(kpi: Kpi, org_code: str, month: str, peer: str, *, curve: bool = True
             ) -> tuple[peers.PeerGroup, peers.Comparison, str]:
    """The peer group, its comparison (points, limits when `curve`) and the level compared."""
    level = "practice" if "practice" in kpi.levels else "network"
    group = peers.peer_group(org_code, month, peer, orgs=queries.organisations(with_data=False),
                             level=level)
    return group, peers.compare(kpi, month, group, level, curve=curve), level


def compare_panel(kpi: Kpi, org_code: str, month: str, peer: str) -> ComparePanel:
    """Funnel and ranked bars of the peer group's practices in `month`."""
    group, result, level = compared(kpi, org_code, month, peer)
    points = result.points
    highlight = org_code if org_code in group.codes else None
    highlight_label = org_name(org_code) if highlight else None
    note = " ".join(t for t in (f"Peer group: {group.label} ({len(group.codes)}).",
                                group.note) if t)
    if points["value"].notna().sum() == 0:
        blank = _empty(f"No {level} values of {kpi.title} in {theme.month_label(month)}.")
        return ComparePanel(note, blank, "", blank, "", points)
    if result.kind is None:
        funnel = _empty(f"{kpi.title} is a mean, not a count: it has no funnel limits. "
                        "See the ranked bars.")
        funnel_text = ""
    else:
        drawn = points.assign(denominator=points["effective_denominator"])
        funnel = funnel_figure(drawn, result.limits, kpi, month=month, peer_label=group.label,
                               highlight=highlight)
        funnel_text = funnel_caption(points, kpi, month=month, peer_label=group.label,
                                     highlight_label=highlight_label)
    bars = ranked_bar_figure(points, kpi, month=month, peer_label=group.label,
                             peer_value=result.group_value, highlight=highlight,
                             bands=result.bands)
    order = ranked(points, kpi)
    rank = order.index[order["org_code"] == org_code]
    ranked_text = (f"{kpi.title} in {theme.month_label(month)}, best first "
                   f"({'lower' if kpi.polarity == 'lower' else 'higher'} is better); "
                   f"bars show 95% intervals; dashed line: the group's value"
                   + (f" {theme.format_value(result.group_value, kpi)}"
                      if result.group_value is not None else "") + ".")
    if len(rank):
        ranked_text += f" {highlight_label} ranks {int(rank[0]) + 1} of {len(order)}."
    if len(order) > MAX_BARS:
        ranked_text += " Only the neighbouring ranks are drawn; shading shows the spread of all."
    return ComparePanel(note, funnel, funnel_text, bars, ranked_text, points)


def breakdown_data(kpi: Kpi, org_code: str, month: str | None) -> tuple[pd.DataFrame, dict]:
    """The breakdown rows (from carekpi.read, suppressed) and how to draw them; empty frame
    when the feeds hold no breakdown of this KPI."""
    if not month:
        return pd.DataFrame(), {}
    elements = queries.kpi_elements(kpi.id, org_code, month)
    if not elements.empty:
        elements["element_name"] = [state.kpi_label(get_kpi(k)) for k in elements["kpi_id"]]
        return elements, {"category": "element_name", "value": "value",
                          "value_title": theme.axis_title(kpi), "decimals": kpi.decimals,
                          "what": "care-package elements"}
    if kpi.family == "delayed_transfers":
        reasons = queries.delay_reasons(org_code, month).assign(breakdown="Delay reason")
        reasons["reason_code"] = reasons["reason_code"].map(
            lambda c: DTOC_REASONS.get(str(c).lower(), c))
        who = queries.delay_responsibility(org_code, month)
        responsible = who.melt(id_vars=["period", "suppressed"], value_vars=[
            "delayed_days_nhs", "delayed_days_social_care", "delayed_days_both"],
            var_name="reason_code", value_name="delayed_days").assign(
            breakdown="Responsible organisation")
        responsible["reason_code"] = responsible["reason_code"].map({
            "delayed_days_nhs": "NHS", "delayed_days_social_care": "Social care",
            "delayed_days_both": "Both"})
        frame = pd.concat([reasons, responsible], ignore_index=True)
        return frame, {"category": "reason_code", "value": "delayed_days",
                       "series": "breakdown", "barmode": "overlay",
                       "value_title": "Delayed days in the month",
                       "what": "delay reasons and responsible organisation"}
    if kpi.family in ("emergency_admissions", "length_of_stay"):
        spells = queries.spell_breakdown(org_code, month)
        start = spells["age_band"].str.extract(r"^(\d+)", expand=False).astype(float)
        spells = spells.assign(_start=start).sort_values(["_start", "sex"]).drop(columns="_start")
        spells["age_band"] = spells["age_band"].str.replace("_", "–", regex=False)
        spells["sex"] = spells["sex"].map(lambda v: SEXES.get(v, v))
        return spells.reset_index(drop=True), {
            "category": "age_band", "value": "emergency_admissions", "series": "sex",
            "value_title": "Emergency admissions in the month", "what": "age band and sex"}
    return pd.DataFrame(), {}


def breakdown_panel(kpi: Kpi, org_code: str, month: str | None, label: str
                    ) -> tuple[go.Figure, str]:
    """The breakdown chart and its caption."""
    frame, how = breakdown_data(kpi, org_code, month)
    if frame.empty:
        return _empty(f"The feeds hold no breakdown of {kpi.title}"
                      + (f" for {label} in {theme.month_label(month)}." if month else ".")), ""
    what = how.pop("what")
    title = f"{kpi.title}, {theme.month_label(month)}: by {what}"
    fig = breakdown_figure(frame, title=title, meta=figure_meta(kpi, label, month, "breakdown"),
                           **how)
    hidden = int(frame[how["value"]].isna().sum())
    caption = f"{title}, {label}." + (f" {hidden} bar(s) not drawn (*): counts from 1 to 7 are "
                                      "suppressed." if hidden else "")
    return fig, caption


def clicked_org(click: dict | None) -> str | None:
    """The org_code a funnel point or bar click carries (its customdata)."""
    try:
        return click["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        return None


def csv_for(chart: str, kpi_id: str, org_code: str, month: str | None, peer: str) -> dict:
    """The CSV download of one chart's or table's data (suppressed: '*' in hidden cells)."""
    kpi = get_kpi(kpi_id)
    name = "_".join(p for p in (kpi_id, org_code, month or "", chart) if p) + ".csv"
    if chart in ("spc", "table"):
        return send_csv(queries.kpi_series(kpi_id, org_code, state.kpi_form(kpi_id)), name)
    if chart in ("funnel", "ranked"):
        # the points alone: the figures (most of compare_panel's time) are not downloaded
        points = compared(kpi, org_code, month, peer, curve=False)[1].points.drop(
            columns="effective_denominator")
        if chart == "ranked":  # in rank order, then the practices with no value shown
            points = pd.concat([ranked(points, kpi).drop(columns="rank"),
                                points[points["value"].isna()]], ignore_index=True)
        return send_csv(points, name)
    frame, _ = breakdown_data(kpi, org_code, month)
    return send_csv(frame, name)


