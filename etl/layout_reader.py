"""Reading a feed file through its layout table (etl/layouts/<feed>.toml): which layout a file's
content matches, its cells under canonical names with the row a person sees, and typed cells
with a Problem for every bad one. Feed parsers use it; it never touches the database.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from carekpi.periods import period_of
from etl.problems import FeedError, Problem
from etl.readers import (
    SUPPRESSION_TOKENS,
    find_header_row,
    fold_label,
    is_suppressed,
    read_csv_text,
    read_excel_sheets,
    rename_by_aliases,
)
from etl.validate import MAX_PER_RULE, problems_at

# Shared by the feed parsers: which layout a file's content matches, the raw cells renamed to
# canonical names with the row number a person sees, and typed cells with a Problem per bad cell.
# Layout table keys: format ("csv", "csv_headerless" or "workbook"), required (canonical fields
# that must be present), [aliases] (canonical field -> header labels, matched after fold_label),
# (listed aliases only, in detection), for workbooks sheet_patterns and header_labels, for
# headerless CSV fields, [positions] and [shape].

_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # xlsx (zip) and xls (OLE2)
_SCAN_ROWS = 40  # how far down a sheet a header row may sit


def is_workbook(path: Path) -> bool:
    """True when the file's first bytes are an Excel workbook's (xlsx or xls), whatever its name."""
    with open(path, "rb") as handle:
        return handle.read(4) in _WORKBOOK_MAGIC


def first_csv_row(path: Path) -> list[str]:
    """The first row of a CSV-like text file (empty for an empty or binary file)."""
    if is_workbook(path):
        return []
    with open(path, "rb") as handle:
        head = handle.read(65536)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = head.decode("cp1252", errors="replace")
    line = text.splitlines()[0] if text.strip() else ""
    return next(csv.reader([line]), [])


def _resolves(labels: Iterable[object], layout: dict) -> bool:
    """True when every required field of `layout` has one of its listed aliases among `labels`.

    Only the aliases listed count (not the canonical field name itself), so that a layout whose
    headers are the canonical names says so explicitly and no other layout matches by accident.
    """
    folded = {fold_label(x) for x in labels if x is not None}
    aliases = layout.get("aliases", {})
    return all(
        any(fold_label(name) in folded for name in aliases.get(field, []))
        for field in layout.get("required", [])
    )


def _sheet_header(cells: pd.DataFrame, layout: dict) -> int | None:
    row = find_header_row(cells, layout.get("header_labels", []), scan=_SCAN_ROWS)
    if row is None or not _resolves(cells.iloc[row].tolist(), layout):
        return None
    return row


def _matches_sheet(name: str, layout: dict) -> bool:
    return any(re.search(p, name) for p in layout.get("sheet_patterns", []))


def detect_by_layouts(path: Path, layouts: dict[str, dict]) -> str | None:
    """The first layout (in table order) whose content signature the file carries, else None.

    csv: the first row holds every required field's header; csv_headerless: the first row has
    `fields` fields and each `shape` position matches its pattern; workbook: a sheet whose name
    matches `sheet_patterns` has a header row with `header_labels` and every required field.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        return None
    if is_workbook(path):
        wanted = {n: lay for n, lay in layouts.items() if lay.get("format") == "workbook"}
        if not wanted:
            return None
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, nrows=_SCAN_ROWS,
                                   dtype=object)
        except Exception:  # unreadable workbook: not in any of these layouts
            return None
        for name, layout in wanted.items():
            for sheet, cells in sheets.items():
                if _matches_sheet(str(sheet), layout) and _sheet_header(cells, layout) is not None:
                    return name
        return None
    row = first_csv_row(path)
    for name, layout in layouts.items():
        if layout.get("format") == "csv" and _resolves(row, layout):
            return name
        if layout.get("format") == "csv_headerless" and len(row) == layout.get("fields") and all(
            re.fullmatch(pattern, row[int(pos) - 1].strip())
            for pos, pattern in layout.get("shape", {}).items()
        ):
            return name
    return None


def read_by_layout(path: Path, layout: dict) -> pd.DataFrame:
    """The file's data cells as text/raw values under canonical field names, plus `source_row`.

    Only fields named in the layout's aliases (or positions) are kept; optional ones absent
    from the file are None. Wholly blank rows (spacers, trailing lines) are dropped. Raises
    FeedError naming the file when it is empty, has no data rows, or lacks a required column.
    """
    path = Path(path)
    file = path.name
    kind = layout.get("format")
    aliases: dict[str, list[str]] = layout.get("aliases", {})
    if kind == "csv_headerless":
        raw = read_csv_text(path, header=False)
        if raw.shape[1] != layout["fields"]:
            raise FeedError(file, [Problem(
                file, f"row has {raw.shape[1]} fields, expected {layout['fields']}", row=1)])
        frame = pd.DataFrame({field: raw[int(pos) - 1]
                              for field, pos in layout["positions"].items()})
        frame["source_row"] = np.arange(len(frame)) + 1
    elif kind == "csv":
        raw = read_csv_text(path, header=True)
        frame = rename_by_aliases(raw, aliases, file, layout.get("required", []))
        frame["source_row"] = np.arange(len(frame)) + 2
    elif kind == "workbook":
        frame = _read_sheet(path, layout)
    else:
        raise ValueError(f"layout format {kind!r} is not one of csv, csv_headerless, workbook")
    fields = list(layout.get("positions", aliases))
    if kind != "workbook" and not _decodable(path):
        _refuse_undecodable(frame, file)
    for field in fields:
        if field not in frame.columns:
            frame[field] = None
    frame = frame[[*fields, "source_row"]]
    blank = np.ones(len(frame), dtype=bool)
    for field in fields:
        cells = frame[field].to_numpy(dtype=object)
        blank &= pd.isna(cells) | (cells == "")
    frame = frame[~blank].reset_index(drop=True)
    if frame.empty:
        raise FeedError(file, [Problem(file, "file has a header but no data rows")])
    return frame


def _decodable(path: Path) -> bool:
    """True when the bytes are valid UTF-8 or wholly defined in Windows-1252 (feeds.md)."""
    raw = path.read_bytes()
    for encoding in ("utf-8", "cp1252"):
        try:
            raw.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def map_unique(values: pd.Series, func: Callable[[object], object]) -> pd.Series:
    """`func` applied once per distinct value (missing values map to None): fast on long files
    whose columns repeat a few values (dates, sexes, age bands)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = np.array([func(u) for u in uniques] + [None], dtype=object)
    return pd.Series(lookup[codes], index=values.index, dtype=object)


def _refuse_undecodable(frame: pd.DataFrame, file: str) -> None:
    """Refuse text that was neither UTF-8 nor Windows-1252 (decoded with U+FFFD stand-ins)."""
    problems: list[Problem] = []
    rows = frame["source_row"].to_numpy()
    for column in frame.columns.drop("source_row"):
        cells = frame[column]
        if cells.dtype != object and not pd.api.types.is_string_dtype(cells):
            continue
        bad = cells.astype("string").str.contains("\ufffd", regex=False).fillna(False)
        bad = bad.to_numpy(dtype=bool)
        problems += problems_at(
            file, "text is neither UTF-8 nor Windows-1252: bytes cannot be decoded", column,
            rows[bad], cells.to_numpy()[bad], MAX_PER_RULE)
    if problems:
        raise FeedError(file, problems)


def _read_sheet(path: Path, layout: dict) -> pd.DataFrame:
    file = path.name
    sheets = read_excel_sheets(path)
    for sheet, cells in sheets.items():
        if not _matches_sheet(str(sheet), layout):
            continue
        header = _sheet_header(cells, layout)
        if header is None:
            continue
        body = cells.iloc[header + 1:]
        body.columns = [str(c) if c is not None and not pd.isna(c) else f"unnamed {i}"
                        for i, c in enumerate(cells.iloc[header].tolist())]
        frame = rename_by_aliases(body.reset_index(drop=True), layout.get("aliases", {}), file,
                                  layout.get("required", []))
        # pandas reads the sheet from its first row, so position + 1 is the Excel row number.
        frame["source_row"] = np.arange(len(frame)) + header + 2
        return frame
    raise FeedError(file, [Problem(
        file, f"no sheet named like {layout.get('sheet_patterns')} with a header row holding "
              f"{layout.get('header_labels')}")])


def read_counts(
    values: pd.Series, rows: Sequence, file: str, column: str,
    tokens: Iterable[str] = SUPPRESSION_TOKENS, max_per_rule: int = MAX_PER_RULE,
) -> tuple[pd.Series, list[Problem]]:
    """Whole-number counts as Int64, vectorised, with a Problem per unreadable cell.

    Blanks and suppression `tokens` become null (the feed's schema says whether null is allowed);
    negative values are kept for the schema to report; text and fractions are problems.
    """
    text = values.astype("string").str.strip()
    folded = text.str.casefold()
    null = (values.isna() | folded.isin([t.casefold() for t in tokens])).to_numpy(dtype=bool)
    number = pd.to_numeric(text.str.replace(",", "", regex=False).mask(null), errors="coerce")
    number = number.astype("Float64")
    rows = np.asarray(rows)
    not_number = (~null & number.isna()).to_numpy(dtype=bool)
    fraction = (number.notna() & (number != number.round())).to_numpy(dtype=bool)
    problems = problems_at(file, "count is not a number", column, rows[not_number],
                       values.to_numpy()[not_number], max_per_rule)
    problems += problems_at(file, "count is not a whole number", column, rows[fraction],
                        values.to_numpy()[fraction], max_per_rule)
    clean = number.mask(fraction).round().astype("Int64")
    return clean.rename(values.name), problems


def _as_date(value: object, formats: Sequence[str]) -> date | None | str:
    """A cell as a date; None when blank; the cell text itself when no format fits."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        text = str(int(value)) if float(value).is_integer() else str(value)
    else:
        text = str(value).strip()
    if is_suppressed(text):
        return None
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return text


def read_dates(
    values: pd.Series, formats: Sequence[str], rows: Sequence, file: str, column: str,
    max_per_rule: int = MAX_PER_RULE,
) -> tuple[pd.Series, list[Problem]]:
    """Dates (datetime.date or None) from text in any of `formats`, integers like 20190701, or
    real Excel dates; a Problem per cell that fits no format. Each distinct value is parsed once.
    """
    out = map_unique(values, lambda v: _as_date(v, formats))
    bad = out.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    problems = problems_at(file, f"date is not in an expected form ({', '.join(formats)})", column,
                       np.asarray(rows)[bad], values.to_numpy()[bad], max_per_rule)
    out[bad] = None
    return out.where(out.notna(), None), problems


# --- months named in title blocks (NHS England workbooks) ---------------------------------------

def title_period(cells: pd.DataFrame, header_row: int, spec: dict) -> str | None:
    """'YYYY-MM' named in a sheet's title block: the cell after a `period_labels` cell
    ('Period:' | 'April 2012'), or one cell holding both ('Period: April 2012')."""
    labels = {fold_label(x) for x in spec["period_labels"]}
    for i in range(header_row):
        values = [v for v in cells.iloc[i].tolist() if not is_suppressed(v)]
        for j, value in enumerate(values):
            if fold_label(value) in labels and j + 1 < len(values):
                return month_of(values[j + 1], spec["period_formats"])
            text = str(value)
            for label in spec["period_labels"]:
                if text.strip().startswith(label) and len(text.strip()) > len(label):
                    found = month_of(text.strip()[len(label):], spec["period_formats"])
                    if found:
                        return found
    return None


def month_of(value: object, formats: list[str]) -> str | None:
    """'YYYY-MM' of a title cell ('April 2012', 'Apr-12', a date), or None if it names no month."""
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return period_of(value)
    text = re.sub(r"\s+", " ", str(value)).strip(" :")
    for fmt in formats:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return period_of(parsed)
    return None
