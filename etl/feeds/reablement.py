"""Reablement outcomes: older people discharged into reablement and still at home 91 days later
(ASCOF 2B(1)), and short-term episodes ending with no further support (ASCOF 2D), per month.

Reads the carekpi native CSV (feeds.md §6) at network or place level. A month's first submission
may leave `at_home_91_days` blank: the outcome is known three months later, so the blank is stored
as null (provisional), not reported as a problem; a resubmission fills it in.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from etl.feeds.record import Feed, Frame, org_period_rows
from etl.layout_reader import detect_by_layouts
from etl.layouts import layouts_for
from etl.org_month_csv import org_period_schema, parse_org_period_csv

FEED = "reablement"
COLUMNS = [
    "org_code", "period", "discharged_65_into_reablement", "at_home_91_days",
    "episodes_ended", "no_further_support",
]
COUNT_COLUMNS = COLUMNS[2:]


def _not_above(part: str, whole: str) -> pa.Check:
    """part <= whole where both are known and non-negative (negatives are reported alone)."""
    def check(frame: pd.DataFrame) -> pd.Series:
        over = (frame[part] > frame[whole]) & (frame[part] >= 0) & (frame[whole] >= 0)
        return ~over.fillna(False).astype(bool)

    return pa.Check(check, error=f"{part} is greater than {whole}")


SCHEMA = org_period_schema(
    COUNT_COLUMNS, nullable=("at_home_91_days",),
    checks=[_not_above("at_home_91_days", "discharged_65_into_reablement"),
            _not_above("no_further_support", "episodes_ended")],
)


def detect(path: Path) -> str | None:
    """The reablement layout whose header the file carries, else None."""
    return detect_by_layouts(Path(path), layouts_for(FEED))


def parse(path: Path, layout: str) -> pd.DataFrame:
    """One row per organisation and month; raises FeedError listing every bad cell."""
    return parse_org_period_csv(Path(path), layouts_for(FEED)[layout], COUNT_COLUMNS, SCHEMA)


RECORD = Feed(FEED, detect, parse, (Frame(
    FEED, tuple(COLUMNS), SCHEMA, keys=("org_code", "period"), code_column="org_code",
    tables=("reablement_fact",), build=org_period_rows("reablement_fact", tuple(COUNT_COLUMNS)),
    families=("reablement",)),))
