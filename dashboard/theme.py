"""The dashboard's look: NHS identity colours, Making Data Count colours, RAG styles, the plotly
template and the formatting of numbers, units and months (pure functions, tested directly).

Sources:
* NHS identity colour palette (england.nhs.uk/nhsidentity/identity-guidelines/colours/) and the
  NHS.UK frontend's text, green and red (service-manual.nhs.uk/design-system/styles/colour).
* Making Data Count SPC colours as NHSRplotthedots' current `ptd_spc_colours()` has them
  (common cause grey #a6a6a6, improvement blue #00b0f0, concern orange #e46c0a, neutral purple
  #490092, target red #de1b1b), which follow NHS England's MDC icon set. Blue and grey fall below
  WCAG's 3:1 for graphics on white, so markers carry a dark outline and a distinct symbol: the
  colour is never the only cue.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from carekpi.periods import is_period
from kpi.catalogue import Kpi

NHS = {
    "blue": "#005EB8", "dark_blue": "#003087", "bright_blue": "#0072CE",
    "light_blue": "#41B6E6", "aqua_blue": "#00A9CE", "black": "#231F20",
    "dark_grey": "#425563", "mid_grey": "#768692", "pale_grey": "#E8EDEE", "white": "#FFFFFF",
    "dark_green": "#006747", "green": "#009639", "aqua_green": "#00A499",
    "purple": "#330072", "dark_pink": "#7C2855", "pink": "#AE2573", "dark_red": "#8A1538",
    "emergency_red": "#DA291C", "orange": "#ED8B00", "warm_yellow": "#FFB81C",
    "text": "#212B32", "secondary_text": "#4C6272",
}

MDC = {
    "common_cause": "#a6a6a6", "improvement": "#00b0f0", "concern": "#e46c0a",
    "neutral": "#490092", "target": "#de1b1b", "mean": "#000000", "limit": "#7b7d7d",
    "outline": NHS["text"],
}
# Marker shapes per point type: improvement and concern differ by shape as well as colour.
MDC_SYMBOLS = {"common_cause": "circle", "improvement": "diamond", "concern": "square",
               "neutral": "hexagon"}
MDC_WORDS = {"common_cause": "Common cause", "improvement": "Special cause: improvement",
             "concern": "Special cause: concern", "neutral": "Special cause: neither better "
             "nor worse"}


@dataclass(frozen=True)
class RagStyle:
    """How one RAG status is shown: badge colours, a symbol and words (never colour alone)."""

    status: str
    background: str
    text: str
    symbol: str
    marker: str  # plotly marker symbol
    words: str
    tint: str  # a pale background for table cells, under the dark body text


RAG = {
    "green": RagStyle("green", "#007F3B", "#FFFFFF", "✔", "circle", "On target", "#CCE5D8"),
    "amber": RagStyle("amber", "#FFB81C", NHS["text"], "▲", "triangle-up", "Near target",
                      "#FFF1D1"),
    "red": RagStyle("red", "#D5281B", "#FFFFFF", "✖", "x", "Off target", "#F7D4D1"),
    "none": RagStyle("none", "#4C6272", "#FFFFFF", "–", "circle-open", "No target",
                     "#FFFFFF"),
}

# Comparison with peers (funnel classes, spine chart): better / similar / worse / not compared.
COMPARISON = {"better": NHS["blue"], "similar": "#FFB81C", "worse": "#D5281B",
              "not_compared": NHS["mid_grey"]}
COMPARISON_SYMBOLS = {"better": "triangle-up", "similar": "circle", "worse": "triangle-down",
                      "not_compared": "circle-open"}
COMPARISON_WORDS = {"better": "Better than peers", "similar": "Similar to peers",
                    "worse": "Worse than peers", "not_compared": "Not compared"}

FONT = "Frutiger W01, Arial, Helvetica, sans-serif"
BASE_FONT_SIZE = 16  # readable on a projector at the back of a board room


def relative_luminance(colour: str) -> float:
    """WCAG 2.2 relative luminance of a '#rrggbb' colour."""
    rgb = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.2 contrast ratio of two '#rrggbb' colours (1 to 21)."""
    high, low = sorted((relative_luminance(foreground), relative_luminance(background)),
                       reverse=True)
    return (high + 0.05) / (low + 0.05)


# --- numbers, units, months ------------------------------------------------------------------

_SHORT_UNITS = {"%": "%", "per 1,000": " per 1,000", "per 100,000": " per 100,000",
                "days": " days", "ratio x100": ""}


def unit_text(kpi: Kpi) -> str:
    """The unit in full words: 'per 1,000 registered patients a month', '% of ...', 'days'."""
    if kpi.unit == "%":
        return f"% of {kpi.denominator}"
    if kpi.unit == "days":
        return "days"
    if kpi.unit == "ratio x100":
        return "ratio x 100 of observed to expected (100: as expected for the age and sex mix)"
    if kpi.per_day_of_month:
        span = "a day"
    elif kpi.window_months > 1:
        span = f"over {kpi.window_months} months"
    else:
        span = "a month"
    return f"{kpi.unit} {kpi.denominator} {span}"


def axis_title(kpi: Kpi) -> str:
    """A value axis title: the unit in words, never clipped (the template sets automargin)."""
    return "Percentage (%)" if kpi.unit == "%" else unit_text(kpi).capitalize()


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def format_number(value: float | None, decimals: int) -> str:
    """A number with thousands separators and fixed decimals; '–' when missing."""
    if _missing(value):
        return "–"
    return f"{value:,.{decimals}f}"


def format_value(value: float | None, kpi: Kpi, *, suppressed: bool = False) -> str:
    """A KPI value with its short unit ('8.62 per 1,000', '75.0%'); '*' when suppressed."""
    if suppressed:
        return "*"
    if _missing(value):
        return "no value"
    return f"{format_number(value, kpi.decimals)}{_SHORT_UNITS[kpi.unit]}"


def format_difference(delta: float | None, kpi: Kpi) -> str:
    """A signed change: '+1.2 percentage points' for percentages, '−0.35 per 1,000' else."""
    if _missing(delta):
        return "–"
    sign = "+" if delta >= 0 else "−"  # a true minus sign, as GOV.UK style asks
    unit = " percentage points" if kpi.unit == "%" else _SHORT_UNITS[kpi.unit]
    return f"{sign}{abs(delta):,.{kpi.decimals}f}{unit}"


def month_label(period: str) -> str:
    """'2026-10' -> 'Oct 2026'."""
    if not is_period(period):
        raise ValueError(f"period must be 'YYYY-MM', got {period!r}")
    return f"{calendar.month_abbr[int(period[5:])]} {period[:4]}"


def hover_text(period: str, value: float | None, kpi: Kpi, *, suppressed: bool = False,
               extra: str = "") -> str:
    """Hover text of one point: 'Oct 2026: 8.62 per 1,000' plus an optional second line."""
    text = f"{month_label(period)}: {format_value(value, kpi, suppressed=suppressed)}"
    return f"{text}<br>{extra}" if extra else text


def trend_words(marker: str | None, polarity: str) -> str:
    """The recent-trend marker in words, saying whether the direction is better or worse."""
    if marker in ("increasing", "decreasing"):
        better = (marker == "increasing") == (polarity == "higher")
        return f"{marker.capitalize()} ({'better' if better else 'worse'}) over the last 5 months"
    if marker == "no_significant_change":
        return "No significant change over the last 5 months"
    if marker == "cannot_be_calculated":
        return "Trend not calculated (fewer than 5 months, or no counts to test)"
    return "No trend test for this KPI (a mean has no count to test)"


# --- plotly template -------------------------------------------------------------------------

def _axis() -> dict:
    return {"automargin": True, "title": {"font": {"size": BASE_FONT_SIZE}, "standoff": 10},
            "tickfont": {"size": BASE_FONT_SIZE - 2}, "gridcolor": NHS["pale_grey"],
            "linecolor": NHS["dark_grey"], "zeroline": False, "showline": True, "ticks": "outside"}


TEMPLATE = go.layout.Template(layout={
    "font": {"family": FONT, "size": BASE_FONT_SIZE, "color": NHS["text"]},
    "title": {"font": {"size": BASE_FONT_SIZE + 4}, "x": 0, "xanchor": "left",
              "automargin": True},
    "paper_bgcolor": NHS["white"], "plot_bgcolor": NHS["white"],
    "colorway": [NHS["blue"], NHS["dark_blue"], NHS["aqua_green"], NHS["orange"],
                 NHS["purple"], NHS["dark_pink"], NHS["mid_grey"]],
    "xaxis": _axis(), "yaxis": _axis(),
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0,
               "font": {"size": BASE_FONT_SIZE - 2}},
    "hoverlabel": {"font": {"size": BASE_FONT_SIZE - 1, "family": FONT}},
    "margin": {"l": 20, "r": 20, "t": 60, "b": 20},
})
pio.templates["carekpi"] = TEMPLATE
