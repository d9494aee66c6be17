"""Definitions page: every KPI's definition, source, polarity, target and method, rendered from
the catalogue (the same text as docs/kpis.md), each KPI under an anchor named by its id so that
every KPI name elsewhere links to `/definitions#<kpi_id>`."""

import dash
from dash import dcc, html

from dashboard.state import kpi_label
from kpi.catalogue import (
    DRILLDOWN_INTRO,
    DRILLDOWN_TITLE,
    FAMILY_TITLES,
    INTRO,
    families,
    kpi_markdown,
)

dash.register_page(__name__, path="/definitions", name="Definitions",
                   title="Definitions · carekpi")

DEFINITIONS = "definitions-page"


def _drilldown_table(drill: list) -> html.Table:
    header = html.Thead(html.Tr([html.Th(t, scope="col") for t in ("KPI", "id", "Definition")]))
    rows = [html.Tr([html.Th(kpi_label(k), scope="row"), html.Td(html.Code(k.id)),
                     html.Td(k.definition)], id=k.id, className="definition")
            for k in drill]
    return html.Table([header, html.Tbody(rows)], className="kpi-table")


def definitions_sections() -> list:
    """The page's content: an intro, then per family each KPI's section (id = its id) and the
    table of element drilldowns (each row's id = its id)."""
    content = [html.H1("KPI definitions"), dcc.Markdown(INTRO)]
    for family, (headline, drill) in families().items():
        content.append(html.H2(FAMILY_TITLES[family]))
        content += [html.Section(dcc.Markdown("\n".join(kpi_markdown(k))), id=k.id,
                                 className="definition") for k in headline]
        if drill:
            content.append(html.Section([html.H3(DRILLDOWN_TITLE), dcc.Markdown(DRILLDOWN_INTRO),
                                         _drilldown_table(drill)]))
    return content


def layout(**_) -> html.Div:
    return html.Div(definitions_sections(), id=DEFINITIONS, className="definitions")
