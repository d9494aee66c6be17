"""Delayed transfers of care: delayed days per local authority or network per month.

Reads NHS England's monthly local-authority DToC workbooks (.xls 2010-2020, or .xlsx in the same
layout) and the carekpi native CSV (feeds.md §5). From a workbook, the sheet by responsible
organisation gives delayed days attributable to the NHS, social care and both; the sheet by
reason gives delayed days per reason, mapped to stable codes by the reason's letter
(`reason_a` ... `reason_i`, `reason_di`/`reason_dii` for the two D reasons, `reason_o` from 2017).
Organisations are named by ONS code where the file gives one, else by the three-digit code mapped
through the local-authority alias table for the workbook's month. The authorities a workbook names
by ONS code are passed on with the file's names (`frame.attrs["described"]`), so that one the
reference does not know yet becomes known at load; the rows that are no authority (England, the
Welsh, Scottish and outside-GB residents) are skipped and counted (`frame.attrs["notes"]`).
Layouts live in etl/layouts/delayed_transfers.toml; the native CSV is read by
`etl.org_month_csv`, shared with reablement and care-home admissions.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from etl.feeds.record import FactRows, Feed, Frame, TableRows, period_list
from etl.layout_reader import (
    detect_by_layouts,
    is_workbook,
    read_counts,
    title_period,
)
from etl.layouts import layouts_for
from etl.org_month_csv import org_period_schema, parse_org_period_csv
from etl.problems import FeedError, Problem
from etl.readers import find_header_row, read_excel_sheets, rename_by_aliases
from etl.reference import la_code_aliases
from etl.validate import refuse

FEED = "delayed_transfers"
# optional `reason_<letter>` columns (delayed days by reason) may follow these
COLUMNS = [
    "org_code", "period", "delayed_days_nhs", "delayed_days_social_care", "delayed_days_both",
]
DAY_COLUMNS = ["delayed_days_nhs", "delayed_days_social_care", "delayed_days_both"]
REASON_COLUMN = r"^reason_[a-z]{1,3}$"


# --- NHS England local-authority workbooks ------------------------------------------------------

def _reason_code(label: object, pattern: str) -> str | None:
    """'a', 'di', 'dii', 'o' ... from a reason header such as 'DII) AWAITING NURSING HOME'."""
    text = re.sub(r"[\s(]", "", str(label).upper())
    match = re.match(pattern, text)
    return (match.group(1) + match.group(2)).lower() if match else None


def _find_sheets(sheets: dict[str, pd.DataFrame], spec: dict) -> dict[str, tuple[str, int]]:
    """Which sheet holds each block ('responsible', 'reason') and its header row index."""
    found: dict[str, tuple[str, int]] = {}
    for name, cells in sheets.items():
        row = find_header_row(cells, spec["responsible"]["header_labels"])
        if row is not None and "responsible" not in found:
            found["responsible"] = (name, row)
            continue
        row = find_header_row(cells, spec["reason"]["header_labels"])
        if row is not None and "reason" not in found and any(
            _reason_code(v, spec["reason"]["reason_pattern"]) for v in cells.iloc[row]
        ):
            found["reason"] = (name, row)
    return found


def _block(cells: pd.DataFrame, header: int, block: dict, spec: dict, file: str,
           period: str | None) -> pd.DataFrame:
    """Rows of local authorities under a header row, canonical names, with their Excel row.

    `org_code` is the file's ONS code, else its old code mapped for `period`; `org_name` the
    file's name; `described` whether the file itself gave the ONS code. `attrs["skipped"]` counts
    the rows with figures that are no authority (England, pseudo-authorities).
    """
    labels = cells.iloc[header].tolist()
    body = cells.iloc[header + 1:].copy()
    body.columns = [str(c).strip() if not pd.isna(c) else f"unnamed {i}"
                    for i, c in enumerate(labels)]
    body["source_row"] = np.arange(len(body)) + header + 2  # Excel rows are 1-based
    # Later editions repeat NHS / Social Care / Both in an average-per-day block: keep the first.
    body = body.loc[:, ~pd.Index(body.columns).duplicated()]
    body = rename_by_aliases(body, block["aliases"], file, block["required"])
    name = body["name"].map(lambda v: "" if pd.isna(v) else str(v).strip())
    code = body["old_code"] if "old_code" in body.columns else pd.Series("", index=body.index)
    code = code.map(lambda v: "" if pd.isna(v) else str(v).strip())
    ons = body["ons_code"] if "ons_code" in body.columns else pd.Series("", index=body.index)
    ons = ons.map(lambda v: "" if pd.isna(v) else str(v).strip())
    folded = name.str.casefold()
    pseudo = code.isin(spec["skip_codes"]) | folded.str.contains(
        "|".join(spec["skip_name_patterns"]), regex=True)
    # Spacer rows, footnotes and the England row carry no authority code.
    no_code = (code.eq("") | code.eq("-")) & (ons.eq("") | ons.eq("-"))
    skipped = int((name.ne("") & code.isin(spec["skip_codes"])).sum())
    body = body[~pseudo & ~no_code & name.ne("")]
    ons_known = ons[body.index].str.match(r"^E\d{8}$")
    aliases = la_code_aliases(period)
    mapped = code[body.index].map(lambda c: aliases.get(c, c))
    body = body.assign(org_code=ons[body.index].where(ons_known, mapped),
                       org_name=name[body.index], described=ons_known)
    body.attrs["skipped"] = skipped
    return body


def _parse_workbook(path: Path, spec: dict) -> pd.DataFrame:
    file = path.name
    sheets = read_excel_sheets(path)
    found = _find_sheets(sheets, spec)
    if "responsible" not in found:
        raise FeedError(file, [Problem(
            file, "no sheet has a header row with the labels "
                  f"{spec['responsible']['header_labels']} (delayed days by responsible "
                  "organisation)")])
    sheet, header = found["responsible"]
    cells = sheets[sheet]
    period = title_period(cells, header, spec)
    problems: list[Problem] = []
    if period is None:
        problems.append(Problem(file, f"sheet {sheet!r}: the title block names no month "
                                f"(expected a cell after one of {spec['period_labels']})"))
    body = _block(cells, header, spec["responsible"], spec, file, period)
    rows = body["source_row"].to_numpy()
    tokens = spec["suppression_tokens"]
    frame = pd.DataFrame({"org_code": body["org_code"].to_numpy(dtype=object),
                          "period": period})
    for column in DAY_COLUMNS:
        values, p = read_counts(body[column].reset_index(drop=True), rows, file, column, tokens)
        frame[column] = values
        problems += [_in_sheet(q, sheet) for q in p]
    if "reason" in found:
        reasons, p = _reasons(sheets, found["reason"], spec, file, period)
        problems += p
        frame = frame.merge(reasons, on="org_code", how="left")
    frame["source_row"] = rows.astype("int64")
    refuse(file, problems, frame, SCHEMA)
    described = body[body["described"]]
    frame.attrs["described"] = dict(zip(described["org_code"], described["org_name"],
                                        strict=True))
    if body.attrs["skipped"]:
        frame.attrs["notes"] = [f"{body.attrs['skipped']} row(s) that are no local authority "
                                "skipped (England, residents of Wales, Scotland or outside GB)"]
    return frame


def _in_sheet(problem: Problem, sheet: str) -> Problem:
    """The problem with its sheet named, so a row number points at one place in the workbook."""
    return Problem(problem.file, f"sheet {sheet!r}: {problem.rule}", problem.row, problem.column,
                   problem.value)


def _reasons(
    sheets: dict[str, pd.DataFrame], where: tuple[str, int], spec: dict, file: str,
    period: str | None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Delayed days per reason column (reason_<letter>) per organisation code."""
    sheet, header = where
    block = spec["reason"]
    body = _block(sheets[sheet], header, block, spec, file, period)
    rows = body["source_row"].to_numpy()
    out = pd.DataFrame({"org_code": body["org_code"].to_numpy(dtype=object)})
    problems: list[Problem] = []
    for label in body.columns:
        code = _reason_code(label, block["reason_pattern"])
        if code is None:
            continue
        column = f"reason_{code}"
        values, p = read_counts(body[label].reset_index(drop=True), rows, file, column,
                                spec["suppression_tokens"])
        out[column] = values
        problems += [_in_sheet(q, sheet) for q in p]
    return out.drop_duplicates("org_code"), problems


# --- the feed contract -------------------------------------------------------------------------

def detect(path: Path) -> str | None:
    """The DToC layout the file's content is in (CSV header or workbook header labels)."""
    path = Path(path)
    layouts = layouts_for(FEED)
    if not is_workbook(path):
        csv_layouts = {n: s for n, s in layouts.items() if s["format"] == "csv"}
        return detect_by_layouts(path, csv_layouts)
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, nrows=40, dtype=object)
    except Exception:  # an unreadable workbook is in no layout of ours
        return None
    workbooks = {n: s for n, s in layouts.items() if s["format"] == "workbook"}
    for name, spec in workbooks.items():
        if "responsible" in _find_sheets(sheets, spec):
            return name
    # Titled as a DToC workbook but with no header we know: its layout, so that parsing says
    # which header labels are missing rather than "no known layout".
    for name, spec in workbooks.items():
        if any(_titled(cells, spec["title_patterns"]) for cells in sheets.values()):
            return name
    return None


def _titled(cells: pd.DataFrame, patterns: list[str]) -> bool:
    """Whether a cell of the sheet's title block (its first 12 rows) holds one of `patterns`."""
    text = " ".join(str(v) for v in cells.head(12).to_numpy().ravel() if not pd.isna(v))
    return any(p in text.casefold() for p in patterns)


def parse(path: Path, layout: str) -> pd.DataFrame:
    """Delayed days per organisation and month (NHS, social care, both; by reason if given).

    Raises FeedError listing every problem (file, sheet and row, column, value, rule).
    """
    path = Path(path)
    spec = layouts_for(FEED)[layout]
    if spec["format"] == "workbook":
        return _parse_workbook(path, spec)
    return parse_org_period_csv(path, spec, DAY_COLUMNS, SCHEMA)


# NHS England's workbooks print NA where an authority reported no figure for a category: stored
# as null ("not available", feeds.md), never as zero, so delayed days may be null here.
SCHEMA = org_period_schema(
    DAY_COLUMNS, nullable=tuple(DAY_COLUMNS),
    extra={REASON_COLUMN: pa.Column("Int64", pa.Check.ge(0, error="count is negative"),
                                    nullable=True, regex=True, required=False)},
)


def fact_rows(frame: pd.DataFrame, _spec: dict) -> FactRows:
    """Delayed days per organisation and month, and by reason when the file gives reasons."""
    base = frame[["org_code", "period", *DAY_COLUMNS]]
    reasons = [c for c in frame.columns if c.startswith("reason_")]
    by_reason = frame.melt(["org_code", "period"], reasons, "reason_code", "delayed_days")
    by_reason["reason_code"] = by_reason["reason_code"].str.removeprefix("reason_")
    by_reason = by_reason.dropna(subset=["delayed_days"])
    tables = {"delayed_transfer_fact": TableRows(base, ["org_code", "period"])}
    if reasons:
        tables["delay_reason_fact"] = TableRows(by_reason, ["org_code", "period"])
    return FactRows(tables, period_list(base["period"]))


RECORD = Feed(FEED, detect, parse, (Frame(
    FEED, tuple(COLUMNS), SCHEMA, keys=("org_code", "period"), code_column="org_code",
    tables=("delayed_transfer_fact", "delay_reason_fact"), build=fact_rows,
    families=("delayed_transfers",)),))
