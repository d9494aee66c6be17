"""The Making Data Count SPC chart of one organisation's KPI series, drawn from mart columns.

Draws only what the mart computed (kpi.spc.spc_frame): mean and process limits row by row, so
a rebase shows as a step between separately drawn segments; special-cause points by colour AND
shape; the target; annotations as dated vertical markers. Suppressed months are gaps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard import theme
from dashboard.figures.common import figure_meta, missing_reason
from kpi.catalogue import Kpi
from kpi.spc import MIN_POINTS

LIMIT_COLUMNS = ("spc_mean", "spc_lower", "spc_upper")
POINT_TYPES = ("common_cause", "improvement", "concern", "neutral")


def limit_segments(series: pd.DataFrame) -> pd.Series:
    """A segment number per row with a mean, numbered anew where the mean or a limit changes.

    Rows without a mean (suppressed, or too few points) get NaN and split nothing, so a
    suppressed month inside a segment does not break its lines. A segment of fewer than 13
    points has a mean but no limits (kpi.spc): its limit lines are simply not drawn.
    """
    has = series["spc_mean"].notna()
    limits = series.loc[has, list(LIMIT_COLUMNS)].astype(float).fillna(-np.inf)
    changed = limits.ne(limits.shift()).any(axis=1)
    return changed.cumsum().reindex(series.index)


def _segmented(series: pd.DataFrame, column: str, segments: pd.Series) -> tuple[list, list]:
    """x and y of one limit line: each segment's rows, segments separated by a None gap."""
    xs: list[Any] = []
    ys: list[Any] = []
    drawn = segments.notna() & series[column].notna()
    for _, rows in series[drawn].groupby(segments[drawn]):
        if xs:
            xs.append(None)
            ys.append(None)
        xs += rows["period"].tolist()
        ys += rows[column].astype(float).tolist()
    return xs, ys


def point_types(series: pd.DataFrame) -> pd.Series:
    """Each charted row's point type: its special cause, else common cause; None for gaps."""
    cause = series.get("spc_special_cause", pd.Series(None, index=series.index))
    kinds = cause.where(cause.isin(POINT_TYPES[1:]), "common_cause")
    return kinds.where(series["value"].notna(), None)


def _hover(series: pd.DataFrame, kpi: Kpi, kinds: pd.Series) -> list[str]:
    out = []
    for row, kind in zip(series.itertuples(index=False), kinds, strict=True):
        notes = [theme.MDC_WORDS[kind]] if isinstance(kind, str) else []  # gaps: NaN or None
        if getattr(row, "provisional", False):
            notes.append("provisional: " + (getattr(row, "provisional_reason", None)
                                            or "more data may arrive"))
        out.append(theme.hover_text(row.period, row.value, kpi, extra=" · ".join(notes)))
    return out


def spc_caption(series: pd.DataFrame, kpi: Kpi, org_label: str) -> str:
    """The chart's caption in words: what is drawn, and why limits or months are missing."""
    charted = int(series["value"].notna().sum())
    if series.empty:
        return f"No {kpi.title} values for {org_label}."
    span = (f"{theme.month_label(series['period'].iloc[0])} to "
            f"{theme.month_label(series['period'].iloc[-1])}")
    parts = [f"{kpi.title} for {org_label}, {span}, {theme.unit_text(kpi)}."]
    segments = limit_segments(series).nunique()
    if not series["spc_upper"].notna().any():
        parts.append(f"No process limits: Making Data Count needs at least {MIN_POINTS} months "
                     f"in a segment and this series has {charted}"
                     + (f" in {segments} segments." if segments > 1 else "."))
    else:
        parts.append("Mean and process limits (mean ± 2.66 × mean moving range) from the "
                     "warehouse" + (f", recalculated {segments - 1} time(s) at an annotation."
                                    if segments > 1 else "."))
        counts = point_types(series).value_counts()
        signals = [f"{int(counts[k])} {theme.MDC_WORDS[k].lower()}" for k in POINT_TYPES[1:]
                   if counts.get(k)]
        parts.append("Special-cause points: " + (", ".join(signals) if signals else "none") + ".")
    gaps = missing_reason(series)
    if gaps:
        parts.append(gaps)
        if segments:
            parts.append("The mean and limits come from every month, those not shown too.")
    return " ".join(parts)


def spc_figure(series: pd.DataFrame, kpi: Kpi, *, org_label: str,
               annotations: Iterable[Mapping[str, Any]] = (), title: str | None = None,
               month: str | None = None) -> go.Figure:
    """The SPC chart of a series (mart columns period, value, spc_mean, spc_lower, spc_upper,
    spc_special_cause, target; optional suppressed, provisional, provisional_reason).

    `annotations` are mappings with period and text (e.g. the read side's annotation rows);
    `month`, when given, is shaded as the month the rest of the page shows.
    """
    series = series.sort_values("period").reset_index(drop=True)
    last = series["period"].iloc[-1] if len(series) else None
    title = title or f"{kpi.title}: {org_label}"
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=series["period"], y=series["value"].astype(float), name="Value",
                             mode="lines", line={"color": theme.MDC["common_cause"], "width": 2},
                             connectgaps=False, hoverinfo="skip", showlegend=False))
    segments = limit_segments(series)
    lines = {"spc_mean": ("Mean", theme.MDC["mean"], "solid"),
             "spc_upper": ("Upper process limit", theme.MDC["limit"], "dash"),
             "spc_lower": ("Lower process limit", theme.MDC["limit"], "dash")}
    for column, (name, colour, dash) in lines.items():
        xs, ys = _segmented(series, column, segments)
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, name=name, mode="lines", meta=column,
                                     line={"color": colour, "dash": dash, "width": 2},
                                     hovertemplate=f"{name}: %{{y:,.{kpi.decimals}f}}"
                                     "<extra></extra>"))
    if "target" in series and series["target"].notna().any():
        fig.add_trace(go.Scatter(x=series["period"], y=series["target"].astype(float),
                                 name="Target", mode="lines", meta="target",
                                 line={"color": theme.MDC["target"], "dash": "dot", "width": 2},
                                 hovertemplate=f"Target: %{{y:,.{kpi.decimals}f}}"
                                 "<extra></extra>"))
    kinds = point_types(series)
    hover = np.array(_hover(series, kpi, kinds), dtype=object)
    provisional = series.get("provisional", pd.Series(False, index=series.index)).fillna(False)
    for kind in POINT_TYPES:
        rows = (kinds == kind).to_numpy()
        if not rows.any():
            continue
        symbols = [theme.MDC_SYMBOLS[kind] + ("-open" if p else "") for p in provisional[rows]]
        fig.add_trace(go.Scatter(
            x=series.loc[rows, "period"], y=series.loc[rows, "value"].astype(float),
            name=theme.MDC_WORDS[kind], mode="markers", meta=kind,
            marker={"color": theme.MDC[kind], "symbol": symbols, "size": 11 if kind ==
                    "common_cause" else 13, "line": {"color": theme.MDC["outline"], "width": 1}},
            text=hover[rows], hovertemplate="%{text}<extra></extra>"))
    for note in annotations:
        _annotate(fig, note["period"], note["text"])
    if month:
        centre = pd.Period(month, freq="M").start_time
        fig.add_vrect(x0=(centre - pd.Timedelta(days=15)).isoformat(),
                      x1=(centre + pd.Timedelta(days=15)).isoformat(), layer="below",
                      fillcolor=theme.NHS["light_blue"], opacity=0.25, line_width=0,
                      name="month shown")
    if not series["spc_upper"].notna().any() and len(series):
        fig.add_annotation(text=f"No process limits: fewer than {MIN_POINTS} months of values",
                           xref="paper", yref="paper", x=0, y=1.02, xanchor="left",
                           yanchor="bottom", showarrow=False,
                           font={"color": theme.NHS["secondary_text"]})
    fig.update_layout(template="carekpi", title={"text": title},
                      meta=figure_meta(kpi, org_label, month or last, "spc"),
                      xaxis={"type": "date", "tickformat": "%b %Y", "title": {"text": "Month"}},
                      yaxis={"title": {"text": theme.axis_title(kpi)}},
                      hovermode="closest")
    return fig


def _annotate(fig: go.Figure, period: str, text: str) -> None:
    """A dated vertical marker with its words above the plot."""
    fig.add_shape(type="line", x0=period, x1=period, xref="x", y0=0, y1=1, yref="paper",
                  line={"color": theme.NHS["dark_blue"], "width": 2, "dash": "dashdot"})
    fig.add_annotation(x=period, xref="x", y=1, yref="paper", yanchor="bottom",
                       text=f"{theme.month_label(period)}: {text}", showarrow=False,
                       font={"color": theme.NHS["dark_blue"], "size": theme.BASE_FONT_SIZE - 2},
                       bgcolor="rgba(255,255,255,0.85)")
