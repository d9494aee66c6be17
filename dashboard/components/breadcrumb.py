"""The breadcrumb: area > network > practice, each level a link back up, the current one last."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dash import dcc, html

from dashboard.state import Org


def breadcrumb(chain: Sequence[Org], href: Callable[[Org], str]) -> list:
    """An ordered list from the top organisation down to the current one (last, unlinked,
    aria-current); `href(org)` is where each level above links (keeping KPI and month)."""
    items = []
    for position, org in enumerate(chain):
        if position == len(chain) - 1:
            items.append(html.Li(html.Span(org.label, **{"aria-current": "page"})))
        else:
            items.append(html.Li(dcc.Link(org.label, href=href(org))))
    return [html.Ol(items)]


def breadcrumb_nav(chain: Sequence[Org], href: Callable[[Org], str], **props) -> html.Nav:
    """The breadcrumb in its own labelled <nav>."""
    return html.Nav(breadcrumb(chain, href), className="breadcrumb",
                    **{"aria-label": "Breadcrumb"}, **props)
