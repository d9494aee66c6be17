"""Programme impact charts: actual against the projected baseline with its 95% interval, and the
same KPI for the peer organisations over the same months."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import theme
from kpi.catalogue import Kpi

HEIGHT = 460


def _start_line(fig: go.Figure, start: str) -> None:
    fig.add_vline(x=start, line={"color": theme.NHS["dark_grey"], "dash": "dash", "width": 2})
    fig.add_annotation(x=start, y=1, yref="paper", text="Programme start", showarrow=False,
                       xanchor="left", yanchor="bottom", font={"size": theme.BASE_FONT_SIZE - 2})


def impact_figure(impact: pd.DataFrame, unit: str, title: str, start: str) -> go.Figure:
    """Actual counts (line with markers) against the baseline's projection (dashed) and its 95%
    prediction interval (shaded), the programme start marked."""
    months = impact["month"].tolist()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=months + months[::-1],
                             y=impact["upper"].tolist() + impact["lower"].tolist()[::-1],
                             fill="toself", fillcolor="rgba(65,182,230,0.25)",
                             line={"width": 0}, hoverinfo="skip",
                             name="95% prediction interval"))
    fig.add_trace(go.Scatter(x=months, y=impact["expected"], mode="lines",
                             line={"color": theme.NHS["dark_blue"], "dash": "dash", "width": 2},
                             name="Expected without the programme",
                             hovertemplate="%{x}: expected %{y:,.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=months, y=impact["actual"], mode="lines+markers",
                             line={"color": theme.NHS["text"], "width": 2},
                             marker={"size": 7, "symbol": "circle"}, name="Actual",
                             hovertemplate="%{x}: actual %{y:,.0f}<extra></extra>"))
    _start_line(fig, start)
    fig.update_layout(template=theme.TEMPLATE, title={"text": title}, height=HEIGHT,
                      yaxis_title=unit[0].upper() + unit[1:] + " per month",
                      xaxis={"type": "category", "nticks": 12})
    return fig


def peer_figure(peers: pd.DataFrame, kpi: Kpi, title: str, start: str) -> go.Figure:
    """The KPI's value for each peer (thin grey), England (dark dotted) and the chosen
    organisation (thick blue), month by month."""
    fig = go.Figure()
    styles = {"peer": {"color": theme.NHS["mid_grey"], "width": 1.5},
              "england": {"color": theme.NHS["black"], "width": 2, "dash": "dot"},
              "chosen": {"color": theme.NHS["blue"], "width": 4}}
    for role in ("peer", "england", "chosen"):
        for code, rows in peers[peers["role"] == role].groupby("org_code", sort=True):
            name = rows["org_name"].iloc[0] if isinstance(rows["org_name"].iloc[0], str) else code
            fig.add_trace(go.Scatter(x=rows["month"], y=rows["value"], mode="lines",
                                     line=styles[role], name=name,
                                     hovertemplate=f"{name}, %{{x}}: %{{y:,.1f}}<extra></extra>"))
    _start_line(fig, start)
    fig.update_layout(template=theme.TEMPLATE, title={"text": title}, height=HEIGHT,
                      yaxis_title=theme.axis_title(kpi),
                      xaxis={"type": "category", "nticks": 12})
    return fig
