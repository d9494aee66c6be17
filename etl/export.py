"""`carekpi export`: KPI mart rows as CSV for analysts, small numbers suppressed by default."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from carekpi import warehouse as wh
from kpi.catalogue import load_catalogue
from kpi.payment import PackageTerms, PaymentTerms, payment_view, quarter_end_values
from kpi.suppression import suppress_frame

# design.md "Interfaces": the export's columns, in this order.
EXPORT_COLUMNS = [
    "kpi_id", "level", "org_code", "org_name", "period", "numerator", "denominator", "value",
    "lower_95", "upper_95", "lower_998", "upper_998", "target", "rag", "spc_mean", "spc_lower",
    "spc_upper", "spc_special_cause", "variation_icon", "assurance_icon", "funnel_class", "trend",
    "provisional", "suppressed",
]
VALUE_COLUMNS = ["value", "lower_95", "upper_95", "lower_998", "upper_998"]


def mart_rows(engine: Engine, *, kpi_id: str | None = None, level: str | None = None,
              from_month: str | None = None, to_month: str | None = None) -> pd.DataFrame:
    """Mart rows with organisation names, filtered, ordered by KPI, level, organisation, month."""
    m, o = wh.kpi_mart, wh.organisation
    query = select(m, o.c.org_name).join(o, o.c.org_code == m.c.org_code, isouter=True)
    if kpi_id:
        query = query.where(m.c.kpi_id == kpi_id)
    if level:
        query = query.where(m.c.level == level)
    if from_month:
        query = query.where(m.c.period >= from_month)
    if to_month:
        query = query.where(m.c.period <= to_month)
    query = query.order_by(m.c.kpi_id, m.c.form, m.c.level, m.c.org_code, m.c.period)
    with engine.connect() as conn:
        return wh.read_frame(conn, query)


def export_mart(engine: Engine, out: Path, *, suppress: bool = True, **filters) -> int:
    """Write the filtered mart to `out` as CSV; returns the number of rows written."""
    rows = mart_rows(engine, **filters)
    if suppress:  # with --no-suppress the mart's flag still says which rows are small
        rows = suppress_frame(rows, ["numerator", "denominator"], VALUE_COLUMNS)
    extra = [c for c in rows.columns if c not in EXPORT_COLUMNS and c not in ("load_id",)]
    rows[[*EXPORT_COLUMNS, *extra]].to_csv(out, index=False)
    return len(rows)


def default_payment_terms() -> PaymentTerms:
    """Tower Hamlets defaults: every care package's headline KPI, 70/30, all or nothing."""
    headline = [k.id for k in load_catalogue()
                if k.family == "care_packages" and k.element == "complete"]
    return PaymentTerms(terms=tuple(PackageTerms(kpi_id=k) for k in headline))


def payment_status(engine: Engine, terms: PaymentTerms | None = None,
                   year: str | None = None) -> pd.DataFrame:
    """Each network's care-package KPIs at each quarter end against target, and what is earned
    (kpis.md "Payment view"); `year` like '2024/25' keeps one financial year."""
    terms = terms or default_payment_terms()
    ids = sorted({t.kpi_id for t in terms.terms})
    m = wh.kpi_mart
    with engine.connect() as conn:
        monthly = wh.read_frame(conn, select(m.c.kpi_id, m.c.org_code, m.c.period, m.c.value,
                                             m.c.target).where(
            m.c.kpi_id.in_(ids), m.c.level == "network", m.c.form == "month"))
    quarters = quarter_end_values(monthly)
    if year:
        quarters = quarters[quarters["year"] == year]
    return payment_view(quarters, terms)
