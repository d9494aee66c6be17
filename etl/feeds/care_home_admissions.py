"""Care-home admissions: permanent admissions of people aged 65+ to residential and nursing care
homes per organisation and month (ASCOF 2A(2)), from the carekpi native CSV (feeds.md §7)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from etl.feeds.record import Feed, Frame, org_period_rows
from etl.layout_reader import detect_by_layouts
from etl.layouts import layouts_for
from etl.org_month_csv import org_period_schema, parse_org_period_csv

FEED = "care_home_admissions"
COLUMNS = ["org_code", "period", "admissions_65_residential", "admissions_65_nursing"]
COUNT_COLUMNS = COLUMNS[2:]

SCHEMA = org_period_schema(COUNT_COLUMNS)


def detect(path: Path) -> str | None:
    """The care-home admissions layout whose header the file carries, else None."""
    return detect_by_layouts(Path(path), layouts_for(FEED))


def parse(path: Path, layout: str) -> pd.DataFrame:
    """One row per organisation and month; raises FeedError listing every bad cell."""
    return parse_org_period_csv(Path(path), layouts_for(FEED)[layout], COUNT_COLUMNS, SCHEMA)


RECORD = Feed(FEED, detect, parse, (Frame(
    FEED, tuple(COLUMNS), SCHEMA, keys=("org_code", "period"), code_column="org_code",
    tables=("care_home_fact",), build=org_period_rows("care_home_fact", tuple(COUNT_COLUMNS)),
    families=("care_home_admissions",)),))
