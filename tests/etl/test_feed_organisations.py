"""Organisations feed: native CSV, ODS ePCN editions, epraccur, QOF mapping; bad input."""

from __future__ import annotations

import csv
import os
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from etl.feeds import CANONICAL_COLUMNS
from etl.feeds import organisations as feed
from etl.problems import FeedError
from etl.validate import validate_frame
from tests.conftest import REQUIRE_REAL_DATA, require_or_skip

REAL = Path(os.environ.get(
    "CAREKPI_REAL_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"))
TODAY = date(2026, 6, 1)
NATIVE = ("practice_code,practice_name,network_code,network_name,place_code,place_name,"
          "system_code,system_name,valid_from,valid_to")


def real(relative: str) -> Path:
    path = REAL / relative
    if not path.exists():
        require_or_skip(f"real data file absent: {path}", REQUIRE_REAL_DATA)
    return path


def problems_of(frame, file="org.csv"):
    return validate_frame(frame, feed=feed.FEED, file=file, schema=feed.SCHEMA, today=TODAY)


def write(tmp_path: Path, text: str, name: str = "org.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- Workbooks built like other ePCN editions -----------------------------------------------

@dataclass
class Formula:
    """A formula cell with the value Excel cached for it when the workbook was last saved."""

    text: str
    cached: object


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """An xlsx whose Formula cells carry cached values (openpyxl cannot write them itself)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    cached: dict[int, dict[str, object]] = {}
    for number, (title, rows) in enumerate(sheets.items(), start=1):
        sheet = book.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(r, c)
                if isinstance(value, Formula):
                    cell.value = "=" + value.text
                    cached.setdefault(number, {})[cell.coordinate] = value.cached
                else:
                    cell.value = value
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    for number, values in cached.items():
        name = f"xl/worksheets/sheet{number}.xml"
        xml = members[name].decode()

        def fill(match: re.Match, values=values) -> str:
            ref, formula = match.group(1), match.group(2)
            value = values[ref]
            kind = ' t="str"' if isinstance(value, str) else ""
            return f'<c r="{ref}"{kind}><f>{formula}</f><v>{value}</v></c>'

        members[name] = re.sub(r'<c r="([A-Z]+\d+)"><f>(.*?)</f><v\s*/?>(?:</v>)?</c>', fill,
                               xml).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


SUB_ICB_HEADER = [
    "Partner\nOrganisation\nCode", "Partner\nName", "Practice\nParent\nSub ICB Loc\nCode",
    "Practice\nParent\nSub ICB Loc\nName", "PCN Code", "PCN Name", "PCN Parent\nSub ICB Loc\nCode",
    "PCN Parent\nSub ICB Loc\nName", "Practice to PCN\nRelationship\nStart Date",
    "Practice to PCN\nRelationship\nEnd Date",
]


def test_epcn_sub_icb_edition_with_integer_dates_formulas_and_title_block(tmp_path):
    rows = [
        ["ePCN - PCN Core Partner Details", None],
        [None],
        ["Published 2023-01-12"],
        SUB_ICB_HEADER,
        [Formula('UPPER("c85628")', "C85628"), "CAXTON HOUSE", "02P", "NHS SY ICB - 02P",
         "U16464", "BARNSLEY PCN", "02P", "NHS SY ICB - 02P", 20190701, 20200831],
        ["C85024", "HIGH STREET", "02P", "NHS SY ICB - 02P", "U16464", "BARNSLEY PCN", "02P",
         "NHS SY ICB - 02P", Formula("20190700+1", 20190701), None],
        [None],
        ["C85024", "HIGH STREET", "02P", "NHS SY ICB - 02P", Formula('"U"&"99999"', "U99999"),
         "OTHER PCN", "02P", "NHS SY ICB - 02P", 20200901, None],
    ]
    path = write_workbook(tmp_path / "epcn.xlsx", {
        "PCNDetails": [["PCN Code", "PCN Name"], ["U16464", "BARNSLEY PCN"]],
        "PCN Core Partner Details": rows,
    })
    assert feed.detect(path) == "epcn_sub_icb"
    frame = feed.parse(path, "epcn_sub_icb")
    assert list(frame.columns) == CANONICAL_COLUMNS["organisations"] + ["source_row"]
    assert frame[["practice_code", "network_code", "place_code", "valid_from", "valid_to",
                  "source_row"]].values.tolist() == [
        ["C85628", "U16464", "02P", date(2019, 7, 1), date(2020, 8, 31), 5],
        ["C85024", "U16464", "02P", date(2019, 7, 1), None, 6],
        ["C85024", "U99999", "02P", date(2020, 9, 1), None, 8],  # row 7 blank: skipped
    ]
    assert problems_of(frame, "epcn.xlsx") == []


def test_epcn_ccg_edition_with_real_excel_and_text_dates_other_sheet_name(tmp_path):
    header = ["Partner Organisation Code", "Partner Name", "Practice Parent CCG Code",
              "Practice Parent CCG Name", "PCN Code", "PCN Name",
              "Practice to PCN Relationship Start Date", "Practice to PCN Relationship End Date"]
    path = write_workbook(tmp_path / "epcn.xlsx", {"Practice to PCN core partners": [
        header,
        ["A81001", "DENSHAM", "16C", "NHS TEES VALLEY CCG", "U89141", "STOCKTON PCN",
         datetime(2019, 7, 1), datetime(2021, 3, 31)],
        ["A81002", "QUEENS PARK", "16C", "NHS TEES VALLEY CCG", "U07032", "N STOCKTON PCN",
         "2019-07-01", ""],
    ]})
    assert feed.detect(path) == "epcn_ccg"
    frame = feed.parse(path, "epcn_ccg")
    assert frame[["practice_code", "valid_from", "valid_to"]].values.tolist() == [
        ["A81001", date(2019, 7, 1), date(2021, 3, 31)], ["A81002", date(2019, 7, 1), None]]
    assert frame["place_name"].tolist() == ["NHS TEES VALLEY CCG"] * 2


def test_epcn_bad_date_and_no_matching_sheet(tmp_path):
    path = write_workbook(tmp_path / "epcn.xlsx", {"PCN Core Partner Details": [
        SUB_ICB_HEADER,
        ["C85628", "X", "02P", "Y", "U16464", "Z", "02P", "Y", "July 2019", None],
    ]})
    with pytest.raises(FeedError) as err:
        feed.parse(path, "epcn_sub_icb")
    [problem] = err.value.problems
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "epcn.xlsx", 2, "valid_from", "July 2019")

    other = write_workbook(tmp_path / "other.xlsx", {"Summary": [["Region", "Count"], ["X", 1]]})
    assert feed.detect(other) is None
    with pytest.raises(FeedError) as err:
        feed.parse(other, "epcn_ccg")
    assert err.value.problems[0].rule.startswith("no sheet named like")


def test_real_epcn_workbook():
    path = real("ods/ePCN_2022-05.xlsx")
    sheet = openpyxl.load_workbook(path, read_only=True, data_only=True)[
        "PCN Core Partner Details"]
    records = [(i, row) for i, row in enumerate(sheet.iter_rows(values_only=True), start=1)
               if i > 1 and row[0]]

    def as_date(value):
        return datetime.strptime(value, "%Y%m%d").date() if value else None

    assert feed.detect(path) == "epcn_ccg"
    frame = feed.parse(path, "epcn_ccg")
    assert len(frame) == len(records)  # one row per practice-PCN relationship
    assert frame["practice_code"].tolist() == [row[0] for _, row in records]
    assert frame["network_code"].tolist() == [row[4] for _, row in records]
    assert frame["place_code"].tolist() == [row[2] for _, row in records]
    assert frame["valid_from"].tolist() == [as_date(row[8]) for _, row in records]
    assert frame["valid_to"].tolist() == [as_date(row[9]) for _, row in records]
    assert frame["source_row"].tolist() == [i for i, _ in records]
    times = Counter(row[0] for _, row in records)
    assert int(frame["practice_code"].duplicated().sum()) == sum(n - 1 for n in times.values())
    assert problems_of(frame, path.name) == []


def test_real_epraccur_keeps_gp_practices_with_open_and_close_dates():
    path = real("ods/epraccur_2023-02_first3000.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    gp = [(i, r) for i, r in enumerate(rows, start=1) if r[25] == "4"]
    active = {r[0] for _, r in gp if r[12] == "A"}

    assert feed.detect(path) == "epraccur"
    frame = feed.parse(path, "epraccur")
    assert len(frame) == len(gp)
    assert frame["source_row"].tolist() == [i for i, _ in gp]
    by_code = frame.set_index("practice_code")
    assert by_code.loc[sorted(active), "valid_to"].isna().all()
    assert len(active) == int(frame["practice_code"].isin(active).sum())
    closed = [r for _, r in gp if r[12] == "C"]
    assert by_code.loc[[r[0] for r in closed], "valid_to"].tolist() == [
        datetime.strptime(r[11], "%Y%m%d").date() for r in closed]
    assert frame["network_code"].isna().all() and frame["system_code"].isna().all()
    assert problems_of(frame, path.name) == []


def test_real_qof_mapping():
    path = real("geography/QOF_MAPPING_NHS_GEOGRAPHIES_2021.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    practices = {r["PRACTICE_CODE"] for r in records}
    networks = {r["PCN_ODS_CODE"] for r in records}
    unallocated = [r["PRACTICE_CODE"] for r in records if r["PCN_ODS_CODE"] == "U"]

    assert feed.detect(path) == "qof_mapping_ccg"
    frame = feed.parse(path, "qof_mapping_ccg")
    assert frame["practice_code"].nunique() == len(practices) == 6571  # feeds.md §1
    assert len(networks) == 1252  # feeds.md §1, counting "U" (practices in no PCN)
    assert frame["network_code"].nunique() == len(networks - {"U"})
    no_network = frame.loc[frame["network_code"].isna(), "practice_code"].tolist()
    assert no_network == unallocated and len(unallocated) > 0
    assert frame["place_code"].nunique() == len({r["CCG_ODS_CODE"] for r in records})
    assert frame["system_code"].nunique() == len({r["STP_ODS_CODE"] for r in records})
    first = frame.iloc[0]
    assert [first[c] for c in ("practice_code", "network_code", "place_code", "system_code")] == [
        records[0][c] for c in ("PRACTICE_CODE", "PCN_ODS_CODE", "CCG_ODS_CODE", "STP_ODS_CODE")]
    assert frame["valid_from"].isna().all() and frame["valid_to"].isna().all()
    assert problems_of(frame, path.name) == []


def test_qof_mapping_sub_icb_generation(tmp_path):
    path = write(tmp_path, "\n".join([
        "REGION_ODS_CODE,ICB_ODS_CODE,ICB_ONS_CODE,ICB_NAME,SUB_ICB_LOC_ODS_CODE,"
        "SUB_ICB_LOC_ONS_CODE,SUB_ICB_LOC_NAME,PCN_ODS_CODE,PCN_NAME,PRACTICE_CODE,PRACTICE_NAME",
        "Y63,QHM,E54000050,NENC ICB,16C,E38000247,Tees Valley,U89141,Stockton PCN,A81001,Densham",
    ]) + "\n", "map.csv")
    assert feed.detect(path) == "qof_mapping_sub_icb"
    frame = feed.parse(path, "qof_mapping_sub_icb")
    assert frame.iloc[0][["practice_code", "network_code", "place_code", "system_code",
                          "system_name"]].tolist() == ["A81001", "U89141", "16C", "QHM",
                                                       "NENC ICB"]


def test_native_csv(tmp_path):
    path = write(tmp_path, "\n".join([
        NATIVE,
        "A81001,Densham,U89141,Stockton PCN,E09000030,Tower Hamlets,QMF,NEL,2019-07-01,",
        "A81002,Queens Park,U89141,Stockton PCN,716,Old code place,QMF,NEL,2019-07-01,2022-03-31",
    ]) + "\n")
    assert feed.detect(path) == "native"
    frame = feed.parse(path, "native")
    assert frame[["practice_code", "place_code", "valid_from", "valid_to", "source_row"]
                 ].values.tolist() == [
        ["A81001", "E09000030", date(2019, 7, 1), None, 2],
        ["A81002", "716", date(2019, 7, 1), date(2022, 3, 31), 3],  # code read as text
    ]
    assert problems_of(frame) == []


def test_native_bad_dates_codes_and_order(tmp_path):
    path = write(tmp_path, "\n".join([
        NATIVE,
        "A81001,X,U89141,N,716,P,QMF,S,01/07/2019,",  # row 2: not ISO
        "A8-001,X,U89141,N,716,P,QMF,S,2019-07-01,",  # row 3: not a code
        "A81003,X,U89141,N,716,P,QMF,S,2020-07-01,2019-07-01",  # row 4: ends before it starts
    ]) + "\n")
    with pytest.raises(FeedError) as err:
        feed.parse(path, "native")
    found = {(p.row, p.column, p.value) for p in err.value.problems}
    assert found == {
        (2, "valid_from", "01/07/2019"),
        (3, "practice_code", "A8-001"),
        (4, "valid_to", "valid_to=2019-07-01, valid_from=2020-07-01"),
    }
    assert "valid_to is before valid_from" in str(err.value)


def test_missing_and_renamed_columns(tmp_path):
    missing = write(tmp_path, NATIVE.replace(",valid_from", "") + "\nA81001,X,U1,N,716,P,Q,S,\n")
    assert feed.detect(missing) is None
    with pytest.raises(FeedError) as err:
        feed.parse(missing, "native")
    assert [(p.file, p.column) for p in err.value.problems] == [("org.csv", "valid_from")]
    renamed = write(tmp_path, NATIVE.replace("network_code", "pcn") + "\n", "renamed.csv")
    assert feed.detect(renamed) is None


@pytest.mark.parametrize("text, rule", [
    ("", "file is empty"),
    (NATIVE + "\r\n", "file has a header but no data rows"),
])
def test_empty_and_header_only(tmp_path, text, rule):
    path = write(tmp_path, text)
    with pytest.raises(FeedError) as err:
        feed.parse(path, "native")
    assert [(p.file, p.rule) for p in err.value.problems] == [("org.csv", rule)]


def test_files_in_no_known_layout(tmp_path):
    assert feed.detect(write(tmp_path, "a,b,c\n1,2,3\n")) is None
    assert feed.detect(write(tmp_path, "", "empty.csv")) is None
    short = write(tmp_path, '"A81001","X","Y63"\n', "short.csv")  # epraccur-like, 3 fields
    assert feed.detect(short) is None
    population = real("population/gp-reg-pat-prac-all_2021-01.csv")
    assert feed.detect(population) is None


def test_undecodable_bytes_refused_naming_the_cell(tmp_path):
    path = tmp_path / "org.csv"
    # 0x81 0x8D 0x90 are invalid UTF-8 and undefined in Windows-1252.
    path.write_bytes((NATIVE + "\n").encode() + b"A81001,Albion \x81\x8d\x90,U89141,N,716,P,QMF,"
                     b"S,2019-07-01,\n")
    assert feed.detect(path) == "native"
    with pytest.raises(FeedError) as err:
        feed.parse(path, "native")
    assert [(p.row, p.column) for p in err.value.problems] == [(2, "practice_name")]


def test_windows_1252_text_is_read(tmp_path):
    path = tmp_path / "org.csv"
    path.write_bytes((NATIVE + "\n").encode() + "A81001,St Mary’s Surgery,U89141,N,716,P,QMF,"
                     "S,2019-07-01,\n".encode("cp1252"))
    assert feed.parse(path, "native")["practice_name"].tolist() == ["St Mary’s Surgery"]


def test_epraccur_ragged_row_named(tmp_path):
    good = ",".join(f'"{v}"' for v in ["A81001", "X", "Y63", "QHM", *[""] * 6, "19740401", "",
                                       "A", "B", "16C", *[""] * 10, "4", ""])
    path = write(tmp_path, good + "\n" + good.rsplit(",", 1)[0] + "\n", "epraccur.csv")
    assert feed.detect(path) == "epraccur"
    with pytest.raises(FeedError) as err:
        feed.parse(path, "epraccur")
    assert [(p.row, p.rule) for p in err.value.problems] == [(2, "row has 26 fields, expected 27")]
