"""Annotations: what happened when (a new service, a rebase of SPC limits), from a CSV file.

Columns: org_code, period (YYYY-MM), text, and optionally kpi_id (blank = every KPI of the
organisation) and rebase (true/false: recalculate SPC limits from this month).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from carekpi import periods
from carekpi import warehouse as wh
from etl.problems import FeedError, Problem
from etl.readers import read_csv_text, rename_by_aliases
from kpi.catalogue import load_catalogue

TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0", ""}


def read_annotations(path: Path, known_orgs: set[str]) -> pd.DataFrame:
    """The file's annotations, checked; FeedError lists every bad row."""
    path = Path(path)
    frame = read_csv_text(path)
    frame = rename_by_aliases(frame, {"kpi_id": ["kpi"], "rebase": ["recalculate_limits"]},
                              path.name, ["org_code", "period", "text"])
    if "kpi_id" not in frame:
        frame["kpi_id"] = ""
    if "rebase" not in frame:
        frame["rebase"] = ""
    kpis = {k.id for k in load_catalogue()}
    problems = []
    for i, row in frame.iterrows():
        line = int(i) + 2
        if row["org_code"] not in known_orgs:
            problems.append(Problem(path.name, "organisation is not in the warehouse", line,
                                    "org_code", row["org_code"]))
        if not periods.is_period(str(row["period"])):
            problems.append(Problem(path.name, "not a month written YYYY-MM", line, "period",
                                    row["period"]))
        if row["kpi_id"] and row["kpi_id"] not in kpis:
            problems.append(Problem(path.name, "unknown KPI id", line, "kpi_id", row["kpi_id"]))
        if str(row["rebase"]).strip().lower() not in TRUE_WORDS | FALSE_WORDS:
            problems.append(Problem(path.name, "rebase must be true or false", line, "rebase",
                                    row["rebase"]))
        if not str(row["text"]).strip():
            problems.append(Problem(path.name, "annotation text is empty", line, "text"))
    if problems:
        raise FeedError(path.name, problems)
    return pd.DataFrame({
        "org_code": frame["org_code"], "period": frame["period"],
        "kpi_id": frame["kpi_id"].replace("", None), "text": frame["text"].str.strip(),
        "rebase": frame["rebase"].str.strip().str.lower().isin(TRUE_WORDS),
    })


def load_annotations(engine: Engine, path: Path) -> int:
    """Replace the warehouse's annotations with the file's (one transaction); returns the count."""
    with engine.begin() as conn:
        known = set(conn.execute(select(wh.organisation.c.org_code)).scalars())
        rows = read_annotations(path, known)
        conn.execute(delete(wh.annotation))
        return wh.bulk_insert(conn, wh.annotation, rows)


def rebase_points(conn) -> pd.DataFrame:
    """org_code, period, kpi_id (None = all) where SPC limits are recalculated."""
    a = wh.annotation
    return wh.read_frame(conn, select(a.c.org_code, a.c.period, a.c.kpi_id)
                         .where(a.c.rebase.is_(True)))
