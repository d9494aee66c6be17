"""The Dash app: pages from dashboard/pages, static files from assets/; `server` for gunicorn."""

from __future__ import annotations

from pathlib import Path

import dash
from dash import dcc, html

from carekpi.settings import Settings
from carekpi.warehouse import make_engine
from dashboard import queries

ROOT = Path(__file__).resolve().parents[1]


def create_app(settings: Settings | None = None) -> dash.Dash:
    """The dashboard bound to the settings' warehouse (read-only)."""
    settings = settings or Settings()
    queries.configure(make_engine(settings.database_url))
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(Path(__file__).parent / "pages"),
        assets_folder=str(ROOT / "assets"),
        title="carekpi",
        suppress_callback_exceptions=True,
    )
    app.layout = html.Div([
        html.Header([
            html.A("carekpi", href="/", className="brand"),
            html.Nav([html.A(page["name"], href=page["relative_path"])
                      for page in dash.page_registry.values()], className="nav"),
        ], className="top"),
        html.Main(dash.page_container, id="main"),
        dcc.Location(id="url"),
    ])

    @app.server.get("/healthz")
    def healthz():
        try:
            return {"warehouse": "ok", "latest_load_id": queries.latest_load_id()}
        except Exception as exc:  # report, never crash: this is what monitoring polls
            return {"warehouse": "unreachable", "error": str(exc)}, 503

    return app


def __getattr__(name: str):
    """`dashboard.app:server` for gunicorn, built on first use from the environment's settings."""
    if name == "server":
        return create_app().server
    raise AttributeError(name)
