"""The Dash app: pages from dashboard/pages, static files from assets/; `server` for gunicorn."""

from __future__ import annotations

from html import escape
from pathlib import Path

import dash
from dash import dcc, html
from flask import request

from carekpi.settings import Settings
from carekpi.warehouse import make_engine
from dashboard import api, auth, hardening, health, ids, queries, runtime
from dashboard.cache import make_cache
from dashboard.components import download, org_picker
from dashboard.report import register_report_route

ROOT = Path(__file__).resolve().parents[1]
# Nav order: the questions of dashboard.md, most asked first; pages not listed follow.
NAV_ORDER = ("/", "/network", "/kpi", "/practice", "/impact", "/data-quality", "/definitions")
# Paths served besides the pages: Dash's internals (all start with '/_'), static files, health,
# sign-in, the analyst API and the board pack.
_SERVED_PREFIXES = ("/_", "/assets/", "/healthz", "/login", "/logout", "/api/", "/report.html")
# Callback outputs only a data manager may ask for (refused rows leave the system in them).
DATA_MANAGER_OUTPUTS = (ids.DQ_REFUSED_CSV,)

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
    # A test importing dashboard.pages.X registers page X again under that name; Dash would
    # refuse the duplicate path on this app's first request.
    for module in [m for m in dash.page_registry if m.startswith(f"{__package__}.pages.")]:
        del dash.page_registry[module]
    runtime.configure(settings)
    engine = make_engine(settings.database_url)
    cache = make_cache(settings.cache_url)
    queries.configure(engine, cache)
    org_picker.register_callbacks()
    download.register_callbacks()
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

    hardening.install(app)  # first: malformed requests never reach sign-in or a callback
    auth.install(app.server, settings, engine, cache)
    app.server.register_blueprint(api.api)

    @app.server.before_request
    def data_manager_outputs():
        if request.path == hardening.CALLBACK_PATH and not auth.is_data_manager():
            output = (request.get_json(silent=True) or {}).get("output", "")
            outputs = output.removeprefix("..").removesuffix("..").split("...")  # Dash's join
            if {o.rpartition(".")[0] for o in outputs} & set(DATA_MANAGER_OUTPUTS):
                return {"error": "for data managers only"}, 403
        return None

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
        return health.check(engine, settings,
                            scheduler_expected=settings.heartbeat_file is not None)

    register_report_route(app.server, engine)
    return app


def __getattr__(name: str):
    """`dashboard.app:server` for gunicorn, built on first use from the environment's settings."""
    if name == "server":
        return create_app().server
    raise AttributeError(name)
