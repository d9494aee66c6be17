"""Reference data shipped with carekpi: ACSC diagnoses, local authorities and commissioners.

Sources and licences are in SOURCES.md beside this file.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources

import pandas as pd

from carekpi.periods import first_day, last_day


def _text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def acsc_prefixes() -> tuple[str, ...]:
    """ICD-10 prefixes (no dots, upper case) of the chronic ambulatory-care-sensitive conditions.

    NHS Outcomes Framework indicator 2.3.i (see acsc_icd10.csv); a primary diagnosis counts when
    it starts with one of these.
    """
    rows = csv.DictReader(io.StringIO(_text("acsc_icd10.csv")))
    return tuple(sorted({r["icd10_prefix"].strip().upper().replace(".", "") for r in rows}))


@cache
def acsc_conditions() -> pd.DataFrame:
    """The ACSC list as a table: condition, icd10_prefix, note."""
    return pd.read_csv(io.StringIO(_text("acsc_icd10.csv")), dtype=str, keep_default_na=False)


@cache
def local_authorities() -> pd.DataFrame:
    """English local authorities with social-services responsibility, across reorganisations:
    ons_code, old_code, name, valid_from, valid_to, replaced_by, source (all text).

    `old_code` is the three-digit code NHS England's DToC workbooks used until ONS codes arrived.
    A blank `valid_from` means in force before the first workbook (2010); a blank `valid_to`,
    still in force. `replaced_by` lists (';') the authorities that took over on `valid_to`.
    """
    return pd.read_csv(io.StringIO(_text("local_authorities.csv")), dtype=str,
                       keep_default_na=False)


def _valid_in(table: pd.DataFrame, period: str) -> pd.Series:
    """Rows of a reference table in force at some time in the month `period` ('YYYY-MM')."""
    start, end = first_day(period).isoformat(), last_day(period).isoformat()
    return table["valid_from"].le(end) & (table["valid_to"].eq("") | table["valid_to"].ge(start))


@cache
def authorities_in(period: str) -> dict[str, str]:
    """ONS code -> name of the authorities in force in the month `period` ('YYYY-MM')."""
    table = local_authorities()
    valid = table[_valid_in(table, period)]
    return dict(zip(valid["ons_code"], valid["name"], strict=True))


@cache
def la_code_aliases(period: str | None = None) -> dict[str, str]:
    """Old three-digit local-authority code -> ONS code (e.g. '716' -> 'E09000030').

    With `period` ('YYYY-MM'), the code in force that month (Northumberland's '104' is E06000048
    until March 2013, E06000057 after); without, the latest.
    """
    table = local_authorities()
    table = table[table["old_code"].ne("")]
    if period is not None:
        table = table[_valid_in(table, period)]
    table = table.sort_values("valid_from", kind="stable").drop_duplicates("old_code", keep="last")
    return dict(zip(table["old_code"], table["ons_code"], strict=True))


@cache
def commissioners() -> pd.DataFrame:
    """Commissioners, PCT -> CCG -> sub-ICB location, with their validity: org_code, name, kind
    ('pct', 'ccg', 'sub_icb'), ons_code, parent_code, parent_name, valid_from, valid_to, source.

    A sub-ICB location has its CCG's code, so a code appears once per kind.
    """
    return pd.read_csv(io.StringIO(_text("commissioners.csv")), dtype=str, keep_default_na=False)
