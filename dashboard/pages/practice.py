"""Practice page (/practice?org=<practice>&month=): every KPI of one practice against its network,
its area and the practices of similar list size, as a Fingertips-style spine chart, with each
KPI's recent trend in words and a link to its KPI page.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import ids, state, theme
from dashboard.components.download import csv_download, graph, png_caption, png_download, send_csv
from dashboard.components.freshness import page_freshness
from dashboard.components.org_picker import org_picker, picker_id
from dashboard.panels.common import breadcrumb_items, figure_label, graph_style
from dashboard.panels.practice import practice_data, practice_view

dash.register_page(__name__, path="/practice", name="Practice", title="Practice · carekpi")

PICKER = picker_id(ids.PRACTICE_PICKER_PAGE)
SPINE_LABEL = "Spine chart of every KPI of the practice against its peers"

TABLE_HEADERS = ("KPI", "Practice", "Network", "Area", "Peers' range", "Against peers",
                 "Recent trend")


def practice_choice(st: state.PageState, choices: state.Choices) -> tuple[str | None, list[str]]:
    """The practice shown, and a message when the state's organisation is not a practice."""
    practices = sorted(c for c, o in choices.orgs.items() if o.level == "practice")
    if st.org in practices:
        return st.org, []
    if not practices:
        return None, ["No practice has values in this warehouse yet."]
    chosen = choices.orgs[practices[0]]
    asked = choices.orgs.get(st.org)
    words = (f"{asked.label} is a {asked.level}, not a practice" if asked
             else "No practice was chosen")
    return chosen.code, [f"{words}: showing {chosen.label}. Choose a practice below."]


def layout(org: str | None = None, month: str | None = None, **_) -> html.Div:
    """The page for the query string's practice and month (bad values named in a message)."""
    choices = state.available()
    st = state.from_query(choices, org=org, month=month)
    practice, extra = practice_choice(st, choices)
    messages = [*st.messages, *extra] if org is not None else list(st.messages)
    months = [{"label": theme.month_label(m), "value": m} for m in reversed(choices.months)]
    return html.Div([
        dcc.Location(id=ids.PRACTICE_URL, refresh=False),
        html.Nav(id=ids.PRACTICE_BREADCRUMB, className="breadcrumb",
                 **{"aria-label": "Breadcrumb"}),
        html.H1(id=ids.PRACTICE_HEADING),
        html.Div([html.P(m) for m in messages], id=ids.PRACTICE_MESSAGES, role="alert",
                 className="messages" if messages else "messages empty"),
        org_picker(ids.PRACTICE_PICKER_PAGE, choices, practice),
        html.Div([html.Label("Month", htmlFor=ids.PRACTICE_MONTH), dcc.Dropdown(
            months, st.month, id=ids.PRACTICE_MONTH, clearable=False)],
            className="control month-control"),
        html.Div(id=ids.PRACTICE_FRESHNESS),
        html.Section([
            graph(ids.PRACTICE_SPINE, SPINE_LABEL),
            html.P(id=ids.PRACTICE_CAPTION, className="caption"),
            html.Div([csv_download(ids.PRACTICE_CSV, "Download data (CSV)"),
                      html.Div(id=f"{ids.PRACTICE_SPINE}-png")], className="downloads"),
        ], className="panel"),
        html.Section([html.H2("Each KPI, its trend and its page"),
                      html.Div(id=ids.PRACTICE_TABLE)], className="panel"),
    ], className="practice-page")


def kpi_table(rows) -> html.Table:
    """The rows as an accessible table: KPI names link to their KPI page for this practice."""
    head = html.Thead(html.Tr([html.Th(h, scope="col") for h in TABLE_HEADERS]))
    body = html.Tbody([html.Tr([
        html.Th(dcc.Link(state.kpi_label(r.kpi), href=r.href), scope="row"),
        html.Td(r.practice), html.Td(r.network), html.Td(r.area), html.Td(r.peer_range),
        html.Td(f"{_symbol(r.comparison)} {theme.COMPARISON_WORDS[r.comparison]}"),
        html.Td(r.trend)]) for r in rows])
    return html.Table([head, body], className="kpi-table")


def _symbol(verdict: str) -> str:
    return {"better": "▲", "worse": "▼", "similar": "●", "not_compared": "○"}[verdict]


@callback(Output(ids.PRACTICE_URL, "search"), Output(ids.PRACTICE_HEADING, "children"),
          Output(ids.PRACTICE_BREADCRUMB, "children"), Output(ids.PRACTICE_SPINE, "figure"),
          Output(ids.PRACTICE_CAPTION, "children"), Output(ids.PRACTICE_TABLE, "children"),
          Output(f"{ids.PRACTICE_SPINE}-png", "children"), Output(ids.PRACTICE_SPINE, "style"),
          Output(ids.PRACTICE_FRESHNESS, "children"), Output(f"{ids.PRACTICE_SPINE}-label",
                                                             "children"),
          Input(PICKER, "value"), Input(ids.PRACTICE_MONTH, "value"))
def update_page(practice, month):
    choices = state.available()
    view = practice_view(practice, month)
    png = png_download(ids.PRACTICE_SPINE, png_caption("Practice against its peers", view.heading,
                                                       theme.month_label(month)))
    return (view.search, view.heading, breadcrumb_items(practice, month),
            view.figure, view.caption, kpi_table(view.rows), png, graph_style(view.figure),
            page_freshness(choices.orgs.get(practice), month, choices.orgs),
            figure_label(view.figure, SPINE_LABEL))


@callback(Output(ids.PRACTICE_CSV, "data"), Input(f"{ids.PRACTICE_CSV}-button", "n_clicks"),
          State(PICKER, "value"), State(ids.PRACTICE_MONTH, "value"),
          prevent_initial_call=True)
def download_csv(_clicks, practice, month):
    return send_csv(practice_data(practice, month), f"practice_{practice}_{month}.csv")
