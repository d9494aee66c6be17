"""Definitions page: every KPI's definition, source, polarity, target and method, rendered from
the catalogue (the same text as docs/kpis.md)."""

import dash
from dash import dcc, html

from kpi.catalogue import render_markdown

dash.register_page(__name__, path="/definitions", name="Definitions",
                   title="Definitions · carekpi")

DEFINITIONS = "definitions-markdown"


def layout(**_) -> html.Div:
    return html.Div([dcc.Markdown(render_markdown(), id=DEFINITIONS, className="definitions")])
