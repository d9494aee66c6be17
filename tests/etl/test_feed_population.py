"""Registered population feed: both NHS Digital files, both header generations, bad input."""

from __future__ import annotations

import csv
import os
from datetime import date, datetime
from pathlib import Path

import pytest

from etl.feeds import CANONICAL_COLUMNS
from etl.feeds import population as feed
from etl.problems import FeedError
from etl.validate import validate_frame
from tests.conftest import REQUIRE_REAL_DATA, require_or_skip

REAL = Path(os.environ.get(
    "CAREKPI_REAL_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"))
GP_REG_ALL = REAL / "population" / "gp-reg-pat-prac-all_2021-01.csv"
TODAY = date(2026, 6, 1)

OLD_ALL = ("PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,"
           "NUMBER_OF_PATIENTS")
NEW_ALL = ("PUBLICATION,EXTRACT_DATE,TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,CODE,"
           "POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS")
OLD_QUIN = ("PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,ORG_CODE,POSTCODE,SEX,"
            "AGE_GROUP_5,NUMBER_OF_PATIENTS")
NEW_QUIN = ("PUBLICATION,EXTRACT_DATE,ORG_TYPE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,"
            "CODE,POSTCODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS")


def write(tmp_path: Path, header: str, rows: list[str], name: str = "pop.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def problems_of(frame, file="pop.csv"):
    return validate_frame(frame, feed=feed.FEED, file=file, schema=feed.SCHEMA, today=TODAY)


@pytest.fixture
def real_gp_reg_all() -> Path:
    if not GP_REG_ALL.exists():
        require_or_skip(f"real data file absent: {GP_REG_ALL}", REQUIRE_REAL_DATA)
    return GP_REG_ALL


def test_real_list_size_file(real_gp_reg_all):
    with open(real_gp_reg_all, newline="", encoding="utf-8") as handle:
        records = [r for r in csv.DictReader(handle) if r["TYPE"] == "GP"]
    months = {datetime.strptime(r["EXTRACT_DATE"], "%d%b%Y").strftime("%Y-%m") for r in records}

    assert feed.detect(real_gp_reg_all) == "all_ccg"
    frame = feed.parse(real_gp_reg_all, "all_ccg")
    assert list(frame.columns) == CANONICAL_COLUMNS["population"] + ["source_row"]
    assert len(frame) == len(records)
    assert int(frame["patients"].sum()) == sum(int(r["NUMBER_OF_PATIENTS"]) for r in records)
    assert set(frame["period"]) == months == {"2021-01"}
    assert set(frame["sex"]) == {"ALL"} and set(frame["age_band"]) == {"ALL"}
    assert frame["practice_code"].tolist() == [r["CODE"] for r in records]
    # The first data row of the file is row 2 as a spreadsheet shows it.
    assert frame.iloc[0][["practice_code", "patients", "source_row"]].tolist() == [
        records[0]["CODE"], int(records[0]["NUMBER_OF_PATIENTS"]), 2]
    smallest = min(records, key=lambda r: int(r["NUMBER_OF_PATIENTS"]))
    assert int(frame["patients"].min()) == int(smallest["NUMBER_OF_PATIENTS"])
    assert problems_of(frame, real_gp_reg_all.name) == []


def test_new_list_size_generation(tmp_path):
    path = write(tmp_path, NEW_ALL, [
        "GP_PRAC_PAT_LIST,2026-04-01,GP,00L,E38000130,A84002,NE65 7UW,ALL,ALL,5903",
        "GP_PRAC_PAT_LIST,2026-04-01,GP,00L,E38000130,A84003,NE63 9UT,ALL,ALL,1",
    ])
    assert feed.detect(path) == "all_sub_icb"
    frame = feed.parse(path, "all_sub_icb")
    assert frame[["practice_code", "period", "sex", "age_band", "patients"]].values.tolist() == [
        ["A84002", "2026-04", "ALL", "ALL", 5903],
        ["A84003", "2026-04", "ALL", "ALL", 1],  # a list of one patient is real
    ]
    assert problems_of(frame) == []


def test_old_quin_age_generation_as_the_demo_writes_it(tmp_path):
    path = write(tmp_path, OLD_QUIN, [
        "GP_PRAC_PAT_LIST,01JAN2021,GP,00L,E38000130,A84002,NE65 7UW,MALE,0_4,120",
        "GP_PRAC_PAT_LIST,01JAN2021,GP,00L,E38000130,A84002,NE65 7UW,FEMALE,95+,3",
        "GP_PRAC_PAT_LIST,01JAN2021,GP,00L,E38000130,A84002,NE65 7UW,ALL,ALL,5903",
    ])
    assert feed.detect(path) == "quin_age_ccg"
    frame = feed.parse(path, "quin_age_ccg")
    assert frame[["sex", "age_band", "patients", "period"]].values.tolist() == [
        ["M", "0_4", 120, "2021-01"], ["F", "95+", 3, "2021-01"], ["ALL", "ALL", 5903, "2021-01"]]
    assert problems_of(frame) == []


def test_new_quin_age_generation_keeps_only_gp_rows(tmp_path):
    rows = [
        "GP_PRAC_PAT_LIST,2026-04-01,GP,15N,E38000230,L83001,EX1 1AA,FEMALE,65_69,41",
        "GP_PRAC_PAT_LIST,2026-04-01,SUB_ICB_LOCATION,15N,E38000230,15N,,FEMALE,65_69,9000",
        "GP_PRAC_PAT_LIST,2026-04-01,ICB,15N,E38000230,QJK,,ALL,ALL,1200000",
        "GP_PRAC_PAT_LIST,2026-04-01,GP,15N,E38000230,L83002,EX1 1AB,MALE,90_94,2",
    ]
    path = write(tmp_path, NEW_QUIN, rows)
    assert feed.detect(path) == "quin_age_sub_icb"
    frame = feed.parse(path, "quin_age_sub_icb")
    gp_rows = [i + 2 for i, r in enumerate(rows) if r.split(",")[2] == "GP"]
    assert frame["source_row"].tolist() == gp_rows == [2, 5]
    assert frame[["practice_code", "sex", "age_band", "patients"]].values.tolist() == [
        ["L83001", "F", "65_69", 41], ["L83002", "M", "90_94", 2]]
    assert set(frame["period"]) == {"2026-04"}


def test_text_in_count_and_unknown_values_named(tmp_path):
    path = write(tmp_path, OLD_QUIN, [
        "GP_PRAC_PAT_LIST,01JAN2021,GP,00L,E38000130,A84002,X,MALE,0_4,twelve",
        "GP_PRAC_PAT_LIST,01JAN2021,GP,00L,E38000130,A84002,X,UNKNOWN,5_9,3",
        "GP_PRAC_PAT_LIST,01JAN2021,GP,00L,E38000130,A84002,X,MALE,100+,3",
        "GP_PRAC_PAT_LIST,32JAN2021,GP,00L,E38000130,A84002,X,MALE,10_14,3",
        "GP_PRAC_PAT_LIST,01JAN2021,GP,00L,E38000130,A84002,X,MALE,15_19,-4",
    ], name="quin.csv")
    with pytest.raises(FeedError) as err:
        feed.parse(path, "quin_age_ccg")
    found = {(p.file, p.row, p.column, p.value) for p in err.value.problems}
    assert found == {
        ("quin.csv", 2, "patients", "twelve"),
        ("quin.csv", 3, "sex", "UNKNOWN"),
        ("quin.csv", 4, "age_band", "100+"),
        ("quin.csv", 5, "extract_date", "32JAN2021"),
        ("quin.csv", 6, "patients", "-4"),
    }
    assert "count is negative" in str(err.value)


def test_suppressed_count_is_missing_not_zero(tmp_path):
    path = write(tmp_path, OLD_ALL, [
        "GP_PRAC_PAT_LIST,01JAN2021,GP,00L,E38000130,A84002,X,ALL,ALL,*"])
    frame = feed.parse(path, "all_ccg")
    assert frame["patients"].isna().tolist() == [True]
    assert [(p.row, p.column, p.rule) for p in problems_of(frame)] == [
        (2, "patients", "value is missing")]


def test_future_extract_month_reported(tmp_path):
    path = write(tmp_path, NEW_ALL, [
        "GP_PRAC_PAT_LIST,2027-01-01,GP,00L,E38000130,A84002,X,ALL,ALL,10"])
    [problem] = problems_of(feed.parse(path, "all_sub_icb"))
    assert (problem.row, problem.column, problem.value) == (2, "period", "2027-01")


def test_missing_column_named(tmp_path):
    header = OLD_ALL.replace(",NUMBER_OF_PATIENTS", "")
    path = write(tmp_path, header, ["GP_PRAC_PAT_LIST,01JAN2021,GP,00L,E38000130,A84002,X,ALL,ALL"])
    assert feed.detect(path) is None
    with pytest.raises(FeedError) as err:
        feed.parse(path, "all_ccg")
    assert [(p.column, p.row) for p in err.value.problems] == [("patients", None)]


def test_renamed_header_not_in_aliases_is_no_known_layout(tmp_path):
    path = write(tmp_path, OLD_ALL.replace("NUMBER_OF_PATIENTS", "PATIENT_COUNT"), [
        "GP_PRAC_PAT_LIST,01JAN2021,GP,00L,E38000130,A84002,X,ALL,ALL,10"])
    assert feed.detect(path) is None


def test_no_gp_rows_is_a_problem(tmp_path):
    path = write(tmp_path, NEW_QUIN, [
        "GP_PRAC_PAT_LIST,2026-04-01,ICB,15N,E38000230,QJK,,ALL,ALL,1200000"])
    with pytest.raises(FeedError) as err:
        feed.parse(path, "quin_age_sub_icb")
    assert [p.column for p in err.value.problems] == ["org_type"]


@pytest.mark.parametrize("text, rule", [
    ("", "file is empty"),
    (OLD_QUIN + "\n", "file has a header but no data rows"),
])
def test_empty_and_header_only(tmp_path, text, rule):
    path = tmp_path / "pop.csv"
    path.write_text(text, encoding="utf-8")
    assert feed.detect(path) == (None if not text else "quin_age_ccg")
    with pytest.raises(FeedError) as err:
        feed.parse(path, "quin_age_ccg")
    assert [(p.file, p.rule) for p in err.value.problems] == [("pop.csv", rule)]


def test_file_in_no_known_layout(tmp_path):
    path = write(tmp_path, "practice_code,period,package,element,register,completed",
                 ["A81001,2024-01,diabetes,hba1c,5,4"])
    assert feed.detect(path) is None
