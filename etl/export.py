"""`carekpi export` and `carekpi payments`: KPI mart rows and the payment view as CSV for
analysts, through the read side (carekpi/read.py), small numbers suppressed by default."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from carekpi.read import (
    EXPORT_COLUMNS,
    default_payment_terms,
    export_rows,
    payment_status,
)

__all__ = ["EXPORT_COLUMNS", "default_payment_terms", "export_mart", "payment_status"]


def export_mart(engine: Engine, out: Path, *, suppress: bool = True, **filters) -> int:
    """Write the filtered mart to `out` as CSV; returns the number of rows written."""
    rows = export_rows(engine, suppress=suppress, **filters)
    rows.to_csv(out, index=False)
    return len(rows)
