"""The monthly board pack: one self-contained HTML file (plotly.js inlined once, no external URL)
that prints to A4 PDF without cutting a chart, and the app's route that offers it for download.

Everything comes through the read side (carekpi/read.py), so small numbers are already
suppressed; charts are the dashboard's own `spc_figure`. Sections: the overview tiles (static
HTML), the written summary, red-red alerts, every headline KPI's SPC chart, the payment position,
data freshness and a methods appendix. An impact section can be added through `extra_sections`.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import plotly.io as pio
from flask import Flask, Response, request
from plotly.offline import get_plotlyjs
from sqlalchemy.engine import Connection, Engine

from carekpi import read
from carekpi.periods import is_period
from dashboard import theme  # noqa: F401 - registers the "carekpi" plotly template
from dashboard.alerts import COLUMNS as ALERT_COLUMNS
from dashboard.alerts import NONE_TEXT, red_red_display
from dashboard.components.kpi_tile import tile_rows, tile_text, unit_words, with_verdict
from dashboard.components.rag_badge import rag_text
from dashboard.figures.spc import spc_figure
from dashboard.summary import summary_sentence
from kpi.catalogue import Kpi, get_kpi, load_catalogue
from kpi.verdicts import latest_shift

CHART_SIZE = (700, 290)  # pixels: A4's printable area (about 718 x 1009 px) holds three

CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: Arial, Helvetica, sans-serif; color: #212B32; font-size: 11pt; margin: 0; }
h1 { color: #005EB8; font-size: 20pt; } h2 { color: #003087; border-bottom: 2px solid #005EB8;
  break-after: avoid; page-break-after: avoid; }
.tiles { display: flex; flex-wrap: wrap; gap: 8px; }
.tile { border: 1px solid #AEB7BD; border-left: 6px solid #005EB8; padding: 6px 8px;
  box-sizing: border-box; width: 318px; break-inside: avoid; page-break-inside: avoid; }
.tile h3 { margin: 0; font-size: 11pt; } .tile .value { font-size: 16pt; font-weight: bold; }
.tile ul { margin: 4px 0 0 16px; padding: 0; font-size: 9.5pt; }
.why { font-style: italic; }
.chart { break-inside: avoid; page-break-inside: avoid; margin: 0 0 12px 0; width: 700px; }
.chart p { font-size: 9pt; margin: 2px 0; } .chart h3 { margin: 4px 0 0 0; font-size: 11pt; }
table { border-collapse: collapse; font-size: 9.5pt; } td, th { border: 1px solid #AEB7BD;
  padding: 2px 6px; text-align: left; } tr { break-inside: avoid; page-break-inside: avoid; }
section { break-before: page; page-break-before: always; } section.first { break-before: auto;
  page-break-before: auto; }
"""


@dataclass(frozen=True)
class BoardPack:
    """A built pack: its HTML, the KPIs it charts, and the seconds it took."""

    html: str
    kpi_ids: tuple[str, ...]
    seconds: float


def _e(text: object) -> str:
    return html.escape(str(text))


def _no_urls(text: str) -> str:
    """plotly.js with 'http://' written 'http:\\/\\/': the same string in JavaScript, so the file
    holds no URL (plotly.js carries the SVG namespace and links a pack never opens)."""
    return text.replace("://", ":\\/\\/")


def default_org(bind: Engine | Connection) -> str:
    """The area: the first place that has networks of its own."""
    orgs = read.organisations(bind)
    places = sorted(set(orgs.loc[orgs["level"] == "network", "parent_code"].dropna()))
    if not places:
        raise ValueError("no area with networks in the warehouse: load the organisation feed")
    return places[0]


def headline_kpis(conn: Connection, org_code: str, month: str) -> list[tuple[Kpi, pd.DataFrame]]:
    """Each headline KPI with its series for the organisation up to `month` (those with rows)."""
    out = []
    for kpi in load_catalogue():
        if kpi.drilldown_of:
            continue
        form = "rolling12" if kpi.rolling_of else "month"
        if kpi.rolling_of:
            continue  # the monthly KPI it rolls is charted; the overview shows the rolling sum
        series = read.kpi_series(conn, kpi.id, org_code, form=form)
        series = series[series["period"] <= month].reset_index(drop=True)
        if len(series):
            out.append((kpi, series))
    return out


def _tile(kpi: Kpi, series: pd.DataFrame, month: str) -> tuple[str, dict, object]:
    """A tile as static HTML (the overview's words), the shown row, and the shift (or None)."""
    rows = series.to_dict("records")
    shown, later = tile_rows(rows, month)
    year_before = f"{int(shown['period'][:4]) - 1}{shown['period'][4:]}"
    before = next((r for r in rows if r["period"] == year_before), None)
    upto = [r for r in rows if r["period"] <= shown["period"]]
    text = with_verdict(tile_text(kpi, shown, before, later), kpi, upto, shown)
    shift = latest_shift([r["value"] for r in upto], shown.get("spc_mean"),
                         polarity=kpi.polarity, target=shown.get("target"))
    rag = rag_text(text.rag)
    notes = (text.change, text.variation, text.shift, text.assurance, text.trend)
    items = "".join(f"<li>{_e(n)}</li>" for n in notes if n)
    why = f'<p class="why">{_e(text.why)}</p>' if text.why else ""
    note = f"<p>{_e(text.provisional_note)}</p>" if text.provisional_note else ""
    tile = (f'<div class="tile" id="tile-{kpi.id}"><h3>{_e(kpi.title)}</h3>'
            f'<div><span class="value">{_e(text.value)}</span> {_e(unit_words(kpi))}</div>'
            f"<div>{' · '.join(_e(t) for t in (rag, text.target, text.period) if t)}</div>"
            f"{note}<ul>{items}</ul>{why}</div>")
    return tile, shown, shift


def _chart(kpi: Kpi, series: pd.DataFrame, org_label: str, month: str,
           notes: pd.DataFrame) -> str:
    fig = spc_figure(series, kpi, org_label=org_label, month=month,
                     annotations=notes.to_dict("records"))
    # At a fixed print size long words are cut, so HTML carries them: the title as a heading
    # (it wraps), the unit in the caption; the axes keep the short unit and the month ticks.
    fig.update_layout(width=CHART_SIZE[0], height=CHART_SIZE[1], margin={"t": 30, "b": 40},
                      title_text=None, xaxis_title_text=None, yaxis_title_text=kpi.unit)
    div = pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=f"chart-{kpi.id}",
                      config={"staticPlot": True, "displaylogo": False, "responsive": False})
    return (f'<div class="chart" id="spc-{kpi.id}"><h3>{_e(kpi.title)}: {_e(org_label)}</h3>'
            f"<p>{_e(theme.unit_text(kpi))}</p>{div}</div>")


def _table(frame: pd.DataFrame, headers: dict[str, str]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers.values())
    body = "".join("<tr>" + "".join(f"<td>{_e(_cell(r[c]))}</td>" for c in headers) + "</tr>"
                   for r in frame.to_dict("records"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _payment(conn: Connection, org_code: str, month: str) -> str:
    networks = set(read.members_in(conn, org_code, month)) | {org_code}
    view = read.payment_status(conn)
    if view.empty:
        return "<p>No care-package payment terms apply.</p>"
    view = view[view["org_code"].isin(networks) & (view["period"] <= month)]
    if view.empty:
        return "<p>No quarter has ended yet for these networks' care packages.</p>"
    latest = view.sort_values("period").groupby(["org_code", "kpi_id"]).tail(1)
    latest = latest.assign(share_to_date=(latest["share_to_date"] * 100).round(1),
                           kpi_id=[get_kpi(k).title for k in latest["kpi_id"]],
                           met=latest["met"].map({True: "Yes", False: "No"}))
    return (f"<p>Each network's care-package KPIs at the latest quarter end up to "
            f"{theme.month_label(month)}, and the share of the year's performance element "
            "earned so far (%).</p>" + _table(latest.sort_values(["org_code", "kpi_id"]), {
                "org_code": "Network", "kpi_id": "KPI", "period": "Quarter end",
                "value": "Value", "target": "Target", "met": "Met",
                "share_to_date": "Earned so far (%)"}))


def _freshness(conn: Connection, org_code: str, month: str) -> str:
    feeds = read.feed_freshness(conn)
    prov = read.provisional_months(conn, org_code)
    prov = prov[prov["period"] <= month]
    listed = ", ".join(theme.month_label(p) for p in sorted(set(prov["period"]))) or "none"
    return (_table(feeds.astype({"finished_at": str}), {
        "feed": "Feed", "finished_at": "Last loaded", "latest_period": "Latest month carried"})
        + f"<p>Provisional months for this organisation up to {theme.month_label(month)}: "
        f"{_e(listed)}.</p>")


METHODS = """<ul>
<li>SPC: Making Data Count XmR charts (mean ± 2.66 × mean moving range; special cause: a point
beyond a limit, a run of 7 on one side of the mean, 7 rising or falling, two of three beyond
2 sigma, November 2023 rules). Limits from 13 months or more; recalculated only at a rebase
annotation a user has accepted.</li>
<li>Sustained shifts: where the latest 7 or more months lie on one side of the mean, the
tile reads the target against the shift's own limits (the current process) and proposes the
shift's first month as a recalculation point; the mart's limits are unchanged until a user
accepts it (<code>carekpi annotations propose</code>).</li>
<li>Recent trend: chi-squared test for trend over the last 5 months, p &lt; 0.002
(Fingertips).</li>
<li>Peer comparison: funnel limits at 95% and 99.8% around the peer group's value.
Red-red: beyond the 99.8% limit on the bad side AND a special cause of concern that month or a
significant trend the wrong way (Fingertips' red-red list).</li>
<li>Small numbers: counts of 1 to 7 and the values built on them are not shown (*).</li>
</ul>"""


def build_board_pack(bind: Engine | Connection, month: str, org_code: str | None = None, *,
                     extra_sections: Sequence[tuple[str, str]] = ()) -> BoardPack:
    """The pack for an organisation (default: the area) and month, as one HTML document.

    `extra_sections` are (title, HTML) pairs appended before the appendix (the seam for a
    programme-impact section). Raises ValueError for an organisation or month without data.
    """
    started = time.perf_counter()
    with read._connected(bind) as conn:  # one connection for the whole pack
        org_code = org_code or default_org(conn)
        orgs = read.organisations(conn).set_index("org_code")
        if org_code not in orgs.index:
            raise ValueError(f"no organisation {org_code!r} in the warehouse")
        name = orgs.at[org_code, "org_name"] or org_code
        org_label = f"{name} ({org_code})"
        kpis = headline_kpis(conn, org_code, month)
        if not kpis:
            raise ValueError(f"no KPI values for {org_code} up to {month}")
        practices = read.practices_under(conn, org_code, month)
        tiles, sentences, charts = [], [], []
        notes = read.annotations(conn, org_code)
        for kpi, series in kpis:
            tile, shown, shift = _tile(kpi, series, month)
            tiles.append(tile)
            level_rows = read.kpi_month(conn, kpi.id, shown["period"], "practice")
            mine = level_rows[level_rows["org_code"].isin(practices)]
            sentences.append(summary_sentence(kpi, shown, name, mine if len(practices) > 1
                                              else None, shift))
            kpi_notes = notes[notes["kpi_id"].isna() | (notes["kpi_id"] == kpi.id)]
            charts.append(_chart(kpi, series, org_label, month, kpi_notes))
        alerts = read.red_red(conn, org_code, month)
        payment = _payment(conn, org_code, month)
        fresh = _freshness(conn, org_code, month)
    alert_html = (f"<p>{NONE_TEXT}</p>" if alerts.empty
                  else _table(red_red_display(alerts), ALERT_COLUMNS))
    extra = "".join(f"<section><h2>{_e(t)}</h2>{body}</section>" for t, body in extra_sections)
    body = (
        f'<section class="first"><h1>Board pack: {_e(org_label)}, '
        f"{_e(theme.month_label(month))}</h1>"
        "<p>Each tile shows the latest final month up to this month against its target, with "
        "the Making Data Count verdicts in words. Values built on counts of 1 to 7 show as *.</p>"
        f'<h2>Overview</h2><div class="tiles">{"".join(tiles)}</div></section>'
        f'<section><h2>Summary</h2><ul id="summary">'
        + "".join(f"<li>{_e(s)}</li>" for s in sentences) + "</ul>"
        f'<h2>Red-red alerts</h2><div id="red-red">{alert_html}</div></section>'
        f'<section><h2>SPC charts</h2>{"".join(charts)}</section>'
        f'<section><h2>Payment position</h2>{payment}</section>{extra}'
        f"<section><h2>Data freshness</h2>{fresh}<h2>Methods</h2>{METHODS}</section>")
    page = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>Board pack {_e(org_code)} {_e(month)}</title><style>{CSS}</style>"
            f"<script>{_no_urls(get_plotlyjs())}</script></head><body>{body}</body></html>")
    return BoardPack(page, tuple(k.id for k, _ in kpis), time.perf_counter() - started)


def write_board_pack(bind: Engine | Connection, month: str, out: Path,
                     org_code: str | None = None) -> BoardPack:
    """Build the pack and write it to `out` (UTF-8)."""
    pack = build_board_pack(bind, month, org_code)
    out.write_text(pack.html, encoding="utf-8")
    return pack


REPORT_PATH = "/report.html"


def report_href(month: str | None, org_code: str | None) -> str:
    """The pack's download address for a month and organisation."""
    params = {k: v for k, v in (("month", month), ("org", org_code)) if v}
    return REPORT_PATH + ("?" + urlencode(params) if params else "")


def register_report_route(server: Flask, engine: Engine) -> None:
    """Serve the pack at /report.html?month=YYYY-MM&org=CODE as a download (latest month and
    the area by default); a bad month or organisation answers 400 with the reason."""

    @server.get(REPORT_PATH)
    def board_pack_download():
        month = request.args.get("month") or read.latest_month(engine)
        org_code = request.args.get("org") or None
        if not is_period(month):
            return Response(f"month must be written YYYY-MM, got {month!r}", 400,
                            mimetype="text/plain")
        try:
            pack = build_board_pack(engine, month, org_code)
        except ValueError as exc:
            return Response(str(exc), 400, mimetype="text/plain")
        name = f"board-pack-{org_code or 'area'}-{month}.html"
        return Response(pack.html, mimetype="text/html", headers={
            "Content-Disposition": f'attachment; filename="{name}"'})
