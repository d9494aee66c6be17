"""Care packages feed: per practice and month, patients on each package's register and how many
have each element of the package done in the 12 months to the end of the month.

Reads the native CSV from GP clinical systems (feeds.md §3). Package and element names are kept
as given, folded to lower-case snake case (`Blood pressure` -> `blood_pressure`) so that they name
KPIs (`cp_<package>_<element>`). Layouts live in etl/layouts/care_packages.toml.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from etl.feeds.record import FactRows, Feed, Frame, TableRows, period_list
from etl.layout_reader import detect_by_layouts, read_by_layout, read_counts
from etl.layouts import layouts_for
from etl.validate import code_column, period_column, refuse

FEED = "care_packages"
COLUMNS = ["practice_code", "period", "package", "element", "register", "completed"]
COUNT_COLUMNS = ["register", "completed"]
_NAME = r"^[a-z0-9]+(_[a-z0-9]+)*$"

SCHEMA = pa.DataFrameSchema(
    {
        "practice_code": code_column("practice code is not an ODS code"),
        "period": period_column(),
        "package": pa.Column(str, pa.Check.str_matches(_NAME, error="package name is empty")),
        "element": pa.Column(str, pa.Check.str_matches(_NAME, error="element name is empty")),
        "register": pa.Column("Int64", pa.Check.ge(0, error="count is negative")),
        "completed": pa.Column("Int64", pa.Check.ge(0, error="count is negative")),
        "source_row": pa.Column(int, pa.Check.ge(1)),
    },
    # Negative counts are reported on their own; comparing them would only repeat the fault.
    checks=[pa.Check(lambda d: ~((d["completed"] > d["register"]) & (d["register"] >= 0)
                                 & (d["completed"] >= 0)).fillna(False),
                     error="completed is greater than register")],
    strict=True,
)


def detect(path: Path) -> str | None:
    """The care-packages layout whose header the file carries."""
    return detect_by_layouts(Path(path), layouts_for(FEED))


def _snake(values: pd.Series) -> pd.Series:
    """Names folded to lower-case snake case; blank stays missing (reported by the schema)."""
    text = values.astype("string").str.strip().str.lower()
    text = text.str.replace(r"[^a-z0-9]+", "_", regex=True).str.strip("_")
    return text.mask(text.eq("")).astype("str")


def parse(path: Path, layout: str) -> pd.DataFrame:
    """One row per practice x month x package x element with register and completed counts.

    Raises FeedError listing every unreadable count with the schema's findings on the rest
    (negative counts, completed above register, malformed periods, missing values).
    """
    path = Path(path)
    spec = layouts_for(FEED)[layout]
    raw = read_by_layout(path, spec)
    rows = raw["source_row"].to_numpy()
    code = raw["practice_code"].astype("string").str.strip().str.upper()
    period = raw["period"].astype("string").str.strip()
    frame = pd.DataFrame({
        "practice_code": code.mask(code.eq("")).astype("str"),
        "period": period.mask(period.eq("")).astype("str"),
        "package": _snake(raw["package"]),
        "element": _snake(raw["element"]),
    })
    problems = []
    for column in COUNT_COLUMNS:
        frame[column], found = read_counts(raw[column], rows, path.name, column,
                                           spec.get("suppression_tokens", [""]))
        problems += found
    frame["source_row"] = rows.astype("int64")
    refuse(path.name, problems, frame, SCHEMA)
    return frame


def fact_rows(frame: pd.DataFrame, _spec: dict) -> FactRows:
    """Register and completed counts, replaced per practice and month."""
    rows = frame[COLUMNS]
    return FactRows({"care_package_fact": TableRows(rows, ["practice_code", "period"])},
                    period_list(rows["period"]))


RECORD = Feed(FEED, detect, parse, (Frame(
    FEED, tuple(COLUMNS), SCHEMA, keys=("practice_code", "period", "package", "element"),
    code_column="practice_code", tables=("care_package_fact",), build=fact_rows,
    families=("care_packages",)),))
