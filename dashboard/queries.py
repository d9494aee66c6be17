"""The dashboard's only way to the warehouse: read-only queries returning DataFrames.

Results are cached under the latest load id, so a new ETL load invalidates them.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from carekpi import warehouse as wh

_state: dict[str, Engine] = {}


def configure(engine: Engine) -> None:
    """Point the queries at a warehouse (called once by dashboard.app.create_app)."""
    _state["engine"] = engine
    _cached.cache_clear()


def _engine() -> Engine:
    return _state["engine"]


def latest_load_id() -> int:
    """The newest successful load (the cache key)."""
    with _engine().connect() as conn:
        value = conn.execute(select(func.max(wh.etl_load.c.load_id)).where(
            wh.etl_load.c.status == "loaded")).scalar()
    return int(value or 0)


@lru_cache(maxsize=256)
def _cached(name: str, load_id: int, *args) -> pd.DataFrame:
    with _engine().connect() as conn:
        return _QUERIES[name](conn, *args)


def _run(name: str, *args) -> pd.DataFrame:
    return _cached(name, latest_load_id(), *args).copy()


def organisations() -> pd.DataFrame:
    """Columns: org_code, level, org_name (every organisation with mart rows)."""
    return _run("organisations")


def kpi_ids() -> list[str]:
    """KPI ids present in the mart."""
    return _run("kpi_ids")["kpi_id"].tolist()


def kpi_series(kpi_id: str, org_code: str, form: str = "month") -> pd.DataFrame:
    """One organisation's monthly series of a KPI, oldest first.

    Columns: period, level, numerator, denominator, value, lower_95, upper_95, target, rag,
    spc_mean, spc_lower, spc_upper, spc_special_cause, variation_icon, assurance_icon, trend,
    provisional, suppressed (the true values: callers apply `kpi.suppression` before display).
    """
    return _run("kpi_series", kpi_id, org_code, form)


def org_latest(org_code: str) -> pd.DataFrame:
    """Every monthly KPI row of one organisation, newest first (for tiles and comparisons).

    Columns: kpi_id, period, numerator, denominator, value, target, rag, variation_icon,
    assurance_icon, trend, provisional, suppressed.
    """
    return _run("org_latest", org_code)


def area_codes() -> list[str]:
    """Codes of the places that have networks of their own (the area, not its peers)."""
    return _run("area_codes")["org_code"].tolist()


def kpi_coverage() -> pd.DataFrame:
    """Columns: kpi_id, form, period, n_values (rows with a value) for every KPI, form and month."""
    return _run("kpi_coverage")


def organisations_with_values() -> pd.DataFrame:
    """Columns: org_code, level, org_name (organisations with at least one value in the mart)."""
    return _run("organisations_with_values")


def _q_kpi_coverage(conn) -> pd.DataFrame:
    m = wh.kpi_mart
    return wh.read_frame(conn, select(m.c.kpi_id, m.c.form, m.c.period,
                                      func.count(m.c.value).label("n_values"))
                         .group_by(m.c.kpi_id, m.c.form, m.c.period))


def _q_organisations_with_values(conn) -> pd.DataFrame:
    o, m = wh.organisation, wh.kpi_mart
    valued = select(m.c.org_code).where(m.c.value.is_not(None)).distinct()
    return wh.read_frame(conn, select(o.c.org_code, o.c.level, o.c.org_name)
                         .where(o.c.org_code.in_(valued)).order_by(o.c.level, o.c.org_code))


def _q_organisations(conn) -> pd.DataFrame:
    o = wh.organisation
    in_mart = select(wh.kpi_mart.c.org_code).distinct()
    return wh.read_frame(conn, select(o.c.org_code, o.c.level, o.c.org_name)
                         .where(o.c.org_code.in_(in_mart)).order_by(o.c.level, o.c.org_code))


def _q_kpi_ids(conn) -> pd.DataFrame:
    return wh.read_frame(conn, select(wh.kpi_mart.c.kpi_id).distinct().order_by("kpi_id"))


def _q_kpi_series(conn, kpi_id: str, org_code: str, form: str) -> pd.DataFrame:
    m = wh.kpi_mart
    cols = [m.c[c] for c in (
        "period", "level", "numerator", "denominator", "value", "lower_95", "upper_95",
        "target", "rag", "spc_mean", "spc_lower", "spc_upper", "spc_special_cause",
        "variation_icon", "assurance_icon", "trend", "provisional", "suppressed")]
    return wh.read_frame(conn, select(*cols).where(
        m.c.kpi_id == kpi_id, m.c.org_code == org_code, m.c.form == form).order_by(m.c.period))


def _q_area_codes(conn) -> pd.DataFrame:
    o, m = wh.organisation, wh.membership
    parents = select(m.c.parent_code).distinct()
    return wh.read_frame(conn, select(o.c.org_code).where(
        o.c.level == "place", o.c.org_code.in_(parents)).order_by(o.c.org_code))


def _q_org_latest(conn, org_code: str) -> pd.DataFrame:
    m = wh.kpi_mart
    cols = [m.c[c] for c in ("kpi_id", "period", "numerator", "denominator", "value", "target",
                             "rag", "variation_icon", "assurance_icon", "trend", "provisional",
                             "suppressed")]
    return wh.read_frame(conn, select(*cols).where(m.c.org_code == org_code, m.c.form == "month")
                         .order_by(m.c.kpi_id, m.c.period.desc()))


_QUERIES = {
    "kpi_coverage": _q_kpi_coverage,
    "organisations_with_values": _q_organisations_with_values,
    "org_latest": _q_org_latest,
    "area_codes": _q_area_codes,
    "organisations": _q_organisations,
    "kpi_ids": _q_kpi_ids,
    "kpi_series": _q_kpi_series,
}
