"""Reading feed files as text tables: encodings, header folding, header rows, counts."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
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


def text_encoding(path: Path, block: int = 1 << 20) -> str:
    """'utf-8-sig' when the whole file is UTF-8, else 'cp1252' (feeds.md), read in blocks.

    Raises FeedError when the bytes are neither (Windows-1252 leaves five bytes undefined).
    """
    path = Path(path)
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(block), b""):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FeedError(path.name, [Problem(path.name, "text is neither UTF-8 nor Windows-1252")])


def ragged_rows(path: Path, encoding: str) -> list[Problem]:
    """A Problem per row whose field count differs from the header's (e.g. a truncated file)."""
    with open(path, newline="", encoding=encoding) as handle:
        reader = csv.reader(handle)
        width = len(next(reader, []))
        return [
            Problem(path.name, f"row has {len(row)} fields, expected {width} (the header's)", row=i)
            for i, row in enumerate(reader, start=2) if row and len(row) != width
        ]


def read_csv_chunks(
    path: Path, columns: list[str], chunk_rows: int = 200_000,
) -> Iterator[pd.DataFrame]:
    """`columns` of a large CSV, `chunk_rows` rows at a time, every cell text ('' for blank),
    with `source_row` (the row a person sees; the header is row 1).

    Memory stays bounded by one chunk. Rows with too few or too many fields are refused first,
    every one listed (one streaming pass: pandas would pad a short row silently).
    """
    path = Path(path)
    encoding = text_encoding(path)
    ragged = ragged_rows(path, encoding)
    if ragged:
        raise FeedError(path.name, ragged)
    first_row = 2
    try:
        reader = pd.read_csv(path, usecols=columns, dtype=str, keep_default_na=False,
                             encoding=encoding, skipinitialspace=True, index_col=False,
                             chunksize=chunk_rows)
        for chunk in reader:
            yield chunk.assign(source_row=range(first_row, first_row + len(chunk)))
            first_row += len(chunk)
    except (pd.errors.ParserError, ValueError) as exc:
        raise FeedError(path.name, [Problem(path.name, f"not a readable CSV table: {exc}")]
                        ) from exc


def read_csv_columns(path: Path, columns: list[str], chunk_rows: int = 100_000) -> pd.DataFrame:
    """`columns` of a large CSV, every cell text, with `source_row`, read `chunk_rows` at a
    time: only the columns asked for are kept, so a national month of hospital episodes (a
    wide extract) never sits in memory whole."""
    chunks = list(read_csv_chunks(path, columns, chunk_rows))
    if not chunks:
        return pd.DataFrame(columns=[*columns, "source_row"])
    return pd.concat(chunks, ignore_index=True)


def header_mapping(names: Iterable[str], aliases: dict[str, list[str]]) -> dict[str, str]:
    """Header name in the file -> canonical name, for every alias found (folded matching)."""
    by_fold = {fold_label(n): n for n in names}
    found: dict[str, str] = {}
    for canonical, spellings in aliases.items():
        for name in [canonical, *spellings]:
            if fold_label(name) in by_fold:
                found[by_fold[fold_label(name)]] = canonical
                break
    return found


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
    required = list(required)
    mapping = header_mapping(frame.columns, aliases | {
        r: [] for r in required if r not in aliases})
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
