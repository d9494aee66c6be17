"""Network page (/network?org=<network>&month=YYYY-MM): how did my network do, which practices
are behind and on what. The KPI x practice matrix (practices as rows so a network's four to ten
practices read down and its dozen KPIs across, as a manager scans one practice at a time), the
care-package payment position, and what changed since last month.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard import ids, queries, state, theme
from dashboard.alerts import red_red_table
from dashboard.components.download import csv_download
from dashboard.components.org_picker import org_picker, picker_id
from dashboard.panels.network import (
    GRID_OPTIONS,
    ROW_STYLE,
    cell_href,
    matrix_csv,
    network_view,
    payment_csv,
    resolve_network,
)

dash.register_page(__name__, path="/network", name="Network", title="Network · carekpi")

PAGE = ids.NETWORK_PICKER_PAGE

PAYMENT_COLUMN_DEFS = [
    {"field": "package", "headerName": "Care package", "minWidth": 300, "flex": 2},
    {"field": "quarter", "headerName": "Quarter end"},
    {"field": "value", "headerName": "Value"},
    {"field": "target", "headerName": "Target"},
    {"field": "met", "headerName": "Target met"},
    {"field": "earned", "headerName": "Performance element earned so far"},
    {"field": "money", "headerName": "Money earned so far", "minWidth": 160},
]


def _control(label: str, control, control_id: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=control_id), control], className="control")


def layout(org: str | None = None, month: str | None = None, **params) -> html.Div:
    """The page for the query string's state (bad values named in a message)."""
    choices = state.available()
    st = state.from_query(choices, org=org, month=month, **params)
    network, notes = resolve_network(st.org)
    months = [{"label": theme.month_label(m), "value": m} for m in reversed(choices.months)]
    messages = [*st.messages, *notes]
    return html.Div([
        dcc.Location(id=ids.NETWORK_URL, refresh=False),
        dcc.Location(id=ids.NETWORK_GO, refresh="callback-nav"),
        html.Nav(id=ids.NETWORK_BREADCRUMB, className="breadcrumb",
                 **{"aria-label": "Breadcrumb"}),
        html.H1(id=ids.NETWORK_HEADING),
        html.Div([html.P(m) for m in messages], id=ids.NETWORK_MESSAGES, role="alert",
                 className="messages" if messages else "messages empty"),
        html.Div([
            org_picker(PAGE, choices, network),
            _control("Month", dcc.Dropdown(months, st.month, id=ids.NETWORK_MONTH,
                                           clearable=False), ids.NETWORK_MONTH),
        ], className="controls network-controls"),
        html.Div(id=ids.NETWORK_FRESHNESS),
        html.Section([
            html.H2("KPIs by practice"),
            html.Div(id=ids.NETWORK_MATRIX_CAPTION, className="caption"),
            dag.AgGrid(id=ids.NETWORK_MATRIX, columnDefs=[], rowData=[],
                       getRowId="params.data.org_code", getRowStyle=ROW_STYLE,
                       defaultColDef={"resizable": True, "wrapHeaderText": True,
                                      "autoHeaderHeight": True},
                       dashGridOptions=GRID_OPTIONS, className="ag-theme-alpine matrix-grid",
                       style={"width": "100%"}),
            csv_download(ids.NETWORK_MATRIX_CSV, "Download the matrix (CSV)"),
        ], className="panel"),
        html.Section([
            html.H2("Care-package payment position"),
            html.P(id=ids.NETWORK_PAYMENT_CAPTION, className="caption"),
            dag.AgGrid(id=ids.NETWORK_PAYMENT, columnDefs=PAYMENT_COLUMN_DEFS, rowData=[],
                       defaultColDef={"sortable": True, "resizable": True, "flex": 1,
                                      "minWidth": 110, "wrapHeaderText": True,
                                      "autoHeaderHeight": True},
                       dashGridOptions={"domLayout": "autoHeight"},
                       className="ag-theme-alpine payment-grid", style={"width": "100%"}),
            csv_download(ids.NETWORK_PAYMENT_CSV, "Download the payment position (CSV)"),
        ], className="panel"),
        html.Section([html.H2("Red-red alerts: worse than peers and getting worse"),
                      html.Div(id=ids.NETWORK_RED_RED)], className="panel"),
        html.Section([html.H2("What changed since last month"),
                      html.Div(id=ids.NETWORK_CHANGES)], className="panel"),
    ], className="network-page")


# --- callbacks: a line or two each, the work is in dashboard/panels/network.py ----------------
CONTROLS = [Input(picker_id(PAGE), "value"), Input(ids.NETWORK_MONTH, "value")]
STATES = [State(picker_id(PAGE), "value"), State(ids.NETWORK_MONTH, "value")]


@callback(
    Output(ids.NETWORK_URL, "search"), Output(ids.NETWORK_HEADING, "children"),
    Output(ids.NETWORK_BREADCRUMB, "children"), Output(ids.NETWORK_FRESHNESS, "children"),
    Output(ids.NETWORK_MATRIX, "columnDefs"), Output(ids.NETWORK_MATRIX, "rowData"),
    Output(ids.NETWORK_MATRIX, "dashGridOptions"), Output(ids.NETWORK_MATRIX_CAPTION, "children"),
    Output(ids.NETWORK_PAYMENT, "rowData"), Output(ids.NETWORK_PAYMENT_CAPTION, "children"),
    Output(ids.NETWORK_CHANGES, "children"), *CONTROLS)
def update_page(org, month):
    view = network_view(org, month)
    return (view.search, view.heading, view.breadcrumb, view.freshness, view.column_defs,
            view.row_data, view.grid_options, view.matrix_caption, view.payment_rows,
            view.payment_caption, view.changes)


@callback(Output(ids.NETWORK_RED_RED, "children"), *CONTROLS)
def update_red_red(org, month):
    network = resolve_network(org)[0]
    month = month or queries.latest_month()
    if not network or not month:
        return red_red_table(pd.DataFrame(), f"{ids.NETWORK_RED_RED}-table")
    return red_red_table(queries.red_red(network, month), f"{ids.NETWORK_RED_RED}-table")


@callback(Output(ids.NETWORK_GO, "href"), Input(ids.NETWORK_MATRIX, "cellClicked"),
          *STATES, prevent_initial_call=True)
def open_cell(cell, org, month):
    return cell_href(cell, resolve_network(org)[0], month) or dash.no_update


@callback(Output(ids.NETWORK_MATRIX_CSV, "data"),
          Input(f"{ids.NETWORK_MATRIX_CSV}-button", "n_clicks"),
          *STATES, prevent_initial_call=True)
def download_matrix(_clicks, org, month):
    return matrix_csv(resolve_network(org)[0], month)


@callback(Output(ids.NETWORK_PAYMENT_CSV, "data"),
          Input(f"{ids.NETWORK_PAYMENT_CSV}-button", "n_clicks"),
          *STATES, prevent_initial_call=True)
def download_payment(_clicks, org, month):
    return payment_csv(resolve_network(org)[0], month)
