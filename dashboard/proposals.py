"""Proposed SPC recalculation points: the start of each sustained shift in an organisation's
headline KPIs (Making Data Count), offered to a user to accept as a rebase annotation, never
applied by themselves.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy.engine import Connection, Engine

from carekpi import read
from dashboard.theme import month_label
from kpi.catalogue import load_catalogue
from kpi.verdicts import latest_shift

COLUMNS = ["org_code", "period", "text", "kpi_id", "rebase"]


def propose_rebases(bind: Engine | Connection, org_code: str,
                    month: str | None = None) -> pd.DataFrame:
    """One proposed rebase annotation per headline KPI whose latest months (up to `month`) form
    a sustained shift not already rebased there: COLUMNS, by KPI."""
    found = []
    with read._connected(bind) as conn:
        notes = read.annotations(conn, org_code)
        rebased = notes[notes["rebase"]]
        for kpi in load_catalogue():
            if kpi.drilldown_of or kpi.rolling_of:
                continue
            series = read.kpi_series(conn, kpi.id, org_code)
            if month:
                series = series[series["period"] <= month].reset_index(drop=True)
            if series.empty:
                continue
            last = series.iloc[-1]
            shift = latest_shift(series["value"].tolist(), last["spc_mean"],
                                 polarity=kpi.polarity, target=last["target"])
            if shift is None:
                continue
            start = series["period"].iloc[shift.start]
            mine = rebased[rebased["kpi_id"].isna() | (rebased["kpi_id"] == kpi.id)]
            if (mine["period"] == start).any():
                continue
            found.append({"org_code": org_code, "period": start, "kpi_id": kpi.id,
                          "rebase": True,
                          "text": f"Proposed: sustained shift since {month_label(start)} "
                                  f"({shift.points} months {'above' if shift.side > 0 else 'below'}"
                                  " the mean)"})
    return pd.DataFrame(found, columns=COLUMNS)


def annotations_with(bind: Engine | Connection, proposals: pd.DataFrame) -> pd.DataFrame:
    """Every stored annotation plus the proposals: a file `carekpi annotations load` (which
    replaces them all) can take without losing any."""
    return pd.concat([read.every_annotation(bind)[COLUMNS], proposals[COLUMNS]],
                     ignore_index=True)
