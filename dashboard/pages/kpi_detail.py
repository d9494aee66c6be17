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
from dashboard.components.freshness import page_freshness
from dashboard.components.org_picker import org_picker, org_search, picker_id
from dashboard.panels.common import figure_label, graph_style
from dashboard.panels.kpi_detail import CHARTS, clicked_org, csv_for, kpi_view

dash.register_page(__name__, path="/kpi", name="KPI", title="KPI · carekpi")


SERIES_COLUMN_DEFS = [
    {"field": "month", "headerName": "Month", "sortable": False},
    {"field": "value", "headerName": "Value", "minWidth": 190},
    {"field": "interval", "headerName": "95% interval", "minWidth": 150},
    {"field": "numerator", "headerName": "Numerator"},
    {"field": "denominator", "headerName": "Denominator"},
    {"field": "target", "headerName": "Target", "minWidth": 190},
    {"field": "rag", "headerName": "Against target"},
    {"field": "spc", "headerName": "SPC point", "minWidth": 150},
    {"field": "status", "headerName": "Status"},
]


PICKER = picker_id(ids.KPI_PICKER_PAGE)
CHART_LABELS = ("Statistical process control chart of the KPI by month",
                "Funnel plot: each practice's value against its size",
                "Ranked bar chart of the practices with 95% intervals",
                "Breakdown of the month by the categories the feed holds")


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
        _control("Month", dcc.Dropdown(months, st.month, id=ids.KPI_MONTH, clearable=False),
                 ids.KPI_MONTH),
        html.Fieldset([html.Legend("Compare with"), dcc.RadioItems(
            [{"label": words, "value": key} for key, words in state.PEERS.items()], st.peer,
            id=ids.KPI_PEER, inline=True)], className="control"),
    ], className="controls kpi-controls")
    picker = org_picker(ids.KPI_PICKER_PAGE, choices, st.org)
    return html.Div([
        dcc.Location(id=ids.KPI_URL, refresh=False),
        html.Nav(id=ids.KPI_BREADCRUMB, className="breadcrumb", **{"aria-label": "Breadcrumb"}),
        html.H1(id=ids.KPI_HEADING),
        html.Div([html.P(m) for m in st.messages], id=ids.KPI_MESSAGES, role="alert",
                 className="messages" if st.messages else "messages empty"),
        picker,
        controls,
        html.Div(id=ids.KPI_FRESHNESS),
        html.Div(id=ids.KPI_RATIO_LINK),
        html.Section([html.H2("Over time: Making Data Count chart"),
                      *_chart(ids.KPI_SPC, CHART_LABELS[0], ids.KPI_CAPTION, ids.KPI_SPC_CSV)],
                     className="panel"),
        html.Section([html.H2("Against peers this month"),
                      html.P(id=ids.KPI_PEER_NOTE, className="caption"),
                      *_chart(ids.KPI_FUNNEL, CHART_LABELS[1], ids.KPI_FUNNEL_CAPTION,
                              ids.KPI_FUNNEL_CSV),
                      *_chart(ids.KPI_RANKED, CHART_LABELS[2], ids.KPI_RANKED_CAPTION,
                              ids.KPI_RANKED_CSV)],
                     className="panel"),
        html.Section([html.H2("Breakdown"),
                      *_chart(ids.KPI_BREAKDOWN, CHART_LABELS[3], ids.KPI_BREAKDOWN_CAPTION,
                              ids.KPI_BREAKDOWN_CSV)], className="panel"),
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


def _chart(graph_id: str, label: str, caption_id: str, csv_id: str) -> list:
    """A labelled chart, its caption, and its CSV and PNG buttons (the PNG's set per view)."""
    return [graph(graph_id, label), html.P(id=caption_id, className="caption"),
            html.Div([csv_download(csv_id, "Download data (CSV)"),
                      html.Div(id=f"{graph_id}-png")], className="downloads")]




# --- callbacks: a line or two each, the work is in the helpers above -------------------------
CONTROLS = [Input(ids.KPI_SELECT, "value"), Input(PICKER, "value"),
            Input(ids.KPI_MONTH, "value"), Input(ids.KPI_PEER, "value")]


@callback(
    Output(ids.KPI_URL, "search"), Output(ids.KPI_HEADING, "children"),
    Output(ids.KPI_BREADCRUMB, "children"), Output(ids.KPI_SPC, "figure"),
    Output(ids.KPI_CAPTION, "children"), Output(ids.KPI_PEER_NOTE, "children"),
    Output(ids.KPI_FUNNEL, "figure"), Output(ids.KPI_FUNNEL_CAPTION, "children"),
    Output(ids.KPI_RANKED, "figure"), Output(ids.KPI_RANKED_CAPTION, "children"),
    Output(ids.KPI_BREAKDOWN, "figure"), Output(ids.KPI_BREAKDOWN_CAPTION, "children"),
    Output(ids.KPI_TABLE, "rowData"), Output(ids.KPI_RATIO_LINK, "children"),
    Output(ids.KPI_FRESHNESS, "children"),
    *[Output(f"{chart}-png", "children") for chart in CHARTS],
    *[Output(chart, "style") for chart in CHARTS],
    *[Output(f"{chart}-label", "children") for chart in CHARTS],
    *CONTROLS)
def update_page(kpi_id, org_code, month, peer):
    view = kpi_view(kpi_id, org_code, month, peer)
    return (view.search, view.heading, view.breadcrumb, view.spc, view.spc_caption,
            view.peer_note, view.funnel, view.funnel_caption, view.ranked, view.ranked_caption,
            view.breakdown, view.breakdown_caption, view.table, view.ratio_link,
            _freshness(kpi_id, org_code, month), *view.pngs,
            *[graph_style(fig) for fig in (view.spc, view.funnel, view.ranked, view.breakdown)],
            *[figure_label(fig, label) for fig, label in zip(
                (view.spc, view.funnel, view.ranked, view.breakdown), CHART_LABELS, strict=True)])


def _freshness(kpi_id: str | None, org_code: str | None, month: str | None):
    choices = state.available()
    return page_freshness(choices.orgs.get(org_code), month, choices.orgs,
                          [kpi_id] if kpi_id else None)


@callback(Output(PICKER, "value"), Output(PICKER, "options", allow_duplicate=True),
          Input(ids.KPI_FUNNEL, "clickData"), Input(ids.KPI_RANKED, "clickData"),
          State(PICKER, "value"), prevent_initial_call=True)
def drill_to_practice(funnel_click, bar_click, current):
    chosen = clicked_org(funnel_click if ctx.triggered_id == ids.KPI_FUNNEL else bar_click)
    chosen = chosen or current
    return chosen, org_search(state.available(), None, None, chosen)


def _csv_callback(csv_id: str, chart: str) -> None:
    @callback(Output(csv_id, "data"), Input(f"{csv_id}-button", "n_clicks"),
              State(ids.KPI_SELECT, "value"), State(PICKER, "value"),
              State(ids.KPI_MONTH, "value"), State(ids.KPI_PEER, "value"),
              prevent_initial_call=True)
    def download(_clicks, kpi_id, org_code, month, peer):
        return csv_for(chart, kpi_id, org_code, month, peer)


for _csv_id, _what in ((ids.KPI_SPC_CSV, "spc"), (ids.KPI_FUNNEL_CSV, "funnel"),
                        (ids.KPI_RANKED_CSV, "ranked"), (ids.KPI_BREAKDOWN_CSV, "breakdown"),
                        (ids.KPI_TABLE_CSV, "table")):
    _csv_callback(_csv_id, _what)
