"""Native organisation x month count CSVs (delayed transfers, reablement, care-home admissions):
codes (old council codes mapped to ONS), 'YYYY-MM' periods, non-negative counts, optional
columns by pattern (reason_a ...), and the pandera schema they share."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from etl.layout_reader import first_csv_row, month_of, read_by_layout, read_counts
from etl.problems import Problem
from etl.reference import la_code_aliases
from etl.validate import code_column, period_column, refuse


def org_codes(values: pd.Series) -> pd.Series:
    """Organisation codes as upper-case text; old three-digit LA codes become ONS codes."""
    aliases = la_code_aliases()
    text = values.astype("string").str.strip().str.upper()
    text = text.map(lambda c: aliases.get(c, c), na_action="ignore")
    return text.mask(text.eq("")).astype(object).where(text.notna() & text.ne(""), None)


def periods(values: pd.Series, formats: list[str]) -> pd.Series:
    """'YYYY-MM' for each cell; cells naming no month are kept as written (the schema says so)."""
    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        text = str(value).strip()
        return month_of(text, formats) or (text or None)

    return pd.Series([one(v) for v in values], index=values.index, dtype=object)


def org_period_schema(
    count_columns: list[str], nullable: tuple[str, ...] = (), checks: list[pa.Check] | None = None,
    extra: dict[str, pa.Column] | None = None,
) -> pa.DataFrameSchema:
    """The schema of an org x month count frame: codes, 'YYYY-MM' periods, counts >= 0."""
    columns = {
        "org_code": code_column("organisation code is not an ODS or ONS code"),
        "period": period_column(),
        **{c: pa.Column("Int64", pa.Check.ge(0, error="count is negative"),
                        nullable=c in nullable) for c in count_columns},
        **(extra or {}),
        "source_row": pa.Column("int64", pa.Check.ge(1)),
    }
    return pa.DataFrameSchema(columns, checks=checks or [], strict=True)


def parse_org_period_csv(
    path: Path, spec: dict, count_columns: list[str], schema: pa.DataFrameSchema,
) -> pd.DataFrame:
    """A native org x month CSV as its canonical frame (with any `optional_pattern` columns).

    Blank or suppressed counts are null (the schema says which may be); unreadable counts,
    negative counts and bad periods are all reported together in one FeedError.
    """
    path = Path(path)
    file = path.name
    spec, optional = _with_optional_columns(path, spec)
    raw = read_by_layout(path, spec)
    rows = raw["source_row"].to_numpy()
    frame = pd.DataFrame({
        "org_code": org_codes(raw["org_code"]),
        "period": periods(raw["period"], spec["period_formats"]),
    })
    problems: list[Problem] = []
    tokens = spec.get("suppression_tokens", [""])
    for column in [*count_columns, *optional]:
        frame[column], found = read_counts(raw[column], rows, file, column, tokens)
        problems += found
    frame["source_row"] = rows.astype("int64")
    refuse(file, problems, frame, schema)
    return frame


def _with_optional_columns(path: Path, spec: dict) -> tuple[dict, list[str]]:
    """The layout with the file's `optional_pattern` columns (e.g. reason_a) added as fields."""
    pattern = spec.get("optional_pattern")
    header = first_csv_row(path) if pattern else []
    extra = {h.strip().lower(): [h] for h in header
             if re.fullmatch(pattern, h.strip().lower())} if pattern else {}
    return {**spec, "aliases": {**spec["aliases"], **extra}}, list(extra)
