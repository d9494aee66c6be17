"""The funnel plot of one month: each peer's value against its denominator, inside limit curves.

The limit curves come computed (kpi.funnel.funnel_curve); each point's class too (its
funnel_class column). Above SCATTERGL_THRESHOLD points the peers are a WebGL trace.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import theme
from dashboard.figures.common import comparison, figure_meta, org_label
from kpi.catalogue import Kpi

SCATTERGL_THRESHOLD = 1000
LIMIT_LINES = {  # column: (name, dash)
    "upper_998": ("99.8% limits", "solid"), "lower_998": ("99.8% limits", "solid"),
    "upper_95": ("95% limits", "dash"), "lower_95": ("95% limits", "dash"),
}
CLASS_WORDS = {"within": "within the 95% limits", "above_95": "above the 95% limit",
               "below_95": "below the 95% limit", "above_998": "above the 99.8% limit",
               "below_998": "below the 99.8% limit"}


def _labels(points: pd.DataFrame) -> list[str]:
    names = points["org_name"] if "org_name" in points else [None] * len(points)
    return [org_label(c, n) for c, n in zip(points["org_code"], names, strict=True)]


def _hover(points: pd.DataFrame, kpi: Kpi, month: str) -> list[str]:
    classes = points.get("funnel_class", pd.Series(None, index=points.index))
    out = []
    for label, value, den, cls in zip(_labels(points), points["value"], points["denominator"],
                                      classes, strict=True):
        where = CLASS_WORDS.get(cls, "not compared")
        out.append(f"{label}<br>{theme.hover_text(month, value, kpi)}<br>"
                   f"{kpi.denominator}: {theme.format_number(den, 0)}<br>{where}")
    return out


def funnel_figure(points: pd.DataFrame, limits: pd.DataFrame, kpi: Kpi, *, month: str,
                  peer_label: str, highlight: str | None = None, title: str | None = None
                  ) -> go.Figure:
    """Funnel plot: points (org_code, org_name, value, denominator, funnel_class) and limits
    (denominator, lower_95, upper_95, lower_998, upper_998; attrs group_value).

    Each point's customdata is its org_code, so a click can drill to it.
    """
    points = points[points["value"].notna() & points["denominator"].gt(0)]
    fig = go.Figure()
    group_value = limits.attrs.get("group_value")
    if group_value is not None and len(limits):
        fig.add_trace(go.Scatter(
            x=limits["denominator"], y=[group_value] * len(limits), mode="lines",
            name=f"{peer_label}: {theme.format_value(group_value, kpi)}", meta="group_value",
            line={"color": theme.NHS["text"], "width": 2}, hoverinfo="skip"))
    for column, (name, dash) in LIMIT_LINES.items():
        if column in limits:
            fig.add_trace(go.Scatter(
                x=limits["denominator"], y=limits[column], mode="lines", name=name, meta=column,
                legendgroup=name, showlegend=column.startswith("upper"), hoverinfo="skip",
                line={"color": theme.NHS["dark_blue"] if "998" in column else
                      theme.NHS["mid_grey"], "dash": dash, "width": 2}))
    trace = go.Scattergl if len(points) > SCATTERGL_THRESHOLD else go.Scatter
    others = points[points["org_code"] != highlight]
    classes = others.get("funnel_class", pd.Series(None, index=others.index))
    verdicts = [comparison(c, kpi.polarity) for c in classes]
    fig.add_trace(trace(
        x=others["denominator"], y=others["value"], mode="markers",
        name="Other members of the group",
        meta="peers", customdata=others["org_code"], text=_hover(others, kpi, month),
        hovertemplate="%{text}<extra></extra>",
        marker={"size": 9, "color": [theme.COMPARISON[v] for v in verdicts],
                "symbol": [theme.COMPARISON_SYMBOLS[v] for v in verdicts],
                "line": {"color": theme.NHS["text"], "width": 1}, "opacity": 0.85}))
    chosen = points[points["org_code"] == highlight]
    if len(chosen):
        fig.add_trace(go.Scatter(
            x=chosen["denominator"], y=chosen["value"], mode="markers+text", meta="highlight",
            name=_labels(chosen)[0], customdata=chosen["org_code"],
            text=[_labels(chosen)[0]], textposition="top center",
            hovertext=_hover(chosen, kpi, month), hovertemplate="%{hovertext}<extra></extra>",
            marker={"size": 18, "symbol": "star", "color": theme.NHS["dark_blue"],
                    "line": {"color": theme.NHS["white"], "width": 1.5}}))
    label = _labels(chosen)[0] if len(chosen) else peer_label
    fig.update_layout(
        template="carekpi",
        title={"text": title or f"{kpi.title}, {theme.month_label(month)}: {peer_label}"},
        meta=figure_meta(kpi, label, month, "funnel"),
        xaxis={"title": {"text": _x_title(kpi)}},
        yaxis={"title": {"text": theme.axis_title(kpi)}}, hovermode="closest",
        clickmode="event")
    return fig


def _x_title(kpi: Kpi) -> str:
    words = kpi.denominator[0].upper() + kpi.denominator[1:]
    return f"{words} × days in the month" if kpi.per_day_of_month else words


def funnel_caption(points: pd.DataFrame, kpi: Kpi, *, month: str, peer_label: str,
                   highlight_label: str | None) -> str:
    """The funnel's caption: what is compared, the limits' method, and how many lie outside."""
    shown = points[points["value"].notna()]
    classes = shown.get("funnel_class", pd.Series(None, index=shown.index))
    outside = int(classes.isin(["above_998", "below_998"]).sum())
    hidden = len(points) - len(shown)
    text = (f"{kpi.title} in {theme.month_label(month)}: {peer_label} ({len(shown)} with a "
            f"value), value against {kpi.denominator}. Lines: the peers' overall value "
            f"and exact {'binomial' if kpi.unit == '%' else 'Poisson'} 95% and 99.8% limits "
            f"(Spiegelhalter 2005). {outside} outside the 99.8% limits.")
    if highlight_label and highlight_label in _labels(shown):
        text += f" The star is {highlight_label}."
    elif highlight_label:
        text += (f" {highlight_label} has no value shown this month (counts from 1 to 7 are "
                 "suppressed, or none arrived), so it is not drawn.")
    if hidden:
        text += f" {hidden} not shown: counts from 1 to 7 are suppressed, or no value."
    return text
