"""Every DToC edition loads whole: the real NHS England workbooks, the generator's workbooks, and
a 2019 national workbook naming authorities created after 2015, one the reference does not know
yet and rows that cannot be placed (set aside and reported, never refusing the file)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import xlrd
from sqlalchemy import select

from carekpi import warehouse as wh
from carekpi_demo import generate
from carekpi_demo.writers import write_dtoc_workbook
from etl.load import load_file
from etl.status import describe_status

TODAY = date(2026, 11, 1)
PSEUDO = {"-", "9900", "9901", "9902"}


def _load(engine, source: Path, tmp_path: Path):
    target = tmp_path / "inbox" / "delayed_transfers" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    return load_file(engine, target, archive=tmp_path / "archive",
                     quarantine=tmp_path / "quarantine", feed_hint="delayed_transfers",
                     today=TODAY)


def _facts(engine) -> dict[tuple[str, str], tuple]:
    t = wh.delayed_transfer_fact
    with engine.connect() as conn:
        return {(r.org_code, r.period): (r.delayed_days_nhs, r.delayed_days_social_care,
                                         r.delayed_days_both)
                for r in conn.execute(select(t))}


def _places(engine) -> dict[str, tuple]:
    o = wh.organisation
    with engine.connect() as conn:
        return {r.org_code: (r.org_name, r.open_date, r.close_date)
                for r in conn.execute(select(o).where(o.c.level == "place"))}


def _audit(engine, name: str):
    with engine.connect() as conn:
        return conn.execute(select(wh.etl_load).where(wh.etl_load.c.file_name == name)).one()


def _authority_rows(path: Path) -> list[list[object]]:
    """Rows of the 'by responsible org' sheet that are authorities, read with xlrd alone."""
    sheet = xlrd.open_workbook(str(path)).sheet_by_name("LA - by responsible org")
    header = next(i for i in range(sheet.nrows) if "Name" in sheet.row_values(i))
    code = sheet.row_values(header).index("Code")
    return [sheet.row_values(i) for i in range(header + 1, sheet.nrows)
            if str(sheet.cell_value(i, code)).strip() not in PSEUDO | {""}]


def test_every_real_dtoc_edition_loads(real_data, warehouse, tmp_path):
    editions = sorted((real_data / "dtoc").glob("*.xls*"))
    assert len(editions) == 2  # April 2011 and November 2015 (SOURCES.md)
    for path in editions:
        result = _load(warehouse, path, tmp_path)
        assert (result.status, result.problems) == ("loaded", []), path.name
        assert result.rows_loaded >= len(_authority_rows(path))
        assert _audit(warehouse, path.name).error_summary == (
            "4 row(s) that are no local authority skipped (England, residents of Wales, "
            "Scotland or outside GB)")
    facts = _facts(warehouse)
    assert len(facts) == 151 + 151
    # April 2011 names Northumberland and Gateshead by old codes: their codes of that month
    assert {("E06000048", "2011-04"), ("E08000020", "2011-04"), ("E06000057", "2015-11"),
            ("E08000037", "2015-11")} <= set(facts)
    places = _places(warehouse)
    assert places["E06000048"] == ("Northumberland", None, date(2013, 3, 31))
    assert places["E10000009"] == ("Dorset", None, date(2019, 3, 31))


def test_the_generators_workbooks_load(warehouse, tmp_path):
    """The demo's workbooks alone (no organisation file): its fictional borough is named by the
    file with an ONS code, so it becomes known with the file's name."""
    out = tmp_path / "demo"
    generate(out, scale="area", months=2, seed=3, end_month="2019-05")
    books = sorted((out / "delayed_transfers").glob("*.xlsx"))
    assert [b.name for b in books] == ["LA_DTOC_Apr_19.xlsx", "LA_DTOC_May_19.xlsx"]
    for book in books:
        result = _load(warehouse, book, tmp_path)
        # six authorities, each with a delayed-days row and ten reason rows
        assert (result.status, result.problems, result.rows_loaded) == ("loaded", [], 6 * 11)
    assert "E09000099 Hartwell" in _audit(warehouse, books[0].name).error_summary
    assert _places(warehouse)["E09000099"] == ("Hartwell", None, None)
    assert {c for c, _ in _facts(warehouse)} == {"E09000099", "E09000012", "E09000019",
                                                  "E09000025", "E09000030", "E09000031"}


def _row(ons: str, code: str, name: str, nhs: int, social: int, both: int) -> dict[str, object]:
    return {"region": "South West", "ons": ons, "code": code, "name": name, "nhs": nhs,
            "social_care": social, "both": both, "acute": nhs + social + both, "non_acute": 0,
            "reason_a": nhs + social + both, "reason_b": 0, "reason_c": 0, "reason_di": 0,
            "reason_dii": 0, "reason_e": 0, "reason_f": 0, "reason_g": 0, "reason_h": 0,
            "reason_i": 0}


NATIONAL_2019 = [
    _row("-", "-", "England", 1000, 500, 100),
    _row("E06000058", "", "Bournemouth, Christchurch and Poole", 412, 130, 25),
    _row("E06000059", "", "Dorset", 298, 201, 14),
    _row("E09000003", "717", "Barnet", 520, 96, 31),
    _row("E06000070", "", "Example Vale", 40, 12, 3),  # created after the reference was built
    _row("E10000009", "809", "Dorset County", 7, 0, 0),  # abolished on 31 March 2019
    _row("", "999", "Nowhere Borough", 5, 1, 0),  # an old code the reference never had
    _row("-", "9900", "Resident In Wales", 8, 1, 0),
]


def _excel_rows(path: Path) -> dict[str, int]:
    """Name -> Excel row number in the 'by responsible org' sheet, read with openpyxl alone."""
    sheet = openpyxl.load_workbook(path, read_only=True)["LA - by responsible org"]
    return {str(row[4].value): row[4].row for row in sheet.iter_rows(min_col=1, max_col=5)
            if row[4].value is not None and hasattr(row[4], "row")}


@pytest.fixture
def national_2019(tmp_path) -> Path:
    path = tmp_path / "LA_DTOC_May_19.xlsx"
    write_dtoc_workbook(path, "2019-05", NATIONAL_2019)
    return path


def test_a_2019_national_workbook_loads_with_its_authorities_named(warehouse, national_2019,
                                                                   tmp_path, settings):
    excel_row = _excel_rows(national_2019)
    result = _load(warehouse, national_2019, tmp_path)
    assert result.status == "loaded"
    said = {(p.row, p.column, p.value, p.rule) for p in result.problems}
    assert said == {
        (excel_row["Dorset County"], "org_code", "E10000009",
         "authority E10000009 (Dorset) is not in force in 2019-05: the reference has it from "
         "before 2010 to 2019-03-31, replaced by E06000059"),
        (excel_row["Nowhere Borough"], "org_code", "999",
         "code is not in the organisation reference for 2019-05, and the file gives no ONS "
         "authority code and name for it"),
    }
    assert _facts(warehouse) == {
        ("E06000058", "2019-05"): (412, 130, 25), ("E06000059", "2019-05"): (298, 201, 14),
        ("E09000003", "2019-05"): (520, 96, 31), ("E06000070", "2019-05"): (40, 12, 3)}
    places = _places(warehouse)
    assert places["E06000058"] == ("Bournemouth, Christchurch and Poole", date(2019, 4, 1), None)
    assert places["E06000059"] == ("Dorset", date(2019, 4, 1), None)
    assert places["E06000070"] == ("Example Vale", None, None)  # the file's name
    audit = _audit(warehouse, national_2019.name)
    assert (audit.status, audit.rows_read, audit.rows_refused) == ("loaded", 6, 2)
    assert audit.error_summary.startswith(
        "2 row(s) that are no local authority skipped (England, residents of Wales, Scotland or "
        "outside GB); 1 authority(ies) new to the reference, named by the file, added: "
        "E06000070 Example Vale; 2 row(s) set aside (see the report): ")
    assert f"row {excel_row['Nowhere Borough']}, column 'org_code'" in audit.error_summary
    report = next((tmp_path / "archive").glob("*LA_DTOC_May_19.xlsx.report.txt"))
    assert "Loaded, with 2 row(s) set aside" in report.read_text()
    shown = describe_status(warehouse, settings).splitlines()
    assert f"      {audit.error_summary}" in shown  # what `carekpi etl status` prints


def test_a_2019_edition_with_an_average_per_day_block(warehouse, tmp_path):
    """Later editions repeat NHS / Social Care / Both as delayed beds per day: the first block,
    delayed days, is the one loaded."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "LA - by responsible org"
    sheet["B2"], sheet["C2"] = "Title:", "Delayed Transfers of Care, England"
    sheet["B5"], sheet["C5"] = "Period:", "November 2019"
    labels = ["Region", "ONS Geography", "Code", "Name", "NHS", "Social Care", "Both", "Total",
              "NHS", "Social Care", "Both", "Total"]
    rows = [["-", "-", "-", "England", 90, 60, 30, 180, 3.0, 2.0, 1.0, 6.0],
            ["South West", "E06000058", "", "Bournemouth, Christchurch and Poole", 60, 30, 0, 90,
             2.0, 1.0, 0.0, 3.0],
            ["South West", "E06000059", "", "Dorset", 30, 30, 30, 90, 1.0, 1.0, 1.0, 3.0]]
    for j, label in enumerate(labels, start=2):
        sheet.cell(row=14, column=j, value=label)
    for i, row in enumerate(rows, start=15):
        for j, value in enumerate(row, start=2):
            sheet.cell(row=i, column=j, value=value)
    path = tmp_path / "LA_DTOC_Nov_19.xlsx"
    book.save(path)
    result = _load(warehouse, path, tmp_path)
    assert (result.status, result.problems) == ("loaded", [])
    assert _facts(warehouse) == {("E06000058", "2019-11"): (60, 30, 0),
                                 ("E06000059", "2019-11"): (30, 30, 30)}
    assert _places(warehouse)["E06000059"] == ("Dorset", date(2019, 4, 1), None)
