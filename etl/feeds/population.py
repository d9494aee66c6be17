"""Registered population feed: patients on each GP practice's list, per monthly extract.

Reads NHS Digital's "Patients Registered at a GP Practice" files: the total list size file
(gp-reg-pat-prac-all.csv; sex and age 'ALL') and the five-year age band file
(gp-reg-pat-prac-quin-age.csv), in their CCG and sub-ICB header generations. Only GP practice
rows are kept (the files may carry other organisation levels). The period is the extract month.
A list of one patient is real, not an error. Layouts live in etl/layouts/population.toml.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from etl.feeds.record import FactRows, Feed, Frame, TableRows, period_list
from etl.layout_reader import detect_by_layouts, map_unique, read_by_layout, read_counts, read_dates
from etl.layouts import layouts_for
from etl.problems import FeedError, Problem
from etl.readers import fold_label
from etl.validate import code_column, period_column, problems_at, refuse

FEED = "population"
# one row per practice x extract month x sex x age band; sex is 'M', 'F' or 'ALL', age_band
# '0_4', '5_9', ... '90_94', '95+' or 'ALL'
COLUMNS = ["practice_code", "period", "sex", "age_band", "patients"]
SEXES = ["M", "F", "ALL"]
# NHS Digital's five-year bands (AGE_GROUP_5): 0_4 ... 90_94, 95+, and ALL.
AGE_BANDS = [f"{a}_{a + 4}" for a in range(0, 95, 5)] + ["95+", "ALL"]

SCHEMA = pa.DataFrameSchema(
    {
        "practice_code": code_column("practice code is not an ODS code"),
        "period": period_column(),
        "sex": pa.Column(str, pa.Check.isin(SEXES, error="sex is not M, F or ALL")),
        "age_band": pa.Column(str, pa.Check.isin(
            AGE_BANDS, error="age band is not a five-year band (0_4 ... 95+) or ALL")),
        "patients": pa.Column("Int64", pa.Check.ge(0, error="count is negative")),
        "source_row": pa.Column(int, pa.Check.ge(1)),
    },
    strict=True,
)


def detect(path: Path) -> str | None:
    """The population layout whose header the file carries (list-size or age-band file)."""
    return detect_by_layouts(Path(path), layouts_for(FEED))


def _mapped(
    values: pd.Series, table: dict[str, str], rows: np.ndarray, file: str, column: str,
) -> tuple[pd.Series, list[Problem]]:
    """File values (sex, age band) as canonical values via the layout's table; others reported."""
    folded = {fold_label(k): v for k, v in table.items()}
    out = map_unique(values, lambda v: folded.get(fold_label(v)))
    unknown = out.isna().to_numpy(dtype=bool)
    problems = problems_at(file, f"{column} value is not one of {sorted(table)}", column,
                       rows[unknown], values.to_numpy()[unknown], 200)
    return out.astype("str"), problems


def parse(path: Path, layout: str) -> pd.DataFrame:
    """GP practices' registered patients: practice x extract month x sex x age band.

    Raises FeedError listing every unreadable cell (dates, sexes, bands, counts) with the
    schema's findings on the rest of the file.
    """
    path = Path(path)
    file = path.name
    spec = layouts_for(FEED)[layout]
    raw = read_by_layout(path, spec)
    kept_types = {fold_label(t) for t in spec.get("keep_org_types", [])}
    if kept_types:
        kept = map_unique(raw["org_type"], lambda v: fold_label(v) in kept_types)
        raw = raw[kept.fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)
        if raw.empty:
            raise FeedError(file, [Problem(
                file, f"no rows of organisation type {spec['keep_org_types']}", column="org_type")])
    rows = raw["source_row"].to_numpy()
    age_field = "age_band" if "age_band" in raw.columns else "age"

    dates, problems = read_dates(raw["extract_date"], spec["date_formats"], rows, file,
                                 "extract_date")
    period = map_unique(dates, lambda d: f"{d.year:04d}-{d.month:02d}")
    sex, found = _mapped(raw["sex"], spec["sex_values"], rows, file, "sex")
    problems += found
    age_band, found = _mapped(raw[age_field], spec["age_values"], rows, file, age_field)
    problems += found
    patients, found = read_counts(raw["patients"], rows, file, "patients",
                                  spec.get("suppression_tokens", [""]))
    problems += found
    code = raw["practice_code"].astype("string").str.strip().str.upper()
    frame = pd.DataFrame({
        "practice_code": code.mask(code.eq("")).astype("str"),
        "period": period.astype("str"),
        "sex": sex,
        "age_band": age_band,
        "patients": patients,
        "source_row": rows.astype("int64"),
    })
    refuse(file, problems, frame, SCHEMA, derived={"period": "extract_date"})
    return frame


def fact_rows(frame: pd.DataFrame, _spec: dict) -> FactRows:
    """Registered patients by sex and age band, replaced per practice and month."""
    rows = frame[COLUMNS]
    return FactRows({"population": TableRows(rows, ["practice_code", "period"])},
                    period_list(rows["period"]))


RECORD = Feed(FEED, detect, parse, (Frame(
    FEED, tuple(COLUMNS), SCHEMA, keys=("practice_code", "period", "sex", "age_band"),
    code_column="practice_code", tables=("population",), build=fact_rows,
    # registered patients are the denominator (and the standardisation base) of these
    families=("care_packages", "emergency_admissions", "length_of_stay", "delayed_transfers",
              "care_home_admissions")),))
