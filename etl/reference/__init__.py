"""Reference data shipped with carekpi: the ACSC diagnosis list and local-authority codes.

Sources and licences are in SOURCES.md beside this file.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources

import pandas as pd


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
    """English local authorities with social-services responsibility: ons_code, old_code, name.

    `old_code` is the three-digit code NHS England's DToC workbooks used until ONS codes arrived.
    """
    return pd.read_csv(io.StringIO(_text("local_authorities.csv")), dtype=str,
                       keep_default_na=False)


@cache
def la_code_aliases() -> dict[str, str]:
    """Old three-digit local-authority code -> ONS code (e.g. '716' -> 'E09000030')."""
    table = local_authorities()
    table = table[table["old_code"].ne("")]
    return dict(zip(table["old_code"], table["ons_code"], strict=True))


@cache
def commissioners() -> pd.DataFrame:
    """Commissioners (PCTs, CCGs) named in the MAR files: org_code, name, valid_from."""
    return pd.read_csv(io.StringIO(_text("commissioners.csv")), dtype=str, keep_default_na=False)
