"""Organisations feed: which practice belongs to which network (PCN), place and system, when.

Reads the native CSV, the ODS ePCN workbook (one row per practice-PCN relationship, with start
and end dates), the ODS epraccur.csv (practices only, open and close dates) and the QOF geography
mapping (a year-end snapshot without dates). Layout knowledge lives in etl/layouts/
organisations.toml; this module only applies it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from etl.feeds import CANONICAL_COLUMNS
from etl.layout_reader import detect_by_layouts, read_by_layout, read_dates
from etl.layouts import layouts_for
from etl.validate import refuse

FEED = "organisations"
COLUMNS = CANONICAL_COLUMNS[FEED]
CODE_COLUMNS = ["practice_code", "network_code", "place_code", "system_code"]
NAME_COLUMNS = ["practice_name", "network_name", "place_name", "system_name"]
DATE_COLUMNS = ["valid_from", "valid_to"]

# ODS codes are upper-case letters and digits (practice A81001, PCN U89141, CCG 00L, STP QHM);
# places may also be ONS codes (E09000030) or old three-digit council codes (716).
_CODE = r"^[A-Z0-9]{3,10}$"


def _dates_in_order(frame: pd.DataFrame) -> pd.Series:
    both = frame["valid_from"].notna() & frame["valid_to"].notna()
    ordered = pd.Series(True, index=frame.index)
    if both.any():
        start = pd.to_datetime(frame.loc[both, "valid_from"])
        end = pd.to_datetime(frame.loc[both, "valid_to"])
        ordered.loc[both] = (end >= start).to_numpy()
    return ordered


SCHEMA = pa.DataFrameSchema(
    {
        "practice_code": pa.Column(str, pa.Check.str_matches(
            _CODE, error="practice code is not an ODS code (3-10 capital letters or digits)")),
        **{c: pa.Column(str, pa.Check.str_matches(
            _CODE, error="code is not an organisation code (3-10 capital letters or digits)"),
            nullable=True) for c in CODE_COLUMNS[1:]},
        **{c: pa.Column(str, nullable=True) for c in NAME_COLUMNS},
        **{c: pa.Column(object, nullable=True) for c in DATE_COLUMNS},
        "source_row": pa.Column(int, pa.Check.ge(1)),
    },
    checks=[pa.Check(_dates_in_order, error="valid_to is before valid_from")],
    strict=True,
)


def detect(path: Path) -> str | None:
    """The organisations layout the file's content matches (headers, sheets, epraccur's shape)."""
    return detect_by_layouts(Path(path), layouts_for(FEED))


def parse(path: Path, layout: str) -> pd.DataFrame:
    """The file as one row per practice-network relationship (canonical columns + source_row).

    Raises FeedError listing every unreadable cell (bad dates, missing columns), with the
    schema's findings on the rest of the file.
    """
    path = Path(path)
    spec = layouts_for(FEED)[layout]
    raw = read_by_layout(path, spec)
    for field, wanted in spec.get("keep", {}).items():
        raw = raw[raw[field].astype("string").str.strip().isin(wanted)]
    for field, tokens in spec.get("none_values", {}).items():
        raw[field] = raw[field].mask(raw[field].astype("string").str.strip().isin(tokens))
    rows = raw["source_row"].to_numpy()
    frame = pd.DataFrame(index=raw.index)
    problems = []
    for column in CODE_COLUMNS + NAME_COLUMNS:
        if column in raw.columns:
            text = raw[column].astype("string").str.strip()
            text = text.str.upper() if column in CODE_COLUMNS else text
            frame[column] = text.mask(text.eq("")).astype("str")
        else:
            frame[column] = pd.Series(None, index=raw.index, dtype="str")
    for column in DATE_COLUMNS:
        if column in raw.columns and spec.get("date_formats"):
            frame[column], found = read_dates(raw[column], spec["date_formats"], rows, path.name,
                                              column)
            problems += found
        else:
            frame[column] = pd.Series([None] * len(raw), index=raw.index, dtype=object)
    frame["source_row"] = rows.astype("int64")
    frame = frame[[*COLUMNS, "source_row"]].reset_index(drop=True)
    refuse(path.name, problems, frame, SCHEMA)
    return frame
