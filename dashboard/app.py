"""The Dash app: pages from dashboard/pages, static files from assets/; `server` for gunicorn."""

from __future__ import annotations

from html import escape
from pathlib import Path

import dash
from dash import dcc, html
from flask import request

from carekpi.settings import Settings
from carekpi.warehouse import make_engine
from dashboard import queries, runtime
from dashboard.report import register_report_route

ROOT = Path(__file__).resolve().parents[1]
# Nav order: the questions of dashboard.md, most asked first; pages not listed follow.
NAV_ORDER = ("/", "/network", "/kpi", "/practice", "/impact", "/data-quality", "/definitions")
# Paths served besides the pages: Dash's internals (all start with '/_'), static files, health.
_SERVED_PREFIXES = ("/_", "/assets/", "/healthz", "/report.html")

INDEX = """<!DOCTYPE html>
<html lang="en-GB">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        <a class="skip-link" href="#main">Skip to main content</a>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""

NOT_FOUND = """<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Page not found · carekpi</title>
<link rel="icon" href="/_favicon.ico"><link rel="stylesheet" href="/assets/style.css"></head>
<body><main id="main"><h1>Page not found</h1>
<p>There is no page at <code>{path}</code>. The pages are:</p><ul>{links}</ul></main></body>
</html>"""


NOT_FOUND_MODULE = "not_found_404"  # Dash's page for in-app links to no page: not in the nav


def _pages() -> list[dict]:
    return [p for p in dash.page_registry.values()
            if p["module"].rpartition(".")[2] != NOT_FOUND_MODULE]


def nav_pages() -> list[dict]:
    """The registered pages in nav order."""
    pages = _pages()
    rank = {path: i for i, path in enumerate(NAV_ORDER)}
    return sorted(pages, key=lambda p: rank.get(p["path"], len(rank)))


def page_paths() -> set[str]:
    """Every path a page answers (without a trailing slash, except the root)."""
    return {p["path"].rstrip("/") or "/" for p in _pages()}


def create_app(settings: Settings | None = None) -> dash.Dash:
    """The dashboard bound to the settings' warehouse (read-only)."""
    settings = settings or Settings()
    runtime.configure(settings)
    engine = make_engine(settings.database_url)
    queries.configure(engine)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(Path(__file__).parent / "pages"),
        assets_folder=str(ROOT / "assets"),
        title="carekpi",
        suppress_callback_exceptions=True,
    )
    app.index_string = INDEX
    app.layout = html.Div([
        html.Header([
            html.A("carekpi", href="/", className="brand"),
            html.Nav(html.Ul([html.Li(dcc.Link(page["name"], href=page["relative_path"]))
                              for page in nav_pages()]), className="nav",
                     **{"aria-label": "Pages"}),
        ], className="top"),
        html.Main(dash.page_container, id="main"),
    ])

    @app.server.before_request
    def unknown_path_is_404():
        path = request.path.rstrip("/") or "/"
        if request.method != "GET" or path.startswith(_SERVED_PREFIXES) or path in page_paths():
            return None
        links = "".join(f'<li><a href="{p["relative_path"]}">{escape(p["name"])}</a></li>'
                        for p in nav_pages())
        return NOT_FOUND.format(path=escape(request.path), links=links), 404

    @app.server.get("/healthz")
    def healthz():
        try:
            return {"warehouse": "ok", "latest_load_id": queries.latest_load_id()}
        except Exception as exc:  # report, never crash: this is what monitoring polls
            return {"warehouse": "unreachable", "error": str(exc)}, 503

    register_report_route(app.server, engine)
    return app


def __getattr__(name: str):
    """`dashboard.app:server` for gunicorn, built on first use from the environment's settings."""
    if name == "server":
        return create_app().server
    raise AttributeError(name)
