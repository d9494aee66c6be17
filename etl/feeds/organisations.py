"""Organisations feed: which practice belongs to which network (PCN), place and system, when.

Reads the native CSV, the ODS ePCN workbook (one row per practice-PCN relationship, with start
and end dates), the ODS epraccur.csv (practices only, open and close dates) and the QOF geography
mapping (a year-end snapshot without dates). Layout knowledge lives in etl/layouts/
organisations.toml; this module only applies it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from etl.feeds.record import FactRows, Feed, Frame, TableRows
from etl.layout_reader import detect_by_layouts, read_by_layout, read_dates
from etl.layouts import layouts_for
from etl.validate import refuse
from kpi.catalogue import FAMILY_TITLES

FEED = "organisations"
# one row per practice->network relationship (native CSV, ePCN, QOF mapping); epraccur rows carry
# only the practice (network/place/system None), valid_from/to = its open and close dates
COLUMNS = [
    "practice_code", "practice_name", "network_code", "network_name",
    "place_code", "place_name", "system_code", "system_name", "valid_from", "valid_to",
]
CODE_COLUMNS = ["practice_code", "network_code", "place_code", "system_code"]
NAME_COLUMNS = ["practice_name", "network_name", "place_name", "system_name"]
DATE_COLUMNS = ["valid_from", "valid_to"]

# ODS codes are upper-case letters and digits (practice A81001, PCN U89141, CCG 00L, STP QHM);
# places may also be ONS codes (E09000030) or old three-digit council codes (716).
# Unknown or open-ended membership starts are stored as this date (it is part of the key).
EARLIEST = date(1900, 1, 1)

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


def fact_rows(frame: pd.DataFrame, spec: dict) -> FactRows:
    """Organisations of every level and child->parent memberships with their dates."""
    f = frame.copy()
    f["valid_from"] = f["valid_from"].where(f["valid_from"].notna(), EARLIEST)
    f["valid_to"] = f["valid_to"].astype(object).where(f["valid_to"].notna(), None)
    levels = [("practice", "network"), ("network", "place"), ("place", "system"), ("system", None)]
    orgs, links = [], []
    for level, parent in levels:
        code, name = f"{level}_code", f"{level}_name"
        has = f[f[code].notna() & (f[code] != "")]
        if has.empty:
            continue
        span = has.groupby(code).agg(org_name=(name, "last"), open_date=("valid_from", "min"))
        open_ended = has["valid_to"].isna().groupby(has[code]).any()
        last_end = has.groupby(code)["valid_to"].max()
        span["close_date"] = last_end.where(~open_ended, None)
        span["open_date"] = span["open_date"].where(span["open_date"] != EARLIEST, None)
        orgs.append(span.reset_index().rename(columns={code: "org_code"}).assign(level=level))
        if parent:
            pcode = f"{parent}_code"
            linked = has[has[pcode].notna() & (has[pcode] != "")]
            if level == "practice":
                link = linked[[code, pcode, "valid_from", "valid_to"]]
            else:  # higher levels: one open membership, to the parent most of its rows name
                link = linked.groupby([code, pcode], as_index=False).agg(
                    valid_from=("valid_from", "min"), rows=("valid_from", "size"))
                # A network can span places (PCNs crossing CCG borders): it belongs to the
                # place of most of its practices (ties: the first code), never to two at once.
                link = link.sort_values([code, "rows", pcode], ascending=[True, False, True])
                link = link.drop_duplicates(code)[[code, pcode, "valid_from"]]
                link["valid_to"] = None
            links.append(link.set_axis(["child_code", "parent_code", "valid_from", "valid_to"],
                                       axis=1).drop_duplicates(["child_code", "parent_code",
                                                                "valid_from"]))
    org_rows = pd.concat(orgs, ignore_index=True)
    tables = {"organisation": TableRows(org_rows, ["org_code"], revise=False)}
    if links:
        tables["membership"] = TableRows(pd.concat(links, ignore_index=True), ["child_code"],
                                         revise=False)
    rows = FactRows(tables, [])
    if spec.get("place_is_commissioner"):
        _commissioner_places_fill_only(rows, set(frame["practice_code"].dropna()))
    return rows


def _commissioner_places_fill_only(rows: FactRows, practices: set[str]) -> None:
    """Network->place links from a commissioner column are added only where none exists."""
    links = rows.tables.get("membership")
    if links is None:
        return
    higher = ~links.frame["child_code"].isin(practices)
    rows.tables["membership"] = TableRows(links.frame[~higher], links.keys, revise=False)
    rows.tables["membership_fill"] = TableRows(links.frame[higher], links.keys, revise=False,
                                               table="membership", fill_only=True)


RECORD = Feed(FEED, detect, parse, (Frame(
    FEED, tuple(COLUMNS), SCHEMA, keys=("practice_code", "network_code", "valid_from"),
    code_column=None, tables=("organisation", "membership"), build=fact_rows,
    # who belongs to whom decides every level's figures: a change rebuilds every family
    families=tuple(FAMILY_TITLES)),))
