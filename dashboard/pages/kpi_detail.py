"""KPI page (/kpi?kpi=&org=&month=&peer=): one KPI for one organisation. The Making Data Count
chart over every month, the month's funnel and ranked bars against a chosen peer group, the
breakdowns the feeds hold and the series as a table; each with its CSV (and PNG for charts).
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboard import ids, state, theme
from dashboard.components.download import csv_download, graph
from dashboard.panels.common import graph_style
from dashboard.panels.kpi_detail import CHARTS, clicked_org, csv_for, kpi_view

dash.register_page(__name__, path="/kpi", name="KPI", title="KPI · carekpi")


SERIES_COLUMN_DEFS = [
    {"field": "month", "headerName": "Month", "sortable": False},
    {"field": "value", "headerName": "Value"},
    {"field": "interval", "headerName": "95% interval"},
    {"field": "numerator", "headerName": "Numerator"},
    {"field": "denominator", "headerName": "Denominator"},
    {"field": "target", "headerName": "Target"},
    {"field": "rag", "headerName": "Against target"},
    {"field": "spc", "headerName": "SPC point"},
    {"field": "status", "headerName": "Status"},
]


def _org_options(choices: state.Choices) -> list[dict]:
    order = {"system": 0, "place": 1, "network": 2, "practice": 3}
    orgs = sorted(choices.orgs.values(), key=lambda o: (order.get(o.level, 9), o.code))
    return [{"label": f"{o.label} · {o.level}", "value": o.code} for o in orgs]


def _control(label: str, control, control_id: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=control_id), control], className="control")


def layout(kpi: str | None = None, org: str | None = None, month: str | None = None,
           peer: str | None = None, **_) -> html.Div:
    """The page for the query string's state (bad values named in a message)."""
    choices = state.available()
    st = state.from_query(choices, kpi=kpi, org=org, month=month, peer=peer)
    months = [{"label": theme.month_label(m), "value": m} for m in reversed(choices.months)]
    controls = html.Div([
        _control("KPI", dcc.Dropdown(state.kpi_options(choices), st.kpi, id=ids.KPI_SELECT,
                                     clearable=False), ids.KPI_SELECT),
        _control("Organisation", dcc.Dropdown(_org_options(choices), st.org, id=ids.KPI_ORG,
                                              clearable=False), ids.KPI_ORG),
        _control("Month", dcc.Dropdown(months, st.month, id=ids.KPI_MONTH, clearable=False),
                 ids.KPI_MONTH),
        html.Fieldset([html.Legend("Compare with"), dcc.RadioItems(
            [{"label": words, "value": key} for key, words in state.PEERS.items()], st.peer,
            id=ids.KPI_PEER, inline=True)], className="control"),
    ], className="controls kpi-controls")
    return html.Div([
        dcc.Location(id=ids.KPI_URL, refresh=False),
        html.Nav(id=ids.KPI_BREADCRUMB, className="breadcrumb", **{"aria-label": "Breadcrumb"}),
        html.H1(id=ids.KPI_HEADING),
        html.Div([html.P(m) for m in st.messages], id=ids.KPI_MESSAGES, role="alert",
                 className="messages" if st.messages else "messages empty"),
        controls,
        html.Div(id=ids.KPI_RATIO_LINK),
        html.Section([
            html.H2("Over time: Making Data Count chart"),
            graph(ids.KPI_SPC, "Statistical process control chart of the KPI by month"),
            html.P(id=ids.KPI_CAPTION, className="caption"),
            _downloads(ids.KPI_SPC, ids.KPI_SPC_CSV),
        ], className="panel"),
        html.Section([
            html.H2("Against peers this month"),
            html.P(id=ids.KPI_PEER_NOTE, className="caption"),
            graph(ids.KPI_FUNNEL, "Funnel plot: each practice's value against its size"),
            html.P(id=ids.KPI_FUNNEL_CAPTION, className="caption"),
            _downloads(ids.KPI_FUNNEL, ids.KPI_FUNNEL_CSV),
            graph(ids.KPI_RANKED, "Ranked bar chart of the practices with 95% intervals"),
            html.P(id=ids.KPI_RANKED_CAPTION, className="caption"),
            _downloads(ids.KPI_RANKED, ids.KPI_RANKED_CSV),
        ], className="panel"),
        html.Section([
            html.H2("Breakdown"),
            graph(ids.KPI_BREAKDOWN, "Breakdown of the month by the categories the feed holds"),
            html.P(id=ids.KPI_BREAKDOWN_CAPTION, className="caption"),
            _downloads(ids.KPI_BREAKDOWN, ids.KPI_BREAKDOWN_CSV),
        ], className="panel"),
        html.Section([
            html.H2("The series as a table"),
            dag.AgGrid(id=ids.KPI_TABLE, columnDefs=SERIES_COLUMN_DEFS, rowData=[],
                       defaultColDef={"resizable": True, "flex": 1, "minWidth": 120,
                                      "wrapHeaderText": True, "autoHeaderHeight": True},
                       dashGridOptions={"domLayout": "autoHeight", "pagination": True,
                                        "paginationPageSize": 12,
                                        "paginationPageSizeSelector": False},
                       className="ag-theme-alpine series-table"),
            csv_download(ids.KPI_TABLE_CSV, "Download the table (CSV)"),
        ], className="panel"),
    ], className="kpi-page")


def _downloads(graph_id: str, csv_id: str) -> html.Div:
    return html.Div([csv_download(csv_id, "Download data (CSV)"),
                     html.Div(id=f"{graph_id}-png")], className="downloads")




# --- callbacks: a line or two each, the work is in the helpers above -------------------------
CONTROLS = [Input(ids.KPI_SELECT, "value"), Input(ids.KPI_ORG, "value"),
            Input(ids.KPI_MONTH, "value"), Input(ids.KPI_PEER, "value")]


@callback(
    Output(ids.KPI_URL, "search"), Output(ids.KPI_HEADING, "children"),
    Output(ids.KPI_BREADCRUMB, "children"), Output(ids.KPI_SPC, "figure"),
    Output(ids.KPI_CAPTION, "children"), Output(ids.KPI_PEER_NOTE, "children"),
    Output(ids.KPI_FUNNEL, "figure"), Output(ids.KPI_FUNNEL_CAPTION, "children"),
    Output(ids.KPI_RANKED, "figure"), Output(ids.KPI_RANKED_CAPTION, "children"),
    Output(ids.KPI_BREAKDOWN, "figure"), Output(ids.KPI_BREAKDOWN_CAPTION, "children"),
    Output(ids.KPI_TABLE, "rowData"), Output(ids.KPI_RATIO_LINK, "children"),
    *[Output(f"{chart}-png", "children") for chart in CHARTS],
    *[Output(chart, "style") for chart in CHARTS],
    *CONTROLS)
def update_page(kpi_id, org_code, month, peer):
    view = kpi_view(kpi_id, org_code, month, peer)
    return (view.search, view.heading, view.breadcrumb, view.spc, view.spc_caption,
            view.peer_note, view.funnel, view.funnel_caption, view.ranked, view.ranked_caption,
            view.breakdown, view.breakdown_caption, view.table, view.ratio_link, *view.pngs,
            *[graph_style(fig) for fig in (view.spc, view.funnel, view.ranked, view.breakdown)])


@callback(Output(ids.KPI_ORG, "value"), Input(ids.KPI_FUNNEL, "clickData"),
          Input(ids.KPI_RANKED, "clickData"), State(ids.KPI_ORG, "value"),
          prevent_initial_call=True)
def drill_to_practice(funnel_click, bar_click, current):
    click = funnel_click if ctx.triggered_id == ids.KPI_FUNNEL else bar_click
    return clicked_org(click) or current


def _csv_callback(csv_id: str, chart: str) -> None:
    @callback(Output(csv_id, "data"), Input(f"{csv_id}-button", "n_clicks"),
              State(ids.KPI_SELECT, "value"), State(ids.KPI_ORG, "value"),
              State(ids.KPI_MONTH, "value"), State(ids.KPI_PEER, "value"),
              prevent_initial_call=True)
    def download(_clicks, kpi_id, org_code, month, peer):
        return csv_for(chart, kpi_id, org_code, month, peer)


for _csv_id, _chart in ((ids.KPI_SPC_CSV, "spc"), (ids.KPI_FUNNEL_CSV, "funnel"),
                        (ids.KPI_RANKED_CSV, "ranked"), (ids.KPI_BREAKDOWN_CSV, "breakdown"),
                        (ids.KPI_TABLE_CSV, "table")):
    _csv_callback(_csv_id, _chart)
