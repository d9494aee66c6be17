"""What the pages' panels share: organisation names and the breadcrumb up the hierarchy."""

from __future__ import annotations

from dash import dcc, html

from dashboard import queries, state
from dashboard.figures.common import org_label

# Where an organisation of each level is shown when no KPI is chosen.
LEVEL_PAGES = {"practice": "/practice", "network": "/network", "place": "/", "system": "/"}


DEFAULT_GRAPH_HEIGHT = 450  # plotly's default, for figures that set none


def graph_style(fig) -> dict:
    """The dcc.Graph style that gives a figure the height its layout asks for (a responsive
    graph otherwise keeps its container's 450 pixels and tall charts overflow)."""
    return {"height": f"{fig.layout.height or DEFAULT_GRAPH_HEIGHT}px"}


def org_name(code: str) -> str:
    """'Name (CODE)' of an organisation, or its code when the name is unknown."""
    names = queries.organisations(with_data=False).set_index("org_code")["org_name"]
    return org_label(code, names.get(code))


def breadcrumb_items(org_code: str, month: str | None, *, kpi_id: str | None = None) -> list:
    """An ordered list of links up the hierarchy (system > area > network > practice), the
    current organisation last and unlinked. With a KPI, each link opens that KPI's page for the
    organisation; without, each organisation's own page."""
    orgs = queries.organisations(with_data=False).set_index("org_code")
    items = []
    for code in queries.parent_chain(org_code):
        if code == org_code:
            items.append(html.Li(html.Span(org_name(code), **{"aria-current": "page"})))
            continue
        if kpi_id:
            href = "/kpi" + state.to_query(state.PageState(kpi=kpi_id, org=code, month=month))
        else:
            page = LEVEL_PAGES.get(orgs["level"].get(code), "/")
            href = page + state.to_query(state.PageState(kpi=None, org=code, month=month),
                                         ("org", "month"))
        items.append(html.Li(dcc.Link(org_name(code), href=href)))
    return [html.Ol(items)]
