"""What Dash shows when a link inside the app leads to no page (the server answers such an
address typed or pasted with HTTP 404: dashboard/app.py)."""

import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", name="Page not found", title="Page not found · carekpi")


def layout(**_) -> html.Div:
    return html.Div([
        html.H1("Page not found"),
        html.P(["There is no page at this address. Start again from the ",
                dcc.Link("overview", href="/"), "."]),
    ])
