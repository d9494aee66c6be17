"""The ranked bar chart of one month: peers best first, each with its 95% interval.

For more peers than MAX_BARS (a national peer group of thousands) it draws the chosen
organisation's neighbourhood of ranks, with all peers' quantile bands shaded behind, and says so.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from dashboard import theme
from dashboard.figures.common import figure_meta, org_label
from kpi.catalogue import Kpi

MAX_BARS = 60
NEIGHBOURS = 25  # ranks either side of the chosen organisation when there are too many


def ranked(points: pd.DataFrame, kpi: Kpi) -> pd.DataFrame:
    """Peers with a value, best first by the KPI's polarity, with a 1-based rank column."""
    shown = points[points["value"].notna()]
    out = shown.sort_values(["value", "org_code"], ascending=[kpi.polarity == "lower", True],
                            kind="stable").reset_index(drop=True)
    out["rank"] = range(1, len(out) + 1)
    return out


def _window(order: pd.DataFrame, highlight: str | None) -> pd.DataFrame:
    """The rows drawn: all, or the chosen one's neighbourhood (the top when none is chosen)."""
    if len(order) <= MAX_BARS:
        return order
    at = order.index[order["org_code"] == highlight]
    centre = int(at[0]) if len(at) else NEIGHBOURS
    start = max(0, min(centre - NEIGHBOURS, len(order) - 2 * NEIGHBOURS - 1))
    return order.iloc[start:start + 2 * NEIGHBOURS + 1]


def ranked_bar_figure(points: pd.DataFrame, kpi: Kpi, *, month: str, peer_label: str,
                      peer_value: float | None = None, highlight: str | None = None,
                      bands: Mapping[float, float] | None = None, title: str | None = None
                      ) -> go.Figure:
    """Ranked horizontal bars (org_code, org_name, value, lower_95, upper_95), best on top.

    `bands` maps quantiles (0.1, 0.25, 0.75, 0.9) of all peers' values to values; they are
    shaded when only a neighbourhood of ranks is drawn. customdata holds each org_code.
    """
    order = ranked(points, kpi)
    drawn = _window(order, highlight)
    names = drawn["org_name"] if "org_name" in drawn else [None] * len(drawn)
    labels = [f"{r}. {org_label(c, n)}" for r, c, n in
              zip(drawn["rank"], drawn["org_code"], names, strict=True)]
    chosen = (drawn["org_code"] == highlight).to_numpy()
    lower = drawn.get("lower_95", drawn["value"]).astype(float)
    upper = drawn.get("upper_95", drawn["value"]).astype(float)
    fig = go.Figure(go.Bar(
        x=drawn["value"].astype(float), y=labels, orientation="h", meta="bars",
        customdata=drawn["org_code"],
        marker={"color": [theme.NHS["dark_blue"] if c else theme.NHS["mid_grey"]
                          for c in chosen],
                "pattern": {"shape": ["/" if c else "" for c in chosen],
                            "fgcolor": theme.NHS["white"], "fillmode": "overlay"}},
        error_x={"type": "data", "symmetric": False, "array": upper - drawn["value"],
                 "arrayminus": drawn["value"] - lower, "color": theme.NHS["text"],
                 "thickness": 1.5},
        text=[theme.hover_text(month, v, kpi, extra=f"95% interval "
                               f"{theme.format_number(lo, kpi.decimals)} to "
                               f"{theme.format_number(hi, kpi.decimals)}")
              for v, lo, hi in zip(drawn["value"], lower, upper, strict=True)],
        textposition="none", hovertemplate="%{y}<br>%{text}<extra></extra>",
        name="Value with 95% interval"))
    if peer_value is not None:
        fig.add_vline(x=peer_value, line={"color": theme.NHS["text"], "dash": "dash",
                                          "width": 2},
                      annotation_text=f"{peer_label}: {theme.format_value(peer_value, kpi)}",
                      annotation_position="top")
    note = ""
    if len(drawn) < len(order):
        note = (f"Ranks {int(drawn['rank'].iloc[0]):,}–{int(drawn['rank'].iloc[-1]):,} of "
                f"{len(order):,} shown")
        for (low, high), alpha in (((0.1, 0.9), 0.12), ((0.25, 0.75), 0.22)):
            if bands and low in bands and high in bands:
                fig.add_vrect(x0=bands[low], x1=bands[high], fillcolor=theme.NHS["blue"],
                              opacity=alpha, line_width=0, layer="below")
        if bands:
            note += "; shading: middle 80% and middle 50% of all peers"
    chosen_label = next((lab for lab, c in zip(labels, chosen, strict=True) if c), None)
    fig.update_layout(
        template="carekpi",
        title={"text": title or f"{kpi.title}, {theme.month_label(month)}: {peer_label} "
               "ranked, best first" + (f"<br><sup>{note}</sup>" if note else "")},
        meta=figure_meta(kpi, chosen_label or peer_label, month, "ranked_bar")
        | {"shown": len(drawn), "peers": len(order)},
        xaxis={"title": {"text": theme.axis_title(kpi)}},
        yaxis={"autorange": "reversed", "automargin": True, "title": {"text": ""}},
        height=max(360, 26 * len(drawn) + 160), showlegend=False, bargap=0.25)
    return fig
