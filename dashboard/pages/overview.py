"""Overview page (the programme board's first question); tiles arrive with the dashboard issue."""

import dash
from dash import dcc, html

dash.register_page(__name__, path="/", name="Overview", title="carekpi")


def layout(**_) -> html.Div:
    return html.Div([
        html.H1("Integrated-care KPIs"),
        html.P("Monthly measures for GP practices, their networks and the area."),
        dcc.Link("Emergency admissions per 1,000 registered patients", href="/kpi?kpi=ea_rate"),
    ])
