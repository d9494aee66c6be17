"""A page's state (KPI, organisation, month, peer group) from the query string and back.

Bad values are resolved explicitly: an unknown KPI, organisation, month or peer group falls back to
the default AND leaves a message naming what was asked for, which the page shows. Nothing is offered
that has no values: the choices come from what the mart holds (`Choices`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from urllib.parse import urlencode

import pandas as pd

from carekpi.periods import is_period
from dashboard.theme import month_label
from kpi.catalogue import Kpi, get_kpi, load_catalogue

DEFAULT_KPI = "ea_rate"
PEERS: dict[str, str] = {"network": "Practices in the same network",
                         "area": "Every practice in the area",
                         "size": "Practices of similar list size"}
DEFAULT_PEER = "network"
QUERY_KEYS = ("kpi", "org", "month", "peer", "compare")
PACKAGE_NAMES = {"diabetes": "Diabetes", "cvd": "CVD", "copd": "COPD",
                 "childhood_imms": "Childhood immunisations"}
ROLLING_FORM = "rolling12"


@dataclass(frozen=True)
class Org:
    """One organisation the dashboard can show."""

    code: str
    level: str
    name: str

    @property
    def label(self) -> str:
        """'Name (code)', or the code alone when the name is unknown."""
        return f"{self.name} ({self.code})" if self.name and self.name != self.code else self.code


@dataclass(frozen=True)
class Choices:
    """What the warehouse can show: KPIs and organisations that have values, and the months."""

    kpis: tuple[str, ...]
    orgs: Mapping[str, Org]
    months: tuple[str, ...]
    areas: tuple[str, ...] = ()

    @property
    def latest_month(self) -> str | None:
        return self.months[-1] if self.months else None


@dataclass(frozen=True)
class PageState:
    """Where a page is: `compare` is a second organisation to set beside `org` (or None)."""

    kpi: str | None
    org: str | None
    month: str | None
    peer: str = DEFAULT_PEER
    compare: str | None = None
    messages: tuple[str, ...] = field(default=(), compare=False)

    @property
    def form(self) -> str:
        """The mart form holding this KPI's values ('rolling12' for a rolling KPI, else 'month')."""
        return kpi_form(self.kpi) if self.kpi else "month"


def kpi_form(kpi_id: str) -> str:
    """The mart `form` a KPI's values are stored under."""
    try:
        return ROLLING_FORM if get_kpi(kpi_id).rolling_of else "month"
    except KeyError:
        return "month"


def kpi_label(kpi: Kpi) -> str:
    """A label unique across the catalogue: element KPIs carry their package ('Diabetes: BMI')."""
    if not kpi.drilldown_of:
        return kpi.title
    first, _, rest = kpi.title.partition(" ")
    if first[1:].islower():  # 'Smoking' -> 'smoking'; 'HbA1c', 'BMI', '6-in-1' stay as written
        first = first[0].lower() + first[1:]
    package = PACKAGE_NAMES.get(kpi.package or "", (kpi.package or "").replace("_", " ").title())
    return f"{package}: {first}{' ' + rest if rest else ''}"


def choices_from(coverage: pd.DataFrame, orgs: pd.DataFrame,
                 areas: Iterable[str] = ()) -> Choices:
    """Choices from the mart's coverage.

    Args:
        coverage: kpi_id, form, period, n_values (values that are not null) for each KPI and month.
        orgs: org_code, level, org_name of the organisations that have at least one value.
        areas: codes of the places that are the area (first one is the default organisation).
    """
    with_values = coverage[coverage["n_values"] > 0]
    held = {(r.kpi_id, r.form) for r in with_values[["kpi_id", "form"]].drop_duplicates()
            .itertuples()}
    kpis = tuple(k.id for k in load_catalogue() if (k.id, kpi_form(k.id)) in held)
    by_code = {r.org_code: Org(r.org_code, r.level,
                               r.org_name if isinstance(r.org_name, str) else r.org_code)
               for r in orgs.itertuples()}
    months = tuple(sorted(set(with_values.loc[with_values["form"] == "month", "period"])))
    return Choices(kpis=kpis, orgs=by_code, months=months,
                   areas=tuple(a for a in areas if a in by_code))


def default_org(choices: Choices) -> str | None:
    """The area when there is one, else the highest-level organisation with values."""
    if choices.areas:
        return choices.areas[0]
    order = {"system": 0, "place": 1, "network": 2, "practice": 3}
    ranked = sorted(choices.orgs.values(), key=lambda o: (order.get(o.level, 9), o.code))
    return ranked[0].code if ranked else None


def from_query(choices: Choices | None = None, /, *, kpi: str | None = None,
               org: str | None = None, month: str | None = None, peer: str | None = None,
               compare: str | None = None, **_) -> PageState:
    """The page's state from query parameters, defaults filled in and bad values named.

    `choices` defaults to what the warehouse holds now (dashboard.queries).
    """
    choices = choices if choices is not None else available()
    messages: list[str] = []

    chosen_kpi = _clean(kpi)
    default_kpi = DEFAULT_KPI if DEFAULT_KPI in choices.kpis else next(iter(choices.kpis), None)
    if chosen_kpi is not None and chosen_kpi not in choices.kpis:
        messages.append(_unknown_kpi(chosen_kpi, default_kpi))
        chosen_kpi = None
    chosen_kpi = chosen_kpi or default_kpi

    chosen_org = _resolve_org(_clean(org), choices, messages, default_org(choices), "Organisation")
    chosen_compare = _resolve_org(_clean(compare), choices, messages, None, "Comparison")

    chosen_month = _clean(month)
    latest = choices.latest_month
    if chosen_month is not None and chosen_month not in choices.months:
        messages.append(_unknown_month(chosen_month, choices))
        chosen_month = None
    chosen_month = chosen_month or latest

    chosen_peer = _clean(peer)
    if chosen_peer is not None and chosen_peer not in PEERS:
        messages.append(f"Peer group '{chosen_peer}' is not one of "
                        f"{', '.join(PEERS)}: showing '{DEFAULT_PEER}' ({PEERS[DEFAULT_PEER]}).")
        chosen_peer = None
    return PageState(kpi=chosen_kpi, org=chosen_org, month=chosen_month,
                     peer=chosen_peer or DEFAULT_PEER, compare=chosen_compare,
                     messages=tuple(messages))


def to_query(state: PageState, keys: Iterable[str] = QUERY_KEYS, **changes) -> str:
    """'?kpi=...&org=...' for the state (with `changes` applied), only the `keys` given.

    Unset values are left out; the peer group only when it is not the default.
    """
    state = replace(state, **changes) if changes else state
    params = {}
    for key in keys:
        value = getattr(state, key)
        if value is None or (key == "peer" and value == DEFAULT_PEER):
            continue
        params[key] = value
    return "?" + urlencode(params) if params else ""


def kpi_options(choices: Choices) -> list[dict]:
    """Dropdown options for the KPIs that have values, labelled uniquely, in catalogue order."""
    return [{"label": kpi_label(get_kpi(k)), "value": k} for k in choices.kpis]


def available() -> Choices:
    """The choices the warehouse holds now (worked out once per warehouse and load)."""
    from dashboard import queries  # here, so the pure functions above import no database code

    return _choices_at(queries._engine(), queries.cache_key())


@lru_cache(maxsize=8)  # keyed on the engine itself (held here), so a new warehouse never hits
def _choices_at(engine: object, key: tuple) -> Choices:
    from dashboard import queries

    return choices_from(queries.kpi_coverage(), queries.organisations_with_values(),
                        queries.area_codes())


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _resolve_org(code: str | None, choices: Choices, messages: list[str], default: str | None,
                 what: str) -> str | None:
    if code is None:
        return default
    if code in choices.orgs:
        return code
    upper = code.upper()  # ODS codes are upper case; 'f84003' is a typing slip, not a new org
    if upper in choices.orgs:
        return upper
    shown = choices.orgs[default].label if default in choices.orgs else "nothing"
    messages.append(f"{what} '{code}' has no values in this warehouse"
                    + (f": showing {shown}." if default else "."))
    return default


def _unknown_kpi(kpi_id: str, default: str | None) -> str:
    try:
        known = get_kpi(kpi_id)
    except KeyError:
        reason = f"KPI '{kpi_id}' is not a KPI of this dashboard"
    else:
        reason = f"KPI '{kpi_id}' ({kpi_label(known)}) has no values in this warehouse"
    if default is None:
        return reason + "."
    return f"{reason}: showing {kpi_label(get_kpi(default))}."


def _unknown_month(month: str, choices: Choices) -> str:
    if not is_period(month):
        reason = f"Month '{month}' is not a month in the form YYYY-MM (for example 2026-10)"
    elif choices.months:
        reason = (f"Month '{month}' has no data: the data run from "
                  f"{month_label(choices.months[0])} to {month_label(choices.months[-1])}")
    else:
        reason = f"Month '{month}' has no data"
    if choices.latest_month is None:
        return reason + "."
    return f"{reason}. Showing {month_label(choices.latest_month)}, the latest month."
