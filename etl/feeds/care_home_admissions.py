"""Care-home admissions: permanent admissions of people aged 65+ to residential and nursing care
homes per organisation and month (ASCOF 2A(2)), from the carekpi native CSV (feeds.md §7)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from etl.feeds import CANONICAL_COLUMNS
from etl.layout_reader import detect_by_layouts
from etl.layouts import layouts_for
from etl.org_month_csv import org_period_schema, parse_org_period_csv

FEED = "care_home_admissions"
COLUMNS = CANONICAL_COLUMNS[FEED]
COUNT_COLUMNS = COLUMNS[2:]

SCHEMA = org_period_schema(COUNT_COLUMNS)


def detect(path: Path) -> str | None:
    """The care-home admissions layout whose header the file carries, else None."""
    return detect_by_layouts(Path(path), layouts_for(FEED))


def parse(path: Path, layout: str) -> pd.DataFrame:
    """One row per organisation and month; raises FeedError listing every bad cell."""
    return parse_org_period_csv(Path(path), layouts_for(FEED)[layout], COUNT_COLUMNS, SCHEMA)
