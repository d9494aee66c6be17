"""Downloads: CSV of a table's or chart's rows (small numbers suppressed), PNG of a chart with its
title, organisation, month and source; and the one plotly config every dcc.Graph uses.

A page adds `csv_download(id)` and answers its button with `send_csv(frame, name)`; a chart gets
`png_download(graph_id, caption)`, whose clientside callback (assets/download.js) draws the chart
again with its caption and source into the PNG.
"""

from __future__ import annotations

import re

import pandas as pd
from dash import MATCH, Input, Output, State, clientside_callback, dcc, html

from carekpi.read import csv_frame

# Plotly's cloud, share and edit links off everywhere; the modebar's own camera removed because
# its image has no organisation, month or source (the PNG button below has them).
GRAPH_CONFIG: dict = {
    "displaylogo": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "sendData": False,
    "modeBarButtonsToRemove": ["toImage", "sendDataToCloud", "editInChartStudio", "lasso2d",
                               "select2d"],
    "responsive": True,
}
SOURCE = "Source: carekpi warehouse (NHS feeds). Counts of 1 to 7 are suppressed."
PNG_SIZE = (1400, 800)  # pixels: sharp on a slide, text still large


def graph(graph_id: str, label: str, **props) -> html.Figure:
    """A dcc.Graph with the shared config inside a <figure> whose caption (id `graph_id +
    '-label'`, visible) names the chart for everyone, screen readers included."""
    return html.Figure([
        html.Figcaption(label, id=f"{graph_id}-label", className="graph-label"),
        dcc.Graph(id=graph_id, config=GRAPH_CONFIG, **props),
    ], className="graph")


def file_name(*parts: str, ext: str) -> str:
    """'ea_rate_F84003_2026-10.csv': the parts, made safe for a file name."""
    stem = "_".join(re.sub(r"[^A-Za-z0-9._-]+", "-", p).strip("-") for p in parts if p)
    return f"{stem or 'carekpi'}.{ext}"


def csv_download(download_id: str, label: str = "Download CSV") -> html.Div:
    """A button (id `download_id + '-button'`) and its dcc.Download (id `download_id`)."""
    return html.Div([
        html.Button(label, id=f"{download_id}-button", className="download-button", n_clicks=0,
                    type="button"),
        dcc.Download(id=download_id),
    ], className="download")


def send_csv(frame: pd.DataFrame, name: str) -> dict:
    """The dcc.Download payload of a frame from carekpi.read: suppressed cells written as '*'."""
    return dcc.send_data_frame(csv_frame(frame).to_csv, name, index=False)


def png_caption(title: str, org: str, month: str, source: str = SOURCE) -> dict:
    """What the PNG carries besides the chart: its title, organisation, month and source."""
    return {"title": title, "subtitle": f"{org} · {month}", "source": source}


def png_download(graph_id: str, caption: dict, label: str = "Download PNG") -> html.Div:
    """A button saving the graph `graph_id` as a PNG with `caption` (from png_caption) drawn in.

    Pages update the caption by writing `data` of the store {"type": "png-caption", "graph": id}.
    """
    return html.Div([
        html.Button(label, id={"type": "png-button", "graph": graph_id},
                    className="download-button", n_clicks=0, type="button"),
        dcc.Store(id={"type": "png-caption", "graph": graph_id},
                  data=caption | {"graph": graph_id, "filename": file_name(
                      caption.get("title", ""), caption.get("subtitle", ""), ext="png")[:-4],
                                  "width": PNG_SIZE[0], "height": PNG_SIZE[1]}),
    ], className="download")


def register_callbacks() -> None:
    """The PNG button's clientside callback, registered for each app (see org_picker's)."""
    clientside_callback(
        "function (n, caption) { return window.carekpi.downloadPng(n, caption); }",
        # A callback needs an output: the button's tooltip, which the function leaves unchanged.
        Output({"type": "png-button", "graph": MATCH}, "title"),
        Input({"type": "png-button", "graph": MATCH}, "n_clicks"),
        State({"type": "png-caption", "graph": MATCH}, "data"),
        prevent_initial_call=True,
    )
