"""Overview (`/?org=&month=`): a tile per headline KPI for the area or a chosen network or practice
(programme boards: "is the programme working?")."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import dash
from dash import Input, Output, State, callback, dcc, html

from carekpi.periods import add_months
from dashboard import ids, queries, state
from dashboard.alerts import red_red_table
from dashboard.components.breadcrumb import breadcrumb_nav
from dashboard.components.freshness import page_freshness
from dashboard.components.kpi_tile import kpi_tile, tile_rows, tile_text, with_verdict
from dashboard.components.org_picker import org_picker, picker_id
from dashboard.report import report_href
from dashboard.state import Choices, PageState
from kpi.catalogue import kpis_by_family

dash.register_page(__name__, path="/", name="Overview", title="Overview · carekpi")

PAGE = ids.OVERVIEW_PICKER_PAGE


# The mart columns a tile reads (a narrow frame keeps the per-KPI work cheap).
TILE_COLUMNS = ["kpi_id", "period", "numerator", "denominator", "value", "target", "rag",
                "variation_icon", "assurance_icon", "trend", "provisional", "suppressed",
                "spc_mean"]


def org_series(org_code: str, kpi_id: str, by_kpi: dict[str, list[dict]]) -> list[dict]:
    """One KPI's rows for the organisation as records (the rolling form read on its own)."""
    if state.kpi_form(kpi_id) != "month":
        form = state.kpi_form(kpi_id)
        return queries.kpi_series(kpi_id, org_code, form=form)[TILE_COLUMNS].to_dict("records")
    return by_kpi.get(kpi_id, [])


def headline_tiles(page: PageState, choices: Choices) -> list[html.Section]:
    """A section per KPI family, a tile per headline KPI with values for the organisation, each
    showing its latest final month up to the page's month."""
    by_kpi: dict[str, list[dict]] = {}
    for row in queries.org_latest(page.org)[TILE_COLUMNS].to_dict("records"):
        by_kpi.setdefault(row["kpi_id"], []).append(row)
    sections = []
    for kpis in kpis_by_family().values():
        tiles = []
        for kpi in kpis:
            if kpi.drilldown_of or kpi.id not in choices.kpis:
                continue
            series = org_series(page.org, kpi.id, by_kpi)
            shown, later = tile_rows(series, page.month)
            if shown is None:
                continue  # not reported at this organisation's level
            year_before = _year_before(shown["period"])
            before = next((r for r in series if r["period"] == year_before), None)
            drawn = [r for r in series if not page.month or r["period"] <= page.month]
            text = with_verdict(tile_text(kpi, shown, before, later), kpi, drawn, shown)
            tiles.append(kpi_tile(kpi, page.org, text, drawn, page.month))
        if tiles:
            sections.append(html.Section([html.H2(kpis[0].family_title),
                                          html.Div(tiles, className="tiles")]))
    return sections


def _year_before(period: str) -> str:
    return add_months(period, -12)


def overview_href(search: str | None, org_code: str | None) -> str:
    """The overview's address with the organisation changed, other parameters kept."""
    params = dict(parse_qsl((search or "").lstrip("?")))
    if org_code:
        params["org"] = org_code
    return "/" + ("?" + urlencode(params) if params else "")


def layout(org: str | None = None, month: str | None = None, **_) -> html.Div:
    choices = state.available()
    page = state.from_query(choices, org=org, month=month)
    here = choices.orgs.get(page.org) if page.org else None
    if here is None:
        return html.Div([html.H1("Integrated-care KPIs", id=ids.OVERVIEW_HEADING),
                         html.P("No data loaded yet: run `carekpi etl run`.")])
    chain = [choices.orgs[c] for c in queries.parent_chain(page.org) if c in choices.orgs]
    return html.Div([
        dcc.Location(id=ids.OVERVIEW_URL, refresh="callback-nav"),
        breadcrumb_nav(chain, lambda o: "/" + state.to_query(page, ("org", "month"), org=o.code),
                       id=ids.OVERVIEW_BREADCRUMB),
        html.H1(f"{here.label}: integrated-care KPIs", id=ids.OVERVIEW_HEADING),
        html.Div([html.P(m) for m in page.messages], id=ids.OVERVIEW_MESSAGES,
                 className="messages", role="alert") if page.messages else None,
        org_picker(PAGE, choices, page.org),
        html.Div(page_freshness(here, page.month, choices.orgs), id=ids.OVERVIEW_FRESHNESS),
        html.P("Each tile shows the latest final month of a measure against its target, with "
               "the Making Data Count SPC verdicts in words. Values built on counts of 1 to 7 "
               "are shown as *. Select a KPI's name for its definition.", className="intro"),
        html.Div(headline_tiles(page, choices), id=ids.OVERVIEW_TILES),
        html.Section([html.H2("Red-red alerts: worse than peers and getting worse"),
                      red_red_table(queries.red_red(page.org, page.month), ids.OVERVIEW_RED_RED),
                      html.A("Download the board pack (HTML, prints to A4)", id=ids.OVERVIEW_PACK,
                             href=report_href(page.month, page.org), download="")]),
    ])


@callback(Output(ids.OVERVIEW_URL, "href"), Input(picker_id(PAGE), "value"),
          State(ids.OVERVIEW_URL, "search"), prevent_initial_call=True)
def pick_organisation(org_code: str | None, search: str | None) -> str:
    return overview_href(search, org_code)
