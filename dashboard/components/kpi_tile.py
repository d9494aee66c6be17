"""A KPI tile: the latest final month's value, target, RAG badge, SPC icons and trend in words,
change on a year before, a sparkline, and a note when later months are still provisional."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode

import pandas as pd
from dash import dcc, html

from dashboard.components.rag_badge import rag_badge
from dashboard.state import kpi_label
from dashboard.theme import NHS, format_difference, format_value, month_label, unit_text
from kpi.catalogue import Kpi
from kpi.suppression import is_small
from kpi.verdicts import latest_shift, reconcile_verdict

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
SPARK_MONTHS = 24
SPARK_SIZE = (240, 48)  # pixels


@dataclass(frozen=True)
class TileText:
    """What a tile says, worked out from a KPI's mart rows (pure, tested directly)."""

    value: str
    target: str
    rag: str | None  # green | amber | red | None: the badge shows symbol and words
    variation: str
    assurance: str
    trend: str
    change: str
    period: str
    provisional_note: str = ""
    shift: str = ""  # a sustained shift the latest months belong to, and the proposed rebase
    why: str = ""  # why this month's RAG and the assurance verdict both hold


def _is_suppressed(row: Mapping) -> bool:
    return bool(row.get("suppressed")) or bool(is_small(row.get("numerator"))) or bool(
        is_small(row.get("denominator")))


def _missing(value: object) -> bool:
    return value is None or bool(pd.isna(value))


Rows = list[dict]  # mart rows as records: a tile works on a few dozen, so plain dicts


def as_rows(series: pd.DataFrame | Rows) -> Rows:
    """Mart rows as a list of dicts."""
    return series.to_dict("records") if isinstance(series, pd.DataFrame) else list(series)


def tile_rows(series: pd.DataFrame | Rows, month: str | None) -> tuple[dict | None, Rows]:
    """The row a tile shows (the latest final month up to `month`, or the latest month when none
    is final) and the provisional rows after it, oldest first."""
    records = sorted((r for r in as_rows(series) if month is None or r["period"] <= month),
                     key=lambda r: r["period"])
    if not records:
        return None, []
    final = [r for r in records if not _flag(r.get("provisional"))]
    shown = final[-1] if final else records[-1]
    return shown, [r for r in records if r["period"] > shown["period"]]


def _flag(value: object) -> bool:
    return False if _missing(value) else bool(value)


def tile_text(kpi: Kpi, latest: Mapping, year_before: Mapping | None,
              provisional_after: Rows | None = None) -> TileText:
    """The words of one tile; suppressed values (counts 1-7) show as '*', never their value."""
    small = _is_suppressed(latest)
    value = latest["value"]
    target = latest.get("target")
    change = ""
    if (year_before is not None and not small and not _missing(value)
            and not _is_suppressed(year_before) and not _missing(year_before["value"])):
        change = (f"{format_difference(value - year_before['value'], kpi)} since "
                  f"{month_label(year_before['period'])}")
    trend = latest.get("trend") or ""
    if trend in ("increasing", "decreasing"):
        better = (trend == "increasing") == (kpi.polarity == "higher")
        trend = f"{trend.capitalize()} ({'better' if better else 'worse'}) over 5 months"
    elif trend == "no_significant_change":
        trend = "No significant change over 5 months"
    else:
        trend = ""
    rag = latest.get("rag") if not small and isinstance(latest.get("rag"), str) else None
    period = month_label(latest["period"])
    note = ""
    if bool(latest.get("provisional")):
        period += " (provisional)"
    elif provisional_after:
        months = [month_label(r["period"]) for r in provisional_after]
        listed = months[0] if len(months) == 1 else f"{', '.join(months[:-1])} and {months[-1]}"
        newest = provisional_after[-1]
        latest_text = "no value yet" if _missing(newest["value"]) and not _is_suppressed(
            newest) else "latest " + format_value(newest["value"], kpi,
                                                  suppressed=_is_suppressed(newest))
        note = (f"{listed} {'is' if len(months) == 1 else 'are'} provisional ({latest_text}): "
                f"showing {period}, the latest final month.")
    return TileText(
        value=format_value(value, kpi, suppressed=small),
        target=("Target " + format_value(target, kpi)) if not _missing(target) else "",
        rag=rag,
        variation=VARIATION_WORDS.get(latest.get("variation_icon") or "",
                                      "Too few months for SPC"),
        assurance=ASSURANCE_WORDS.get(latest.get("assurance_icon") or "", ""),
        trend=trend, change=change, period=period, provisional_note=note)


def with_verdict(text: TileText, kpi: Kpi, series: pd.DataFrame | Rows,
                 shown: Mapping) -> TileText:
    """The tile's words with SPC verdicts that hold together (kpi.verdicts): in a sustained
    shift the tile says so, reads the assurance against the current process and proposes the
    shift's start as a recalculation point; a RAG that seems to contradict the assurance gets a
    sentence saying why. `series` holds the rows up to the shown month (needs spc_mean)."""
    rows = sorted((r for r in as_rows(series) if r["period"] <= shown["period"]),
                  key=lambda r: r["period"])
    shift = latest_shift([r["value"] for r in rows], shown.get("spc_mean"),
                         polarity=kpi.polarity, target=shown.get("target"))
    verdict = reconcile_verdict(text.rag, shown.get("assurance_icon"), shift)
    words = ""
    if shift is not None:
        start = month_label(rows[shift.start]["period"])
        side = "above" if shift.side > 0 else "below"
        words = (f"Sustained shift {side} the mean since {start} ({shift.points} months): "
                 f"target read against the current process; recalculating the limits from "
                 f"{start} is proposed (carekpi annotations propose)")
    return replace(text, assurance=ASSURANCE_WORDS.get(verdict.assurance or "", ""),
                   shift=words, why=verdict.why)


def sparkline_svg(values: list[float | None], size: tuple[int, int] = SPARK_SIZE) -> str:
    """A small SVG line of the values (gaps where a value is missing), the last point marked."""
    width, height = size
    pad = 4
    known = [v for v in values if not _missing(v)]
    if not known:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"/>'
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    points, paths = [], []
    for i, v in enumerate(values):
        if _missing(v):
            if points:
                paths.append(points)
            points = []
            continue
        points.append((pad + i * step, height - pad - (v - low) / span * (height - 2 * pad)))
    if points:
        paths.append(points)
    lines = "".join(
        f'<polyline fill="none" stroke="{NHS["blue"]}" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in path) + '"/>' for path in paths)
    last_x, last_y = paths[-1][-1]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">{lines}'
            f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3.5" fill="{NHS["dark_blue"]}"/>'
            "</svg>")


def sparkline_alt(kpi: Kpi, periods: list[str], values: list[float | None]) -> str:
    """The sparkline's words: span of months, first and last value, lowest and highest."""
    known = [v for v in values if v is not None]
    if not known:
        return f"{kpi_label(kpi)}: no values to draw."
    return (f"{kpi_label(kpi)} by month, {month_label(periods[0])} to "
            f"{month_label(periods[-1])}: from {format_value(known[0], kpi)}"
            f" to {format_value(known[-1], kpi)}; lowest {format_value(min(known), kpi)}, "
            f"highest {format_value(max(known), kpi)}.")


def sparkline(kpi: Kpi, series: pd.DataFrame | Rows, tile_id: str) -> html.Img:
    """The last SPARK_MONTHS months as an inline SVG image with its description as alt text."""
    recent = sorted((r["period"], r["value"]) for r in as_rows(series))[-SPARK_MONTHS:]
    periods = [p for p, _ in recent]
    values = [None if _missing(v) else float(v) for _, v in recent]
    return html.Img(src="data:image/svg+xml;utf8," + quote(sparkline_svg(values)),
                    alt=sparkline_alt(kpi, periods, values), className="sparkline",
                    id=f"{tile_id}-spark", width=SPARK_SIZE[0], height=SPARK_SIZE[1])


def unit_words(kpi: Kpi) -> str:
    """The unit in words after the value's own short unit: 'of patients on the ... register',
    'registered patients a month'."""
    return unit_text(kpi).removeprefix(kpi.unit).strip()


def kpi_tile(kpi: Kpi, org_code: str, text: TileText,
             series: pd.DataFrame | Rows | None = None, month: str | None = None) -> html.Article:
    """The tile: the KPI's name links to its definition, 'SPC chart' to the KPI page."""
    tile_id = f"tile-{kpi.id}"
    query = {"kpi": kpi.id, "org": org_code} | ({"month": month} if month else {})
    notes = [t for t in (text.change, text.variation, text.shift, text.assurance, text.why,
                         text.trend) if t]
    return html.Article([
        html.H3(dcc.Link(kpi_label(kpi), href=f"/definitions#{kpi.id}", className="tile-title",
                         title=f"Definition of {kpi_label(kpi)}"), id=f"{tile_id}-name"),
        html.P([html.Span(text.value, className="tile-value"),
                html.Span(unit_words(kpi), className="tile-unit")]),
        html.Div([rag_badge(text.rag)] + ([html.Span(text.target, className="tile-target")]
                                          if text.target else []), className="tile-rag"),
        html.P(text.period, className="tile-period"),
        html.P(text.provisional_note, className="tile-provisional") if text.provisional_note
        else None,
        sparkline(kpi, series, tile_id) if series is not None and len(series) else None,
        html.Ul([html.Li(line) for line in notes], className="tile-notes"),
        dcc.Link(["SPC chart and comparison",
                  html.Span(f" of {kpi_label(kpi)}", className="visually-hidden")],
                 href="/kpi?" + urlencode(query), className="tile-more"),
    ], className="kpi-tile", id=tile_id, **{"aria-labelledby": f"{tile_id}-name"})
