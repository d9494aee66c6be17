"""Programme impact page (/impact?kpi=&org=&start=): a count KPI's actual months since a programme
start against the projection of the months before it (kpi/impact.py), the cumulative difference
and its cost at the settings' tariff, and the same KPI for the peer organisations and England.
"""

from __future__ import annotations

from urllib.parse import urlencode

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from carekpi.impact import impact_csv
from dashboard import ids, queries, runtime, state, theme
from dashboard.components.download import file_name, graph
from dashboard.components.org_picker import org_picker, picker_id
from dashboard.figures.impact import impact_figure, peer_figure
from kpi.catalogue import get_kpi
from kpi.impact import COUNT_KPIS, ImpactError, Tariff, is_significant

dash.register_page(__name__, path="/impact", name="Programme impact",
                   title="Programme impact · carekpi")

PICKER = picker_id(ids.IMPACT_PICKER_PAGE)
CAVEAT = ("This is an estimate, not proof of cause. The expected line projects the months before "
          "the start forward (trend and season, quasi-Poisson model); anything else that changed "
          "at the same time moves the difference too. Compare the peers below: a change they "
          "share is unlikely to be the programme's.")
CHART_LABEL = "Line chart of actual against expected without the programme"
PEERS_LABEL = "Line chart of the KPI for peer organisations over the same months"


def _tariff() -> Tariff:
    settings = runtime.settings()
    return Tariff(settings.tariff_emergency_admission, settings.tariff_bed_day)


def default_start(org: str | None, kpi_id: str | None, months: tuple[str, ...]) -> str | None:
    """The organisation's latest annotation month (a programme start noted on its charts)."""
    if not org:
        return None
    notes = queries.annotations(org, kpi_id)
    notes = notes[notes["period"].isin(months)]
    return str(notes["period"].iloc[-1]) if not notes.empty else None


def layout(kpi: str | None = None, org: str | None = None, start: str | None = None,
           **_) -> html.Div:
    """The page for the query string's KPI, organisation and start (bad values named)."""
    choices = state.available()
    st = state.from_query(choices, kpi=kpi, org=org)
    messages = list(st.messages)
    counts = [k for k in COUNT_KPIS if k in choices.kpis]
    chosen = st.kpi if st.kpi in counts else next(iter(counts), None)
    if st.kpi not in counts and kpi is not None and chosen:
        messages.append(f"Impact is estimated for count KPIs only: showing "
                        f"{state.kpi_label(get_kpi(chosen))}.")
    if start is not None and start not in choices.months:
        messages.append(f"Start '{start}' is not a month with data: choose one below.")
        start = None
    start = start or default_start(st.org, chosen, choices.months)
    return html.Div([
        dcc.Location(id=ids.IMPACT_URL, refresh=False),
        html.H1("Programme impact", id=ids.IMPACT_HEADING),
        html.Div([html.P(m) for m in messages], id=ids.IMPACT_MESSAGES, role="alert",
                 className="messages" if messages else "messages empty"),
        html.Div([html.Label("KPI", htmlFor=ids.IMPACT_KPI), dcc.Dropdown(
            [{"label": state.kpi_label(get_kpi(k)), "value": k} for k in counts], chosen,
            id=ids.IMPACT_KPI, clearable=False)], className="control"),
        org_picker(ids.IMPACT_PICKER_PAGE, choices, st.org),
        html.Div([html.Label("Programme start", htmlFor=ids.IMPACT_START), dcc.Dropdown(
            [{"label": theme.month_label(m), "value": m} for m in choices.months], start,
            id=ids.IMPACT_START, placeholder="Choose the month the programme started")],
            className="control month-control"),
        html.P(CAVEAT, id=ids.IMPACT_CAVEAT, className="caption"),
        html.Section([
            html.P(id=ids.IMPACT_REFUSAL, role="status"),
            html.P(id=ids.IMPACT_SUMMARY),
            graph(ids.IMPACT_CHART, CHART_LABEL),
            html.Div(html.Div([
                html.Button("Download data (CSV)", id=f"{ids.IMPACT_CSV}-button",
                            className="download-button", n_clicks=0, type="button"),
                dcc.Download(id=ids.IMPACT_CSV)], className="download"),
                className="downloads"),
        ], className="panel"),
        html.Section([html.H2("The same KPI for peer organisations"),
                      graph(ids.IMPACT_PEERS, PEERS_LABEL)], className="panel"),
    ], className="impact-page")


def summary(impact, unit: str, org_name: str, unit_cost: float | None) -> str:
    """One paragraph: the programme months' actual against expected, the cumulative difference
    with its interval, its cost, and whether the interval excludes zero."""
    programme = impact[impact["phase"] == "programme"]
    last = programme.iloc[-1]
    if programme["suppressed"].any():
        return (f"Some months' {unit} in {org_name} are 1 to 7 and suppressed, so the "
                "cumulative difference is not shown.")
    diff, low, high = (last["cumulative_difference"], last["cumulative_lower"],
                       last["cumulative_upper"])
    words = "fewer" if diff < 0 else "more"
    text = (f"From {theme.month_label(programme['month'].iloc[0])} to "
            f"{theme.month_label(last['month'])} ({len(programme)} months), {org_name} had "
            f"{programme['actual'].sum():,.0f} {unit} against {programme['expected'].sum():,.0f}"
            f" expected without the programme: {abs(diff):,.0f} {words} (95% interval "
            f"{low:+,.0f} to {high:+,.0f}).")
    if unit_cost is not None:
        text += (f" At £{unit_cost:,.0f} each that is £{abs(diff * unit_cost):,.0f} "
                 f"{'saved' if diff < 0 else 'spent'}.")
    if is_significant(impact):
        return text + " The interval excludes zero: more than the baseline's usual variation."
    return text + " The interval includes zero: no significant difference from the projection."


@callback(Output(ids.IMPACT_URL, "search"), Output(ids.IMPACT_HEADING, "children"),
          Output(ids.IMPACT_REFUSAL, "children"), Output(ids.IMPACT_SUMMARY, "children"),
          Output(ids.IMPACT_CHART, "figure"), Output(ids.IMPACT_PEERS, "figure"),
          Output(f"{ids.IMPACT_CSV}-button", "disabled"),
          Input(ids.IMPACT_KPI, "value"), Input(PICKER, "value"), Input(ids.IMPACT_START, "value"))
def update_page(kpi_id, org, start):
    params = {k: v for k, v in (("kpi", kpi_id), ("org", org), ("start", start)) if v}
    search = "?" + urlencode(params)
    choices = state.available()
    found = choices.orgs.get(org)
    org_name = found.label if found else (org or "")
    unit = COUNT_KPIS[kpi_id][0] if kpi_id in COUNT_KPIS else ""
    heading = f"Programme impact: {unit} in {org_name}" if org_name else "Programme impact"
    empty = go.Figure(layout={"template": theme.TEMPLATE, "height": 200})
    if not (kpi_id and org):
        return search, heading, "Choose a KPI and an organisation.", "", empty, empty, True
    peers = queries.peer_values(kpi_id, org)
    peers_fig = peer_figure(peers, get_kpi(kpi_id), f"{state.kpi_label(get_kpi(kpi_id))}: "
                            f"{org_name} and its peers", start or "")
    if not start:
        return (search, heading, "Choose the month the programme started (or note it as an "
                "annotation on the organisation's charts).", "", empty, peers_fig, True)
    try:
        impact = queries.programme_impact(kpi_id, org, start, _tariff())
    except ImpactError as exc:
        return search, heading, f"No estimate: {exc}.", "", empty, peers_fig, True
    unit_cost = _tariff().unit_cost(kpi_id)
    figure = impact_figure(impact, unit, f"{unit[0].upper()}{unit[1:]} in {org_name}: actual "
                           f"and expected without the programme", start)
    return (search, heading, "", summary(impact, unit, org_name, unit_cost), figure, peers_fig,
            False)


@callback(Output(ids.IMPACT_CSV, "data"), Input(f"{ids.IMPACT_CSV}-button", "n_clicks"),
          State(ids.IMPACT_KPI, "value"), State(PICKER, "value"),
          State(ids.IMPACT_START, "value"), prevent_initial_call=True)
def download_csv(_clicks, kpi_id, org, start):
    table = impact_csv(queries.programme_impact(kpi_id, org, start, _tariff()))
    return dcc.send_data_frame(table.to_csv, file_name("impact", kpi_id, org, start, ext="csv"),
                               index=False)
