"""Delayed transfers feed: NHS England LA workbooks (.xls editions, .xlsx) and the native CSV."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
import xlrd
from openpyxl import Workbook

from etl.feeds import CANONICAL_COLUMNS
from etl.feeds import delayed_transfers as dtoc
from etl.problems import FeedError
from etl.reference import la_code_aliases, local_authorities
from etl.validate import validate_frame
from tests.conftest import REQUIRE_REAL_DATA, require_or_skip

REPO = Path(__file__).resolve().parents[2]
REAL = Path(os.environ.get("CAREKPI_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
APRIL_11 = REAL / "dtoc" / "LA_DTOC_by_reason_April_11.xls"
NOV_15 = REAL / "dtoc" / "LA_DTOC_by_reason_Nov_15.xls"
TODAY = date(2026, 1, 15)
PSEUDO = {"9900", "9901", "9902"}


def _need(path: Path) -> Path:
    if not path.exists():
        require_or_skip(f"real public file not present: {path}", REQUIRE_REAL_DATA)
    return path


def _sheet_rows(path: Path, sheet: str) -> tuple[list[str], list[list[object]]]:
    """Header labels and the rows below them of one sheet, read with xlrd (no carekpi code)."""
    book = xlrd.open_workbook(str(path)).sheet_by_name(sheet)
    for i in range(book.nrows):
        labels = [str(v).strip() for v in book.row_values(i)]
        if "Name" in labels and ("NHS" in labels or "TOTAL" in labels):
            return labels, [book.row_values(j) for j in range(i + 1, book.nrows)]
    raise AssertionError("no header row")


def _authority(path: Path, sheet: str, name: str) -> dict[str, object]:
    labels, rows = _sheet_rows(path, sheet)
    row = next(r for r in rows if str(r[labels.index("Name")]).strip() == name)
    return dict(zip(labels, row, strict=True))


def _known(_period: str) -> set[str]:
    """Every local authority in the reference, whatever the month."""
    return set(local_authorities()["ons_code"])


@pytest.mark.parametrize(("path", "name"), [(APRIL_11, "Barnet"), (NOV_15, "Derby UA")])
def test_real_workbook_delayed_days_for_a_named_authority(path: Path, name: str) -> None:
    path = _need(path)
    assert dtoc.detect(path) == "la_workbook"
    frame = dtoc.parse(path, "la_workbook")
    assert list(frame.columns[:5]) == CANONICAL_COLUMNS["delayed_transfers"]
    want = _authority(path, "LA - by responsible org", name)
    # The file's ONS code where it has one, else its old code through the alias table.
    ons = want.get("ONS Geography") or la_code_aliases()[str(want["Code"]).strip()]
    row = frame.set_index("org_code").loc[ons]
    assert row["delayed_days_nhs"] == int(want["NHS"])
    assert row["delayed_days_social_care"] == int(want["Social Care"])
    assert row["delayed_days_both"] == int(want["Both"])
    reasons = _authority(path, "LA - by reason", name)
    assert row["reason_a"] == int(reasons["A) COMPLETION OF ASSESSMENT"])
    assert row["reason_dii"] == int(reasons["DII) AWAITING NURSING HOME PLACEMENT OR AVAILABILITY"])
    assert validate_frame(frame, feed="delayed_transfers", file=path.name, schema=dtoc.SCHEMA,
                          today=TODAY, known_codes=_known,
                          code_column="org_code") == []


@pytest.mark.parametrize(("path", "period"), [(APRIL_11, "2011-04"), (NOV_15, "2015-11")])
def test_real_workbook_rows_england_and_pseudo_authorities(path: Path, period: str) -> None:
    path = _need(path)
    frame = dtoc.parse(path, "la_workbook")
    labels, rows = _sheet_rows(path, "LA - by responsible org")
    code, name = labels.index("Code"), labels.index("Name")
    authorities = [r for r in rows if str(r[code]).strip() not in PSEUDO | {"-", ""}]
    assert len(frame) == len(authorities) == frame["org_code"].nunique()
    assert set(frame["period"]) == {period}
    assert all(c.startswith("E") and len(c) == 9 for c in frame["org_code"])
    # England and the pseudo-authorities (Wales, Scotland, outside GB) are skipped; England's
    # row is the authorities' delayed days plus theirs.
    england = next(r for r in rows if str(r[name]).strip() == "England")
    pseudo = sum(int(r[labels.index("Total")]) for r in rows if str(r[code]).strip() in PSEUDO)
    total = frame[["delayed_days_nhs", "delayed_days_social_care", "delayed_days_both"]].sum()
    assert int(total.sum()) + pseudo == int(england[labels.index("Total")])
    # Reasons are the same delayed days split another way.
    reason_columns = [c for c in frame.columns if c.startswith("reason_")]
    assert reason_columns == ["reason_a", "reason_b", "reason_c", "reason_di", "reason_dii",
                              "reason_e", "reason_f", "reason_g", "reason_h", "reason_i"]
    assert int(frame[reason_columns].sum().sum()) == int(total.sum())


# --- xlsx in the LA workbook layout ----------------------------------------------------------

def _workbook(path: Path, *, header_at: int = 14, labels: list[str] | None = None,
              rows: list[list[object]] | None = None) -> Path:
    labels = labels or ["Region", "ONS Geography", "Code", "Name", "NHS", "Social Care", "Both",
                        "Total"]
    rows = rows if rows is not None else [
        ["-", "-", "-", "England", 60, 25, 5, 90],
        [],
        ["London", "E09000002", "716", "Barking & Dagenham", 40, "NA", 3, 43],
        ["London", "", "717", "Barnet", 20, 25, 2, 47],
        ["-", "-", "9900", "Resident In Wales", 7, 1, 0, 8],
        ["Source: Unify2 (footnote)"],
    ]
    book = Workbook()
    sheet = book.active
    sheet.title = "LA - by responsible org"
    sheet.cell(row=2, column=2, value="Title:")
    sheet.cell(row=2, column=3, value="Delayed Transfer of Care, NHS Organisations, England")
    sheet.cell(row=5, column=2, value="Period:")
    sheet.cell(row=5, column=3, value="March 2016")
    for j, label in enumerate(labels, start=2):
        sheet.cell(row=header_at, column=j, value=label)
    for i, row in enumerate(rows, start=header_at + 1):
        for j, value in enumerate(row, start=2):
            sheet.cell(row=i, column=j, value=value)
    book.save(path)
    return path


def test_xlsx_in_la_layout(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "delays.xlsx")
    assert dtoc.detect(path) == "la_workbook"
    frame = dtoc.parse(path, "la_workbook")
    assert frame["org_code"].tolist() == ["E09000002", "E09000003"]  # 717 via the alias table
    assert frame["period"].tolist() == ["2016-03", "2016-03"]
    assert frame["delayed_days_nhs"].tolist() == [40, 20]
    assert frame["delayed_days_social_care"].isna().tolist() == [True, False]  # NA -> null
    assert frame["source_row"].tolist() == [17, 18]  # rows as Excel numbers them
    assert validate_frame(frame, feed="delayed_transfers", file="delays.xlsx",
                          schema=dtoc.SCHEMA, today=TODAY) == []


def test_xlsx_header_moved_and_renamed_is_refused(tmp_path: Path) -> None:
    labels = ["Region", "ONS Geography", "Code", "Council", "Health", "Adult Services", "Both",
              "Total"]
    path = _workbook(tmp_path / "moved.xlsx", header_at=21, labels=labels)
    # titled as a DToC workbook: taken for the layout, so the refusal names the missing labels
    assert dtoc.detect(path) == "la_workbook"
    with pytest.raises(FeedError) as caught:
        dtoc.parse(path, "la_workbook")
    [problem] = caught.value.problems
    assert problem.file == "moved.xlsx"
    assert "'Name', 'NHS', 'Social Care', 'Both'" in problem.rule


def test_xlsx_text_and_negative_counts_reported(tmp_path: Path) -> None:
    rows = [["London", "E09000002", "716", "Barking & Dagenham", "forty", 3, -2, 43]]
    path = _workbook(tmp_path / "bad.xlsx", rows=rows)
    with pytest.raises(FeedError) as caught:
        dtoc.parse(path, "la_workbook")
    found = {(p.file, p.row, p.column, p.value) for p in caught.value.problems}
    assert found == {("bad.xlsx", 15, "delayed_days_nhs", "forty"),
                     ("bad.xlsx", 15, "delayed_days_both", "-2")}


# --- native CSV --------------------------------------------------------------------------------

HEADER = "org_code,period,delayed_days_nhs,delayed_days_social_care,delayed_days_both"


def _csv(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_native_csv_with_reasons_and_old_codes(tmp_path: Path) -> None:
    path = _csv(tmp_path / "d.csv", HEADER + ",reason_a,Reason_DII",
                "U00001,2024-03,80,35,7,100,22", "716,2024-03,1,2,3,,6")
    assert dtoc.detect(path) == "native"
    frame = dtoc.parse(path, "native")
    assert list(frame.columns) == [*CANONICAL_COLUMNS["delayed_transfers"], "reason_a",
                                   "reason_dii", "source_row"]
    assert frame["org_code"].tolist() == ["U00001", "E09000002"]
    assert frame["reason_a"].isna().tolist() == [False, True]
    assert frame["reason_dii"].tolist() == [22, 6]
    assert validate_frame(frame, feed="delayed_transfers", file="d.csv", schema=dtoc.SCHEMA,
                          today=TODAY) == []


def test_native_csv_bad_values_each_reported(tmp_path: Path) -> None:
    path = _csv(tmp_path / "bad.csv", HEADER, "U00001,2024-03,eighty,35,7",
                "U00002,2024-03,5,-1,0", "U00003,2024-13,1,1,1")
    with pytest.raises(FeedError) as caught:
        dtoc.parse(path, "native")
    found = {(p.file, p.row, p.column, p.value) for p in caught.value.problems}
    assert found == {("bad.csv", 2, "delayed_days_nhs", "eighty"),
                     ("bad.csv", 3, "delayed_days_social_care", "-1"),
                     ("bad.csv", 4, "period", "2024-13")}
    assert all(p.rule for p in caught.value.problems)


def test_native_csv_missing_and_renamed_columns(tmp_path: Path) -> None:
    missing = _csv(tmp_path / "m.csv", HEADER.removesuffix(",delayed_days_both"),
                   "U00001,2024-03,1,2")
    renamed = _csv(tmp_path / "r.csv", HEADER.replace("delayed_days_nhs", "health_days"),
                   "U00001,2024-03,1,2,3")
    for path, column in ((missing, "delayed_days_both"), (renamed, "delayed_days_nhs")):
        assert dtoc.detect(path) is None
        with pytest.raises(FeedError) as caught:
            dtoc.parse(path, "native")
        [problem] = caught.value.problems
        assert (problem.file, problem.column) == (path.name, column)


def test_unknown_layouts(tmp_path: Path) -> None:
    assert dtoc.detect(_csv(tmp_path / "x.csv", "station,date,rain", "a,2024-01-01,3")) is None
    book = Workbook()
    book.active["A1"] = "nothing here"
    book.save(tmp_path / "x.xlsx")
    assert dtoc.detect(tmp_path / "x.xlsx") is None
