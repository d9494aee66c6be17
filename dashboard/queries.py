"""The dashboard's only way to the warehouse: cached wrappers over the read side (carekpi/read.py).

Each function takes plain values and returns what its carekpi.read namesake returns (small
numbers already suppressed). Results are cached under the newest load and annotation ids, so a
new ETL load (loaded or refused) or annotation invalidates them. Callers get copies: they may
change what they receive.
"""

from __future__ import annotations

import copy
import time
from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from carekpi import read
from carekpi import warehouse as wh

_state: dict[str, Engine] = {}
_key: dict = {}  # the last cache key and when it was read
KEY_TTL_S = 1.0


def configure(engine: Engine) -> None:
    """Point the queries at a warehouse (called once by dashboard.app.create_app)."""
    _state["engine"] = engine
    _key.clear()
    _cached.cache_clear()


def _engine() -> Engine:
    return _state["engine"]


def latest_load_id() -> int:
    """The newest successful load (what /healthz reports)."""
    with _engine().connect() as conn:
        value = conn.execute(select(func.max(wh.etl_load.c.load_id)).where(
            wh.etl_load.c.status == "loaded")).scalar()
    return int(value or 0)


def cache_key() -> tuple[int, int]:
    """(newest load id of any status, newest annotation id): a change means new answers.

    Asked of the warehouse at most once a second: one page callback makes dozens of queries,
    and loads are minutes apart.
    """
    checked, key = _key.get("at", -KEY_TTL_S), _key.get("key")
    if key is not None and time.monotonic() - checked < KEY_TTL_S:
        return key
    e, a = wh.etl_load, wh.annotation
    with _engine().connect() as conn:
        row = conn.execute(select(select(func.max(e.c.load_id)).scalar_subquery(),
                                  select(func.max(a.c.annotation_id)).scalar_subquery())).one()
    _key.update(at=time.monotonic(), key=(int(row[0] or 0), int(row[1] or 0)))
    return _key["key"]


@lru_cache(maxsize=512)
def _cached(name: str, key: tuple[int, int], args: tuple, kwargs: tuple) -> Any:
    with _engine().connect() as conn:
        return getattr(read, name)(conn, *args, **dict(kwargs))


def _run(name: str, *args, **kwargs) -> Any:
    result = _cached(name, cache_key(), args, tuple(sorted(kwargs.items())))
    return result.copy() if isinstance(result, pd.DataFrame) else copy.copy(result)


# --- organisations ----------------------------------------------------------------------------
def organisations(*, with_data: bool = True) -> pd.DataFrame:
    """org_code, level, org_name, parent_code (current), has_data; by default only those with
    mart rows (an organisation with no values is not offered)."""
    orgs = _run("organisations")
    return orgs[orgs["has_data"]].reset_index(drop=True) if with_data else orgs


def organisations_with_values() -> pd.DataFrame:
    """org_code, level, org_name, parent_code, has_data of organisations with a mart value."""
    return organisations(with_data=True)


def parent_chain(org_code: str) -> list[str]:
    """Codes from the top ancestor down to `org_code` (system > place > network > practice)."""
    return read.parent_chain(_run("organisations"), org_code)


def members(parent_code: str, month: str) -> list[str]:
    """Codes of the children of `parent_code` in `month` (a network's practices), sorted."""
    return _run("members_in", parent_code, month)


def area_codes() -> list[str]:
    """Codes of the places that have networks of their own (the area, not its peers)."""
    orgs = _run("organisations")
    places = set(orgs.loc[orgs["level"] == "network", "parent_code"].dropna())
    return sorted(orgs.loc[(orgs["level"] == "place") & orgs["org_code"].isin(places),
                           "org_code"])


# --- KPIs and months --------------------------------------------------------------------------
def kpi_ids() -> list[str]:
    """KPI ids with data in the mart, sorted."""
    return sorted(latest_months())


def kpi_coverage() -> pd.DataFrame:
    """kpi_id, form, period, n_values (1 when some organisation has a value that month, else 0)."""
    return _run("kpi_coverage")


def latest_months() -> dict[str, str]:
    """{kpi_id: latest month with data} for every KPI that has any."""
    return _run("latest_months", None)


def latest_month(kpi_id: str | None = None) -> str | None:
    """The latest month with data of one KPI, or of any KPI."""
    found = latest_months()
    if kpi_id is not None:
        return found.get(kpi_id)
    return max(found.values(), default=None)


def months(*, kpi_id: str | None = None, org_code: str | None = None) -> list[str]:
    """Months with data for a KPI, an organisation or both, oldest first."""
    return _run("months", kpi_id=kpi_id, org_code=org_code)


# --- mart rows --------------------------------------------------------------------------------
def kpi_series(kpi_id: str, org_code: str, form: str = "month") -> pd.DataFrame:
    """One organisation's series of one KPI, oldest first (read.MART_COLUMNS, suppressed)."""
    return _run("kpi_series", kpi_id, org_code, form=form)


def org_latest(org_code: str) -> pd.DataFrame:
    """Every monthly KPI row of one organisation, by KPI, newest month first (suppressed)."""
    return _run("org_kpis", org_code)


def org_month(org_code: str, month: str) -> pd.DataFrame:
    """One organisation's every KPI for one month (suppressed)."""
    return _run("org_month", org_code, month)


def kpi_month(kpi_id: str, month: str, level: str, parent_code: str | None = None
              ) -> pd.DataFrame:
    """One KPI and month for every organisation of a level, optionally one parent's children
    (MART_COLUMNS, org_name, parent_code; suppressed)."""
    return _run("kpi_month", kpi_id, month, level, parent_code=parent_code)


def orgs_month(org_codes: tuple[str, ...], kpi_ids: tuple[str, ...], month: str
               ) -> pd.DataFrame:
    """Every given KPI of a set of organisations for one month (MART_COLUMNS, org_name;
    suppressed): a practice's peers on every spine row in one read."""
    return _run("orgs_month", tuple(org_codes), tuple(kpi_ids), month)


def network_matrix(network_code: str, month: str) -> pd.DataFrame:
    """A network's practices, the network and its area x every monthly KPI for one month
    (MART_COLUMNS, org_name, row_kind; suppressed)."""
    return _run("network_matrix", network_code, month)


def kpi_elements(kpi_id: str, org_code: str, month: str) -> pd.DataFrame:
    """The care-package element KPIs under a headline KPI (MART_COLUMNS, element)."""
    return _run("kpi_elements", kpi_id, org_code, month)


def provisional_months(org_code: str) -> pd.DataFrame:
    """kpi_id, form, period, provisional_reason of an organisation's provisional rows."""
    return _run("provisional_months", org_code)


def annotations(org_code: str, kpi_id: str | None = None) -> pd.DataFrame:
    """annotation_id, period, kpi_id, text, rebase for an organisation (and KPI)."""
    return _run("annotations", org_code, kpi_id)


def payment_status(network_code: str | None = None, year: str | None = None) -> pd.DataFrame:
    """The care-package payment view (default terms), for one network or all."""
    return _run("payment_status", None, year, network_code)


# --- breakdowns -------------------------------------------------------------------------------
def delay_reasons(org_code: str, month: str | None = None) -> pd.DataFrame:
    """period, reason_code, delayed_days, suppressed."""
    return _run("delay_reasons", org_code, month)


def delay_responsibility(org_code: str, month: str | None = None) -> pd.DataFrame:
    """period, delayed_days_nhs, delayed_days_social_care, delayed_days_both, suppressed."""
    return _run("delay_responsibility", org_code, month)


def spell_breakdown(org_code: str, month: str) -> pd.DataFrame:
    """age_band, sex, admissions, emergency_admissions, suppressed."""
    return _run("spell_breakdown", org_code, month)


# --- loads and data quality -------------------------------------------------------------------
def feed_freshness() -> pd.DataFrame:
    """feed, load_id, finished_at, latest_period of each feed's last successful load."""
    return _run("feed_freshness")


def practice_feed_months(practice_code: str) -> dict[str, str | None]:
    """{feed: latest month} of each practice-level feed for one practice."""
    return _run("practice_feed_months", practice_code)


def recent_loads(limit: int = 50) -> pd.DataFrame:
    """The latest audit rows, newest first (read.LOAD_COLUMNS)."""
    return _run("recent_loads", limit)


def refused_loads(limit: int = 200) -> pd.DataFrame:
    """Refused files and loads with refused rows, with their reasons (read.LOAD_COLUMNS)."""
    return _run("refused_loads", limit)


def missing_submissions(last_months: int = 3) -> pd.DataFrame:
    """feed, period, practice_code, org_name, parent_code of practices missing a month."""
    return _run("missing_submissions", last_months=last_months)
