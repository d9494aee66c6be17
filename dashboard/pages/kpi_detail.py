"""KPI page: one KPI for one organisation by month, with the area's line for comparison."""

from __future__ import annotations

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from dashboard import ids, queries
from kpi.catalogue import get_kpi
from kpi.suppression import is_small

dash.register_page(__name__, path="/kpi", name="KPI", title="KPI · carekpi")

DEFAULT_KPI = "ea_rate"


def org_options() -> list[dict]:
    """Dropdown options: networks then practices, labelled 'name (code)'."""
    orgs = queries.organisations()
    orgs = orgs[orgs["level"].isin(["place", "network", "practice"])]
    return [{"label": f"{r.org_name or r.org_code} ({r.org_code}) · {r.level}",
             "value": r.org_code} for r in orgs.itertuples()]


def kpi_options(kpi_ids: list[str]) -> list[dict]:
    """Dropdown options labelled with each KPI's title from the catalogue."""
    return [{"label": _title(k), "value": k} for k in kpi_ids]


def _title(kpi_id: str) -> str:
    try:
        return get_kpi(kpi_id).title
    except KeyError:
        return kpi_id


def _unit(kpi_id: str) -> str:
    try:
        return get_kpi(kpi_id).unit
    except KeyError:
        return ""


def layout(kpi: str | None = None, org: str | None = None, **_) -> html.Div:
    kpis = queries.kpi_ids()
    kpi = kpi if kpi in kpis else (DEFAULT_KPI if DEFAULT_KPI in kpis else next(iter(kpis), None))
    options = org_options()
    area = queries.area_codes()
    org = org if org in {o["value"] for o in options} else next(iter(area), None)
    return html.Div([
        html.H1("KPI by month"),
        html.Div([
            html.Label(["KPI", dcc.Dropdown(kpi_options(kpis), kpi, id=ids.KPI_SELECT,
                                            clearable=False)]),
            html.Label(["Organisation", dcc.Dropdown(options, org, id=ids.KPI_ORG,
                                                     clearable=False)]),
        ], className="controls"),
        html.P(id=ids.KPI_CAPTION, className="caption"),
        dcc.Graph(id=ids.KPI_SPC, config={"displaylogo": False}),
    ])


def series_figure(kpi_id: str, org: pd.DataFrame, area: pd.DataFrame, org_label: str,
                  area_label: str) -> go.Figure:
    """The organisation's monthly values with 95% intervals, and the area's line."""
    fig = go.Figure()
    if not area.empty:
        fig.add_trace(go.Scatter(x=area["period"], y=area["value"], name=area_label,
                                 mode="lines", line={"color": "#768692", "dash": "dash"}))
    if not org.empty:
        fig.add_trace(go.Scatter(
            x=org["period"], y=org["value"], name=org_label, mode="lines+markers",
            line={"color": "#005eb8"},
            error_y={"type": "data", "symmetric": False,
                     "array": org["upper_95"] - org["value"],
                     "arrayminus": org["value"] - org["lower_95"], "thickness": 1},
        ))
    fig.update_layout(margin={"l": 50, "r": 20, "t": 30, "b": 40}, template="simple_white",
                      yaxis_title=f"{_title(kpi_id)} ({_unit(kpi_id)})",
                      legend={"orientation": "h", "y": -0.15},
                      hovermode="x unified")
    return fig


@callback(Output(ids.KPI_SPC, "figure"), Output(ids.KPI_CAPTION, "children"),
          Input(ids.KPI_SELECT, "value"), Input(ids.KPI_ORG, "value"))
def update_chart(kpi_id: str | None, org_code: str | None):
    return kpi_panel(kpi_id, org_code)


def shown(series: pd.DataFrame) -> pd.DataFrame:
    """The series fit to leave the system: values and limits built on counts of 1-7 removed."""
    if series.empty:
        return series
    out = series.copy()
    out["suppressed"] = out["suppressed"].astype(bool) | is_small(out["numerator"]) | is_small(
        out["denominator"])
    out.loc[out["suppressed"], ["value", "lower_95", "upper_95"]] = float("nan")
    return out


def kpi_panel(kpi_id: str | None, org_code: str | None) -> tuple[go.Figure, str]:
    """Figure and caption for one KPI and organisation (empty with a reason when no data)."""
    if not kpi_id or not org_code:
        return go.Figure(), "No data loaded yet: run `carekpi etl run`."
    names = queries.organisations().set_index("org_code")["org_name"]
    area_code = next(iter(queries.area_codes()), None)
    org = shown(queries.kpi_series(kpi_id, org_code))
    area = shown(queries.kpi_series(kpi_id, area_code)) if area_code and area_code != org_code \
        else org.iloc[0:0]
    org_label = f"{names.get(org_code) or org_code} ({org_code})"
    area_label = f"{names.get(area_code) or area_code} (area)"
    if org.empty:
        return go.Figure(), f"No {_title(kpi_id)} values for {org_label}."
    latest = org["value"].iloc[-1]
    caption = (f"{org_label}: {_title(kpi_id)} by month, {org['period'].iloc[0]} to "
               f"{org['period'].iloc[-1]}; latest "
               + ("* (small number)" if pd.isna(latest) else f"{latest:.2f}"))
    hidden = int(org["suppressed"].sum())
    if hidden:
        caption += (f". {hidden} month(s) not shown: counts from 1 to 7 are suppressed to "
                    "protect privacy")
    return series_figure(kpi_id, org, area, org_label, area_label), caption
