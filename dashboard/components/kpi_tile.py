"""A KPI tile: latest value, target, RAG in words and colour, SPC icons and trend in words."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import pandas as pd
from dash import dcc, html

from kpi.catalogue import Kpi
from kpi.suppression import is_small

RAG_WORDS = {"green": "✔ On target", "amber": "▲ Near target", "red": "✖ Off target"}
VARIATION_WORDS = {
    "common_cause": "Common cause variation",
    "improvement_high": "Special cause: improving (higher)",
    "improvement_low": "Special cause: improving (lower)",
    "concern_high": "Special cause: concerning (higher)",
    "concern_low": "Special cause: concerning (lower)",
    "neutral_high": "Special cause (higher)",
    "neutral_low": "Special cause (lower)",
}
ASSURANCE_WORDS = {"pass": "Target consistently met", "fail": "Target consistently missed",
                   "hit_and_miss": "Target hit and miss"}


@dataclass(frozen=True)
class TileText:
    """What a tile says, worked out from a KPI's latest mart row (pure, tested directly)."""

    value: str
    target: str
    rag: str
    rag_class: str
    variation: str
    assurance: str
    trend: str
    change: str
    period: str


def _number(value: float, kpi: Kpi) -> str:
    unit = "%" if kpi.unit == "%" else f" {kpi.unit}"
    return f"{value:,.{kpi.decimals}f}{unit}"


def tile_text(kpi: Kpi, latest: pd.Series, year_before: pd.Series | None) -> TileText:
    """The words of one tile; small counts (1-7) show as '*', never their value."""
    small = bool(latest.get("suppressed")) or bool(is_small(latest["numerator"])) or bool(
        is_small(latest["denominator"]))
    value = latest["value"]
    shown = "*" if small else ("no value" if value is None or pd.isna(value)
                               else _number(value, kpi))
    target = latest.get("target")
    has_target = target is not None and not pd.isna(target)
    change = ""
    if year_before is not None and not small and not pd.isna(value) and not pd.isna(
            year_before["value"]) and not bool(is_small(year_before["numerator"])):
        delta = value - year_before["value"]
        unit = " percentage points" if kpi.unit == "%" else ""
        change = (f"{'+' if delta >= 0 else '−'}{abs(delta):,.{kpi.decimals}f}{unit} on the "
                  "same month a year before")
    trend = latest.get("trend") or ""
    if trend in ("increasing", "decreasing"):
        better = (trend == "increasing") == (kpi.polarity == "higher")
        trend = f"{trend.capitalize()} ({'better' if better else 'worse'}) over 5 months"
    elif trend == "no_significant_change":
        trend = "No significant change over 5 months"
    else:
        trend = ""
    rag = latest.get("rag") if not small else None
    period = latest["period"] + (" (provisional)" if latest.get("provisional") else "")
    return TileText(
        value=shown, target=f"Target {_number(target, kpi)}" if has_target else "No target",
        rag=RAG_WORDS.get(rag, "No RAG") if isinstance(rag, str) else "No RAG",
        rag_class=f"rag-{rag}" if isinstance(rag, str) else "rag-none",
        variation=VARIATION_WORDS.get(latest.get("variation_icon") or "",
                                      "Too few months for SPC"),
        assurance=ASSURANCE_WORDS.get(latest.get("assurance_icon") or "", ""),
        trend=trend, change=change, period=period)


def kpi_tile(kpi: Kpi, org_code: str, text: TileText) -> html.Div:
    """The tile, linking to the KPI page for that organisation."""
    href = "/kpi?" + urlencode({"kpi": kpi.id, "org": org_code})
    lines = [t for t in (text.change, text.variation, text.assurance, text.trend) if t]
    return html.Div([
        dcc.Link(kpi.title, href=href, className="tile-title"),
        html.Div(text.value, className="tile-value"),
        html.Div([html.Span(text.rag, className=f"rag {text.rag_class}"),
                  html.Span(text.target, className="tile-target")]),
        html.Ul([html.Li(line) for line in lines], className="tile-notes"),
        html.Div(text.period, className="tile-period"),
    ], className="kpi-tile", id=f"tile-{kpi.id}")
