"""Data-quality page (/data-quality): for the data manager. When each feed last loaded, the
recent loads, files and rows refused with the ETL's reasons, files waiting in quarantine,
practices missing a month and the months still provisional, each table downloadable as CSV.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
from dash import Input, Output, callback, html

from dashboard import ids, runtime
from dashboard.components.download import csv_download
from dashboard.panels.data_quality import (
    csv_for,
    freshness_rows,
    load_rows,
    missing_rows,
    provisional_rows,
    quarantine_items,
    refused_items,
    summary,
)

dash.register_page(__name__, path="/data-quality", name="Data quality",
                   title="Data quality · carekpi")

FRESHNESS_COLUMNS = [{"field": "feed", "headerName": "Feed"},
                     {"field": "loaded", "headerName": "Last loaded"},
                     {"field": "latest_month", "headerName": "Latest month"}]
LOAD_COLUMNS = [{"field": "load_id", "headerName": "Load", "maxWidth": 90},
                {"field": "finished", "headerName": "Finished", "minWidth": 170},
                {"field": "feed", "headerName": "Feed", "minWidth": 200},
                {"field": "file_name", "headerName": "File", "minWidth": 240},
                {"field": "months", "headerName": "Months"},
                {"field": "status", "headerName": "Status"},
                {"field": "rows_loaded", "headerName": "Rows loaded", "type": "numericColumn"},
                {"field": "rows_refused", "headerName": "Rows refused",
                 "type": "numericColumn"}]
MISSING_COLUMNS = [{"field": "month", "headerName": "Month"},
                   {"field": "feed", "headerName": "Feed"},
                   {"field": "practice", "headerName": "Practice", "minWidth": 240},
                   {"field": "network", "headerName": "Network", "minWidth": 240}]
PROVISIONAL_COLUMNS = [{"field": "month", "headerName": "Month"},
                       {"field": "kpi", "headerName": "KPI", "minWidth": 260},
                       {"field": "organisation", "headerName": "Organisation"},
                       {"field": "reason", "headerName": "Why provisional", "minWidth": 300,
                        "wrapText": True, "autoHeight": True}]
CSV_IDS = {ids.DQ_LOADS_CSV: "loads", ids.DQ_REFUSED_CSV: "refused",
           ids.DQ_MISSING_CSV: "missing", ids.DQ_PROVISIONAL_CSV: "provisional"}


def _grid(grid_id: str, columns: list[dict], rows: list[dict], empty: str) -> html.Div:
    if not rows:
        return html.P(empty, id=grid_id, className="caption")
    return dag.AgGrid(id=grid_id, columnDefs=columns, rowData=rows,
                      defaultColDef={"sortable": True, "resizable": True, "filter": True,
                                     "flex": 1},
                      dashGridOptions={"domLayout": "autoHeight", "pagination": len(rows) > 20,
                                       "paginationPageSize": 20},
                      className="ag-theme-alpine", style={"width": "100%"})


def layout(**_) -> html.Div:
    """The page, read when it is opened (each table cached until the next load)."""
    quarantine = runtime.settings().quarantine
    return html.Div([
        html.H1("Data quality"),
        html.P(summary(quarantine), className="intro", id=ids.DQ_SUMMARY),
        html.Section([html.H2("Refused files and rows, with the reasons"),
                      html.Div(refused_items(), id=ids.DQ_REFUSED),
                      csv_download(ids.DQ_REFUSED_CSV, "Download refusals (CSV)")],
                     className="panel"),
        html.Section([html.H2("Files in quarantine"),
                      html.Div(quarantine_items(quarantine), id=ids.DQ_QUARANTINE)],
                     className="panel"),
        html.Section([html.H2("Practices missing a month"),
                      html.P("Practices open in a month a feed covers, with no rows of their "
                             "own in it (the feed's last three months).", className="caption"),
                      _grid(ids.DQ_MISSING, MISSING_COLUMNS, missing_rows(),
                            "Every practice submitted every month of the last three."),
                      csv_download(ids.DQ_MISSING_CSV, "Download missing months (CSV)")],
                     className="panel"),
        html.Section([html.H2("Provisional months"),
                      html.P("The area's KPI months that may still change, and why.",
                             className="caption"),
                      _grid(ids.DQ_PROVISIONAL, PROVISIONAL_COLUMNS, provisional_rows(),
                            "No month is provisional."),
                      csv_download(ids.DQ_PROVISIONAL_CSV, "Download provisional months (CSV)")],
                     className="panel"),
        html.Section([html.H2("Feeds: last successful load"),
                      _grid(ids.DQ_FRESHNESS, FRESHNESS_COLUMNS, freshness_rows(),
                            "No feed has been loaded yet.")], className="panel"),
        html.Section([html.H2("Recent loads"),
                      _grid(ids.DQ_LOADS, LOAD_COLUMNS, load_rows(), "No load yet."),
                      csv_download(ids.DQ_LOADS_CSV, "Download loads (CSV)")],
                     className="panel"),
    ], className="data-quality-page")


def _csv_callback(csv_id: str, table: str) -> None:
    @callback(Output(csv_id, "data"), Input(f"{csv_id}-button", "n_clicks"),
              prevent_initial_call=True)
    def download(_clicks):
        return csv_for(table)


for _csv_id, _table in CSV_IDS.items():
    _csv_callback(_csv_id, _table)
