"""What the pages' panels share: organisation names and the breadcrumb up the hierarchy."""

from __future__ import annotations

import re

from dashboard import queries, state
from dashboard.components.breadcrumb import breadcrumb
from dashboard.figures.common import org_label

# Where an organisation of each level is shown when no KPI is chosen.
LEVEL_PAGES = {"practice": "/practice", "network": "/network", "place": "/", "system": "/"}


DEFAULT_GRAPH_HEIGHT = 450  # plotly's default, for figures that set none


def graph_style(fig) -> dict:
    """The dcc.Graph style that gives a figure the height its layout asks for (a responsive
    graph otherwise keeps its container's 450 pixels and tall charts overflow)."""
    return {"height": f"{fig.layout.height or DEFAULT_GRAPH_HEIGHT}px"}


def figure_label(fig, kind: str) -> str:
    """A chart's accessible name: what kind of chart, then its title as plain text (the
    title names KPI, organisation and month); the kind alone for a chart without a title."""
    title = fig.layout.title.text if fig.layout.title else None
    if not title:
        return kind
    return f"{kind}: " + " ".join(re.sub(r"<[^>]+>", " ", title).split())


def org_name(code: str) -> str:
    """'Name (CODE)' of an organisation, or its code when the name is unknown."""
    names = queries.organisations(with_data=False).set_index("org_code")["org_name"]
    return org_label(code, names.get(code))


def breadcrumb_items(org_code: str, month: str | None, *, kpi_id: str | None = None) -> list:
    """An ordered list of links up the hierarchy (system > area > network > practice), the
    current organisation last and unlinked. With a KPI, each link opens that KPI's page for the
    organisation; without, each organisation's own page."""
    orgs = queries.organisations(with_data=False).set_index("org_code")
    chain = [state.Org(code, orgs["level"].get(code, ""), _name(orgs["org_name"].get(code), code))
             for code in queries.parent_chain(org_code)]

    def href(org: state.Org) -> str:
        if kpi_id:
            return "/kpi" + state.to_query(state.PageState(kpi=kpi_id, org=org.code, month=month))
        return LEVEL_PAGES.get(org.level, "/") + state.to_query(
            state.PageState(kpi=None, org=org.code, month=month), ("org", "month"))

    return breadcrumb(chain, href)


def _name(name: object, code: str) -> str:
    return name if isinstance(name, str) and name else code
