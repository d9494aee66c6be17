"""A breakdown bar chart: one KPI's month split by the categories a feed holds (care-package
elements, delay reasons and responsible organisation, age band and sex)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import theme

SERIES_COLOURS = (theme.NHS["blue"], theme.NHS["dark_blue"], theme.NHS["aqua_green"],
                  theme.NHS["orange"])
SERIES_PATTERNS = ("", "/", ".", "x")  # a second cue besides colour


def breakdown_figure(frame: pd.DataFrame, *, category: str, value: str, title: str,
                     value_title: str, meta: dict, series: str | None = None,
                     decimals: int = 0, barmode: str = "group") -> go.Figure:
    """Horizontal bars of `value` by `category` (one bar set per `series` value, if given;
    barmode 'overlay' when the series hold different categories, 'group' when they share them).

    Missing values (suppressed counts) draw no bar and read '*' in the hover text.
    """
    fig = go.Figure()
    groups = [(None, frame)] if series is None else list(frame.groupby(series, sort=True))
    for i, (name, part) in enumerate(groups):
        values = part[value].astype(float)
        fig.add_trace(go.Bar(
            y=part[category].astype(str), x=values, orientation="h", name=str(name or value),
            meta=str(name) if name is not None else value,
            marker={"color": SERIES_COLOURS[i % len(SERIES_COLOURS)],
                    "pattern": {"shape": SERIES_PATTERNS[i % len(SERIES_PATTERNS)],
                                "fgcolor": theme.NHS["white"], "fillmode": "overlay"}},
            text=["*" if pd.isna(v) else theme.format_number(v, decimals) for v in values],
            textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra>" + ("" if name is None else str(name))
            + "</extra>"))
    hidden = frame[frame[value].isna()]
    if len(hidden):  # a star where a bar is withheld, so a gap never reads as zero
        fig.add_trace(go.Scatter(
            y=hidden[category].astype(str), x=[0] * len(hidden), mode="text", text="*",
            textposition="middle right", name="* counts of 1 to 7, not shown",
            meta="suppressed", textfont={"size": theme.BASE_FONT_SIZE + 2},
            hovertemplate="%{y}: * (a count of 1 to 7, not shown)<extra></extra>"))
    fig.update_layout(template="carekpi", title={"text": title}, meta=meta,
                      barmode=barmode, showlegend=series is not None or len(hidden) > 0,
                      xaxis={"title": {"text": value_title}, "rangemode": "tozero"},
                      yaxis={"autorange": "reversed", "automargin": True,
                             "title": {"text": ""}},
                      height=max(320, 30 * len(frame) + 180))
    return fig
