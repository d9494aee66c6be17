"""Reference data: the ACSC diagnosis list, local-authority codes and commissioners."""

from __future__ import annotations

import csv
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
    authorities_in,
    commissioners,
    la_code_aliases,
    local_authorities,
)
from tests.conftest import REQUIRE_REAL_DATA, require_or_skip

REPO = Path(__file__).resolve().parents[2]
REAL = Path(os.environ.get("CAREKPI_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
NOV_15 = REAL / "dtoc" / "LA_DTOC_by_reason_Nov_15.xls"
MAR = REAL / "hospital" / "MAR_commissioner_Apr_12.xls"
QOF_GEOGRAPHY = REAL / "geography" / "QOF_MAPPING_NHS_GEOGRAPHIES_2021.csv"
EPRACCUR = REAL / "ods" / "epraccur_2023-02_first3000.csv"


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
    assert list(table.columns) == ["ons_code", "old_code", "name", "valid_from", "valid_to",
                                   "replaced_by", "source"]
    assert table["ons_code"].str.fullmatch(r"E(06|08|09|10)\d{6}").all()
    assert table["ons_code"].is_unique
    assert table["source"].ne("").all()
    # an old code names one authority at a time (Northumberland's 104: recoded in 2013)
    for month in ("2011-04", "2015-11", "2019-04", "2023-04"):
        in_force = table[table["ons_code"].isin(authorities_in(month))]
        with_old = in_force[in_force["old_code"].ne("")]
        assert with_old["old_code"].is_unique, month
    aliases = la_code_aliases()
    assert aliases["716"] == "E09000002"  # Barking & Dagenham
    assert aliases["00KB"] == "E06000055"  # Bedford, a 2009 unitary with a four-character code
    assert la_code_aliases("2011-04")["104"] == "E06000048"
    assert la_code_aliases("2015-11")["104"] == aliases["104"] == "E06000057"


# (code, name, in force from, the authorities it replaced), as the brief of issue 12 and the ONS
# register give them.
REORGANISED = [
    ("E06000058", "Bournemouth, Christchurch and Poole", "2019-04-01",
     {"E06000028", "E06000029"}),
    ("E06000059", "Dorset", "2019-04-01", {"E10000009"}),
    ("E06000060", "Buckinghamshire", "2020-04-01", {"E10000002"}),
    ("E06000061", "North Northamptonshire", "2021-04-01", {"E10000021"}),
    ("E06000062", "West Northamptonshire", "2021-04-01", {"E10000021"}),
    ("E06000063", "Cumberland", "2023-04-01", {"E10000006"}),
    ("E06000064", "Westmorland and Furness", "2023-04-01", {"E10000006"}),
    ("E06000065", "North Yorkshire", "2023-04-01", {"E10000023"}),
    ("E06000066", "Somerset", "2023-04-01", {"E10000027"}),
]


@pytest.mark.parametrize(("code", "name", "start", "replaced"), REORGANISED)
def test_reorganised_authorities_have_validity_dates(code, name, start, replaced) -> None:
    table = local_authorities().set_index("ons_code")
    assert (table.loc[code, "name"], table.loc[code, "valid_from"]) == (name, start)
    assert table.loc[code, "valid_to"] == ""
    day_before = (pd.Timestamp(start) - pd.Timedelta(days=1)).date().isoformat()
    for gone in replaced:
        assert table.loc[gone, "valid_to"] == day_before
        assert code in table.loc[gone, "replaced_by"].split(";")
    month, before = start[:7], day_before[:7]
    assert code in authorities_in(month) and code not in authorities_in(before)
    assert not replaced & set(authorities_in(month)) and replaced <= set(authorities_in(before))
    assert authorities_in(month)[code] == name


def test_authorities_in_force_each_april() -> None:
    """151 in the 2015 workbook; then each reorganisation's abolitions and creations."""
    counts = {m: len(authorities_in(m)) for m in
              ("2015-11", "2019-03", "2019-04", "2020-04", "2021-04", "2023-03", "2023-04")}
    assert counts == {"2015-11": 151, "2019-03": 151, "2019-04": 151 - 3 + 2,
                      "2020-04": 150 - 1 + 1, "2021-04": 150 - 1 + 2, "2023-03": 151,
                      "2023-04": 151 - 3 + 4}


def test_authorities_in_force_in_2015_are_the_workbooks() -> None:
    sheet = xlrd.open_workbook(str(_need(NOV_15))).sheet_by_name("LA - by responsible org")
    header = next(i for i in range(sheet.nrows) if "ONS Geography" in sheet.row_values(i))
    ons_col = sheet.row_values(header).index("ONS Geography")
    name_col = sheet.row_values(header).index("Name")
    named = {str(sheet.cell_value(i, ons_col)).strip(): str(sheet.cell_value(i, name_col)).strip()
             for i in range(header + 1, sheet.nrows)
             if re.fullmatch(r"E\d{8}", str(sheet.cell_value(i, ons_col)).strip())}
    assert authorities_in("2015-11") == named


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
    table = commissioners()
    pcts = table[table["kind"] == "pct"]
    assert set(pcts["org_code"]) == codes
    assert set(pcts["valid_to"]) == {"2013-03-31"}  # PCTs were abolished on 31 March 2013


def test_ccgs_and_sub_icb_locations_agree_with_the_real_files() -> None:
    with open(_need(QOF_GEOGRAPHY), newline="", encoding="utf-8") as handle:
        ccgs = {r["CCG_ODS_CODE"]: (r["CCG_ONS_CODE"], r["CCG_NAME"])
                for r in csv.DictReader(handle)}
    with open(_need(EPRACCUR), newline="", encoding="utf-8") as handle:
        icb = {r[14]: r[3] for r in csv.reader(handle) if r[25] == "4" and r[12] == "A"}
    table = commissioners()
    april_2021 = table[(table["kind"] == "ccg") & (table["valid_to"] == "2022-06-30")]
    assert dict(zip(april_2021["org_code"], zip(april_2021["ons_code"], april_2021["name"],
                                                 strict=True), strict=True)) == ccgs
    assert len(ccgs) == 106
    sub_icb = table[table["kind"] == "sub_icb"].set_index("org_code")
    assert set(sub_icb.index) == set(ccgs)  # sub-ICB locations kept their CCG's code
    assert set(sub_icb["valid_from"]) == {"2022-07-01"}
    assert sub_icb.loc[list(icb), "parent_code"].to_dict() == icb
    assert icb["02Q"] == "QT1"  # Bassetlaw moved to Nottingham and Nottinghamshire ICB in 2022
    merged = table[(table["kind"] == "ccg") & (table["valid_to"] == "2021-03-31")]
    assert not set(merged["org_code"]) & set(ccgs)


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
