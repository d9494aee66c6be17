"""Overview: one tile per headline KPI for the area or a chosen network (programme boards:
"is the programme working?")."""

from __future__ import annotations

import dash
import pandas as pd
from dash import html

from dashboard import queries
from dashboard.components.kpi_tile import kpi_tile, tile_text
from kpi.catalogue import kpis_by_family

dash.register_page(__name__, path="/", name="Overview", title="carekpi")


def headline_tiles(org_code: str) -> list[html.Section]:
    """A section per KPI family, a tile per headline KPI with a value for the organisation."""
    rows = queries.org_latest(org_code)
    sections = []
    for kpis in kpis_by_family().values():
        tiles = []
        for kpi in kpis:
            if kpi.drilldown_of or kpi.rolling_of:
                continue
            series = rows[rows["kpi_id"] == kpi.id]
            if series.empty:
                continue
            latest = series.iloc[0]
            year_before = series[series["period"] == _year_before(latest["period"])]
            tiles.append(kpi_tile(kpi, org_code, tile_text(
                kpi, latest, year_before.iloc[0] if not year_before.empty else None)))
        if tiles:
            sections.append(html.Section([html.H2(kpis[0].family_title),
                                          html.Div(tiles, className="tiles")]))
    return sections


def _year_before(period: str) -> str:
    return (pd.Period(period, freq="M") - 12).strftime("%Y-%m")


def layout(org: str | None = None, **_) -> html.Div:
    orgs = queries.organisations()
    names = orgs.set_index("org_code")["org_name"]
    area = next(iter(queries.area_codes()), None)
    org = org if org in set(orgs["org_code"]) else area
    if org is None:
        return html.Div([html.H1("Integrated-care KPIs"),
                         html.P("No data loaded yet: run `carekpi etl run`.")])
    return html.Div([
        html.H1(f"{names.get(org) or org}: integrated-care KPIs"),
        html.P("Latest month of each measure against its target, with Making Data Count SPC "
               "icons in words. Values built on counts of 1 to 7 are shown as *."),
        *headline_tiles(org),
    ])
