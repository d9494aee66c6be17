"""Reading feed files as text tables: encodings, header folding, header rows, counts."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from etl.problems import FeedError, Problem

# Public files write "not available" in several ways (feeds.md): stored as null, never as zero.
SUPPRESSION_TOKENS = frozenset({"", "*", "c", "[c]", "[x]", "x", "-", "na", "n/a", ".", ":"})


def fold_label(label: object) -> str:
    """A header label folded for matching: case, spaces, line breaks and punctuation ignored."""
    text = "" if label is None else str(label)
    return re.sub(r"[^0-9a-z+]+", " ", text.casefold()).strip()


def decode_text(path: Path) -> str:
    """The file's text: UTF-8 (BOM dropped), else Windows-1252 as feeds.md allows."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def read_csv_text(path: Path, header: bool = True) -> pd.DataFrame:
    """Every cell of a CSV file as text (no NA guessing), so codes like 00L keep their zeros.

    Raises FeedError for an empty file or ragged rows, naming the row.
    """
    path = Path(path)
    text = decode_text(path)
    if not text.strip():
        raise FeedError(path.name, [Problem(path.name, "file is empty")])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",")
    rows = list(reader)
    while rows and not rows[-1]:
        rows.pop()  # trailing blank lines are common and harmless
    width = len(rows[0])
    # An interior blank line stays a row (of blanks) so that row numbers match the file.
    rows = [r if r else [""] * width for r in rows]
    problems = [
        Problem(path.name, f"row has {len(r)} fields, expected {width}", row=i + 1)
        for i, r in enumerate(rows)
        if len(r) != width
    ]
    if problems:
        raise FeedError(path.name, problems)
    if header:
        names = [c.strip() for c in rows[0]]
        return pd.DataFrame(rows[1:], columns=names, dtype=object)
    return pd.DataFrame(rows, dtype=object)


def read_excel_sheets(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet of an .xls or .xlsx workbook as raw cells (no header), cached formula values."""
    path = Path(path)
    try:
        return pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    except Exception as exc:  # xlrd/openpyxl raise many types for a corrupt workbook
        raise FeedError(path.name, [Problem(path.name, f"not a readable workbook: {exc}")]) from exc


def find_header_row(cells: pd.DataFrame, labels: Iterable[str], scan: int = 40) -> int | None:
    """Index of the first row (within `scan`) holding every one of `labels` (folded)."""
    wanted = {fold_label(x) for x in labels}
    for i in range(min(scan, len(cells))):
        found = {fold_label(v) for v in cells.iloc[i].tolist() if v is not None}
        if wanted <= found:
            return i
    return None


def rename_by_aliases(
    frame: pd.DataFrame, aliases: dict[str, list[str]], file: str, required: Iterable[str]
) -> pd.DataFrame:
    """Columns renamed to canonical names via folded aliases; missing required ones are refused."""
    by_fold = {fold_label(c): c for c in frame.columns}
    mapping: dict[str, str] = {}
    required = list(required)
    for canonical in [*aliases, *(r for r in required if r not in aliases)]:
        for name in [canonical, *aliases.get(canonical, [])]:
            if fold_label(name) in by_fold:
                mapping[by_fold[fold_label(name)]] = canonical
                break
    missing = [c for c in required if c not in mapping.values()]
    if missing:
        raise FeedError(
            file,
            [Problem(file, f"required column is missing (expected one of {aliases.get(c, [c])})",
                     column=c) for c in missing],
        )
    return frame.rename(columns=mapping)


def is_suppressed(value: object) -> bool:
    """True for a blank or a public suppression token such as '*' or '[c]'."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return True
    return str(value).strip().casefold() in SUPPRESSION_TOKENS
