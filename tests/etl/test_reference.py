"""Reference data: the ACSC diagnosis list, local-authority codes and commissioners."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pandas as pd
import pytest
import xlrd

from etl.reference import (
    acsc_conditions,
    acsc_prefixes,
    commissioners,
    la_code_aliases,
    local_authorities,
)
from tests.conftest import REQUIRE_REAL_DATA, require_or_skip

REPO = Path(__file__).resolve().parents[2]
REAL = Path(os.environ.get("CAREKPI_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
NOV_15 = REAL / "dtoc" / "LA_DTOC_by_reason_Nov_15.xls"
MAR = REAL / "hospital" / "MAR_commissioner_Apr_12.xls"


def _need(path: Path) -> Path:
    if not path.exists():
        require_or_skip(f"real public file not present: {path}", REQUIRE_REAL_DATA)
    return path


def test_acsc_list_covers_the_chronic_conditions_of_feeds_md() -> None:
    named = {"asthma", "chronic obstructive pulmonary disease", "congestive heart failure",
             "diabetes complications", "angina", "hypertension", "atrial fibrillation and flutter",
             "convulsions and epilepsy", "dementia", "iron deficiency anaemia",
             "chronic hepatitis b"}
    assert {c.casefold() for c in acsc_conditions()["condition"]} == named
    prefixes = acsc_prefixes()
    assert len(prefixes) == len(set(prefixes)) == len(acsc_conditions())
    assert all(re.fullmatch(r"[A-Z][0-9]{2}[0-9X]?", p) for p in prefixes)


@pytest.mark.parametrize(("diagnosis", "is_acsc"), [
    ("J459", True), ("I500", True), ("I10X", True), ("E105", True), ("I48X", True),
    ("F03X", True), ("B181", True), ("D509", True),
    ("E109", False),  # diabetes without complications is not an ACSC admission
    ("D500", False), ("B182", False), ("J189", False), ("I21", False),
])
def test_acsc_prefix_matching(diagnosis: str, is_acsc: bool) -> None:
    assert diagnosis.startswith(acsc_prefixes()) is is_acsc


def test_local_authorities_table() -> None:
    table = local_authorities()
    assert list(table.columns) == ["ons_code", "old_code", "name"]
    assert table["ons_code"].str.fullmatch(r"E(06|08|09|10)\d{6}").all()
    assert table["old_code"].is_unique and table["ons_code"].is_unique
    aliases = la_code_aliases()
    assert aliases["716"] == "E09000002"  # Barking & Dagenham
    assert aliases["00KB"] == "E06000055"  # Bedford, a 2009 unitary with a four-character code


def test_aliases_agree_with_the_real_workbook() -> None:
    """Every (old code, ONS code) pair read straight from the November 2015 DToC workbook."""
    sheet = xlrd.open_workbook(str(_need(NOV_15))).sheet_by_name("LA - by responsible org")
    header = next(i for i in range(sheet.nrows) if "ONS Geography" in sheet.row_values(i))
    ons_col = sheet.row_values(header).index("ONS Geography")
    code_col = sheet.row_values(header).index("Code")
    pairs = {}
    for i in range(header + 1, sheet.nrows):
        ons = str(sheet.cell_value(i, ons_col)).strip()
        if re.fullmatch(r"E\d{8}", ons):
            pairs[str(sheet.cell_value(i, code_col)).strip()] = ons
    assert la_code_aliases() == pairs


def test_commissioners_agree_with_the_real_mar() -> None:
    sheet = xlrd.open_workbook(str(_need(MAR))).sheet_by_name("Commissioner")
    header = next(i for i in range(sheet.nrows) if "Org Code" in sheet.row_values(i))
    col = sheet.row_values(header).index("Org Code")
    codes = {str(sheet.cell_value(i, col)).strip() for i in range(header + 1, sheet.nrows)} - {""}
    assert set(commissioners()["org_code"]) == codes


def test_build_script_reproduces_the_shipped_tables() -> None:
    _need(NOV_15)
    spec = importlib.util.spec_from_file_location("build", REPO / "scripts" /
                                                  "build_la_reference.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    pd.testing.assert_frame_equal(build.local_authorities(REAL).reset_index(drop=True),
                                  local_authorities().reset_index(drop=True), check_dtype=False)
    pd.testing.assert_frame_equal(build.commissioners(REAL).reset_index(drop=True),
                                  commissioners().reset_index(drop=True), check_dtype=False)
