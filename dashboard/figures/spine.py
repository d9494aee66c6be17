"""The practice's spine chart (Fingertips style): every KPI on one row, worst left, best right.

Positions come computed (kpi.spine.spine_positions, one row per KPI); the figure only draws the
peers' range bar with its darker middle half, the area's centre line, the network's marker and
the practice's marker coloured and shaped by its comparison with peers.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import theme

POSITION_COLUMNS = ("worst", "worse_quartile", "median", "better_quartile", "best",
                    "practice", "network", "area")
RANGE_COLOUR = "#D7DEE1"
QUARTILE_COLOUR = "#8A9BA5"


def spine_figure(rows: pd.DataFrame, *, practice_label: str, network_label: str,
                 area_label: str, peer_label: str, month: str, title: str | None = None
                 ) -> go.Figure:
    """Spine chart of rows: label, kpi_id, comparison, the POSITION_COLUMNS (0-1) and hover
    words practice_text, network_text, area_text, range_text (one row per KPI, top first).

    customdata of the practice markers is the kpi_id, so a click opens that KPI.
    """
    labels = rows["label"].tolist()
    fig = go.Figure()
    fig.add_trace(go.Bar(
        y=labels, x=rows["best"] - rows["worst"], base=rows["worst"], orientation="h",
        name=f"{peer_label}: lowest to highest", meta="range",
        marker={"color": RANGE_COLOUR}, hoverinfo="skip", width=0.6))
    fig.add_trace(go.Bar(
        y=labels, x=rows["better_quartile"] - rows["worse_quartile"],
        base=rows["worse_quartile"], orientation="h", meta="quartiles",
        name=f"{peer_label}: 25th to 75th percentile", marker={"color": QUARTILE_COLOUR},
        hoverinfo="skip", width=0.6))
    fig.add_trace(go.Scatter(
        y=labels, x=rows["area"], mode="markers", name=area_label, meta="area",
        marker={"symbol": "line-ns", "size": 26, "line": {"width": 3,
                                                         "color": theme.NHS["text"]}},
        text=rows["area_text"], hovertemplate="%{y}<br>" + area_label + ": %{text}"
        "<extra></extra>"))
    fig.add_trace(go.Scatter(
        y=labels, x=rows["network"], mode="markers", name=network_label, meta="network",
        marker={"symbol": "diamond", "size": 13, "color": theme.NHS["white"],
                "line": {"width": 2, "color": theme.NHS["dark_blue"]}},
        text=rows["network_text"], hovertemplate="%{y}<br>" + network_label + ": %{text}"
        "<extra></extra>"))
    verdicts = rows["comparison"].fillna("not_compared")
    for verdict in theme.COMPARISON:
        part = rows[verdicts == verdict]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            y=part["label"], x=part["practice"], mode="markers", meta=f"practice_{verdict}",
            name=f"{practice_label}: {theme.COMPARISON_WORDS[verdict].lower()}",
            customdata=part["kpi_id"],
            marker={"symbol": theme.COMPARISON_SYMBOLS[verdict], "size": 16,
                    "color": theme.COMPARISON[verdict],
                    "line": {"width": 1.5, "color": theme.NHS["text"]}},
            text=[f"{p}<br>{peer_label} range: {r}" for p, r in
                  zip(part["practice_text"], part["range_text"], strict=True)],
            hovertemplate="%{y}<br>" + practice_label + ": %{text}<extra></extra>"))
    for x, words, anchor in ((0, "◀ Worse", "left"), (1, "Better ▶", "right")):
        fig.add_annotation(x=x, y=1, xref="x", yref="paper", yanchor="bottom", xanchor=anchor,
                           text=f"<b>{words}</b>", showarrow=False)
    fig.update_layout(
        template="carekpi", barmode="overlay",
        title={"text": title or f"{practice_label} against its peers, "
               f"{theme.month_label(month)}"},
        meta={"chart": "spine", "org": practice_label, "month": month,
              "month_label": theme.month_label(month), "kpis": rows["kpi_id"].tolist()},
        xaxis={"range": [-0.03, 1.03], "showticklabels": False, "showgrid": False,
               "zeroline": False, "title": {"text": f"Centre line: {area_label}. Bar: "
                                            f"{peer_label}."}},
        yaxis={"autorange": "reversed", "automargin": True, "title": {"text": ""}},
        height=max(400, 46 * len(rows) + 220), hovermode="closest")
    return fig
