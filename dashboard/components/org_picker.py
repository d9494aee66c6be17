"""The organisation picker: a level choice and a searchable dropdown whose options the server
fills from what is typed (at most MAX_OPTIONS), so it stays usable with 6,571 practices.

A page places `org_picker(page, choices, current)` and listens to the dropdown's value
(`picker_id(page)`), writing it to the URL. The search callback below serves every page.
"""

from __future__ import annotations

from dash import MATCH, Input, Output, State, callback, dcc, html

from dashboard import state
from dashboard.state import Choices

MAX_OPTIONS = 50
LEVELS = {"system": "System", "place": "Place (area)", "network": "Network",
          "practice": "Practice"}


def picker_id(page: str) -> dict:
    """The dropdown's id on `page` (its value is the chosen organisation's code)."""
    return {"type": "org-picker", "page": page}


def level_id(page: str) -> dict:
    """The level choice's id on `page`."""
    return {"type": "org-level", "page": page}


def org_search(choices: Choices, level: str | None, text: str | None, current: str | None,
               limit: int = MAX_OPTIONS) -> list[dict]:
    """Dropdown options: organisations of `level` whose code or name contains `text` (any case),
    by name, at most `limit`; the current organisation always first so the dropdown keeps it."""
    needle = (text or "").strip().casefold()
    found = [o for o in choices.orgs.values()
             if (level is None or o.level == level) and o.code != current
             and (not needle or needle in o.code.casefold() or needle in o.name.casefold())]
    found.sort(key=lambda o: (o.name.casefold(), o.code))
    first = [choices.orgs[current]] if current in choices.orgs else []
    return [{"label": o.label, "value": o.code} for o in first + found[:limit - len(first)]]


def org_picker(page: str, choices: Choices, current: str | None) -> html.Div:
    """The level radio buttons and the searchable dropdown, set to `current`."""
    present = [lvl for lvl in LEVELS if any(o.level == lvl for o in choices.orgs.values())]
    level = choices.orgs[current].level if current in choices.orgs else "network"
    return html.Div([
        html.Fieldset([
            html.Legend("Level"),
            dcc.RadioItems([{"label": LEVELS[lvl], "value": lvl} for lvl in present], level,
                           id=level_id(page), inline=True, className="level-choice"),
        ], className="org-level"),
        html.Label([
            html.Span("Organisation (type a name or code)", className="label-text"),
            dcc.Dropdown(org_search(choices, level, None, current), current, id=picker_id(page),
                         clearable=False, searchable=True,
                         placeholder="Type a practice, network or place name or code"),
        ], className="org-search"),
    ], className="org-picker")


def _search(text: str | None, level: str | None, current: str | None) -> list[dict]:
    return org_search(state.available(), level, text, current)


def register_callbacks() -> None:
    """The search callback, registered for each app (Dash hands module-level callbacks to the
    first app only; a process that builds a second app, as the tests do, would lose them)."""
    callback(Output(picker_id(MATCH), "options"),
             Input(picker_id(MATCH), "search_value"), Input(level_id(MATCH), "value"),
             State(picker_id(MATCH), "value"))(_search)
