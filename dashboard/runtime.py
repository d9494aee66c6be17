"""The settings the running dashboard was built with, for pages needing more than the warehouse
(the data-quality page reads the quarantine folder)."""

from __future__ import annotations

from carekpi.settings import Settings

_state: dict[str, Settings] = {}


def configure(settings: Settings) -> None:
    """Remember the app's settings (called once by dashboard.app.create_app)."""
    _state["settings"] = settings


def settings() -> Settings:
    """The app's settings; the environment's when no app was created (scripts, tests)."""
    if "settings" not in _state:
        _state["settings"] = Settings()
    return _state["settings"]
