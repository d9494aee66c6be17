"""`carekpi export` and `carekpi payments`: KPI mart rows and the payment view as CSV for
analysts, through the read side (carekpi/read.py), small numbers suppressed by default."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from carekpi.read import (
    csv_frame,
    default_payment_terms,
    mart_rows,
    payment_status,
    suppress_rows,
)

__all__ = ["EXPORT_COLUMNS", "default_payment_terms", "export_mart", "payment_status"]

# design.md "Interfaces": the export's columns, in this order (then any other mart columns).
EXPORT_COLUMNS = [
    "kpi_id", "level", "org_code", "org_name", "period", "numerator", "denominator", "value",
    "lower_95", "upper_95", "lower_998", "upper_998", "target", "rag", "spc_mean", "spc_lower",
    "spc_upper", "spc_special_cause", "variation_icon", "assurance_icon", "funnel_class", "trend",
    "provisional", "suppressed", "provisional_reason",
]


def export_mart(engine: Engine, out: Path, *, suppress: bool = True, **filters) -> int:
    """Write the filtered mart to `out` as CSV; returns the number of rows written."""
    rows = mart_rows(engine, suppress=False, **filters)
    if suppress:  # with --no-suppress the mart's flag still says which rows are small
        rows = csv_frame(suppress_rows(rows), unsuppressed=rows)
    extra = [c for c in rows.columns if c not in EXPORT_COLUMNS]
    rows[[*EXPORT_COLUMNS, *extra]].to_csv(out, index=False)
    return len(rows)
