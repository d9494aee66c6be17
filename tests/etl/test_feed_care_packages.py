"""Care-packages feed: native CSV detection, parsing and every kind of bad input as Problems."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from etl.feeds import CANONICAL_COLUMNS
from etl.feeds import care_packages as feed
from etl.problems import FeedError
from etl.validate import check_duplicates, validate_frame

HEADER = "practice_code,period,package,element,register,completed"
TODAY = date(2024, 6, 30)


def write(tmp_path: Path, text: str, name: str = "cp.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def problems_of(frame: pd.DataFrame, file: str = "cp.csv"):
    return validate_frame(frame, feed=feed.FEED, file=file, schema=feed.SCHEMA, today=TODAY)


def test_native_csv_parsed_to_canonical_frame(tmp_path):
    rows = [
        ["A81001", "2024-01", "diabetes", "hba1c", "120", "101"],
        ["a81001", "2024-01", "Diabetes", "Blood pressure", "120", "118"],
        ["A81002", "2024-02", "copd", "complete", "40", "0"],
    ]
    text = HEADER + "\r\n" + "\r\n".join(",".join(r) for r in rows) + "\r\n"  # CRLF, as allowed
    path = write(tmp_path, text)
    assert feed.detect(path) == "native"
    frame = feed.parse(path, "native")
    assert list(frame.columns) == CANONICAL_COLUMNS["care_packages"] + ["source_row"]
    assert frame["practice_code"].tolist() == ["A81001", "A81001", "A81002"]
    assert frame["package"].tolist() == ["diabetes", "diabetes", "copd"]
    assert frame["element"].tolist() == ["hba1c", "blood_pressure", "complete"]
    assert frame["register"].tolist() == [int(r[4]) for r in rows]
    assert frame["completed"].tolist() == [int(r[5]) for r in rows]
    assert str(frame["register"].dtype) == "Int64"
    assert frame["source_row"].tolist() == [2, 3, 4]
    assert problems_of(frame) == []


def test_aliased_headers_in_any_order_and_windows_1252(tmp_path):
    text = "Care package,Care package element,Practice code,Month,Completed count,Register count\n"
    text += "diabetes,retinal screening,A81001,2024-03,7,9\n"
    path = tmp_path / "cp.csv"
    path.write_bytes(text.encode("cp1252"))
    assert feed.detect(path) == "native"
    frame = feed.parse(path, "native")
    assert frame.iloc[0][["practice_code", "period", "element", "register", "completed"]].tolist(
    ) == ["A81001", "2024-03", "retinal_screening", 9, 7]


def test_text_and_negative_and_excess_reported_together_with_rows(tmp_path):
    text = "\n".join([
        HEADER,
        "A81001,2024-01,diabetes,hba1c,100,ninety",  # row 2: text in a count
        "A81001,2024-01,diabetes,bmi,-3,0",  # row 3: negative
        "A81001,2024-01,diabetes,foot_surveillance,10,12",  # row 4: completed > register
        "A81001,2024-01,diabetes,smoking_status,10,2.5",  # row 5: not whole
    ]) + "\n"
    path = write(tmp_path, text)
    with pytest.raises(FeedError) as err:
        feed.parse(path, "native")
    found = {(p.file, p.row, p.column, p.value, p.rule) for p in err.value.problems}
    assert found == {
        ("cp.csv", 2, "completed", "ninety", "count is not a number"),
        ("cp.csv", 3, "register", "-3", "count is negative"),
        ("cp.csv", 4, "completed", "completed=12, register=10",
         "completed is greater than register"),
        ("cp.csv", 5, "completed", "2.5", "count is not a whole number"),
    }


def test_negative_and_excess_found_by_validation(tmp_path):
    # Every cell is readable, so parse returns the frame and validation reports the rows.
    path = write(tmp_path, f"{HEADER}\nA81001,2024-01,diabetes,hba1c,5,-1\n"
                           "A81001,2024-01,diabetes,bmi,5,6\n")
    frame = feed.parse(path, "native")
    assert [(p.row, p.column, p.value, p.rule) for p in problems_of(frame)] == [
        (2, "completed", "-1", "count is negative"),
        (3, "completed", "completed=6, register=5", "completed is greater than register"),
    ]


def test_missing_count_and_bad_period(tmp_path):
    path = write(tmp_path, f"{HEADER}\nA81001,2024-13,diabetes,hba1c,5,\n"
                           "A81001,2099-01,diabetes,bmi,5,4\n")
    frame = feed.parse(path, "native")  # nothing unreadable: the schema and validation decide
    found = {(p.row, p.column, p.rule) for p in problems_of(frame)}
    assert found == {
        (2, "completed", "value is missing"),
        (2, "period", "period is not a real month in YYYY-MM form"),
        (3, "period", "period is in the future (today is 2024-06-30)"),
    }


def test_unknown_practice_reported_not_guessed(tmp_path):
    path = write(tmp_path, f"{HEADER}\nA81001,2024-01,diabetes,hba1c,5,4\n"
                           "A81099,2024-01,diabetes,hba1c,5,4\n")
    frame = feed.parse(path, "native")
    found = validate_frame(frame, feed=feed.FEED, file="cp.csv", schema=feed.SCHEMA,
                           today=TODAY, known_codes=lambda period: {"A81001"},
                           code_column="practice_code")
    assert [(p.row, p.value) for p in found] == [(3, "A81099")]


def test_duplicate_rows_named_with_both_rows(tmp_path):
    path = write(tmp_path, f"{HEADER}\nA81001,2024-01,diabetes,hba1c,5,4\n"
                           "A81001,2024-01,diabetes,bmi,5,4\n"
                           "A81001,2024-01,Diabetes,HbA1c,6,4\n")
    frame = feed.parse(path, "native")
    [dup] = check_duplicates(frame, ["practice_code", "period", "package", "element"], "cp.csv")
    assert (dup.row, dup.rule) == (4, "same practice_code, period, package, element as row 2")


def test_missing_column_is_a_problem_naming_it(tmp_path):
    path = write(tmp_path, "practice_code,period,package,element,register\n"
                           "A81001,2024-01,diabetes,hba1c,5\n")
    assert feed.detect(path) is None
    with pytest.raises(FeedError) as err:
        feed.parse(path, "native")
    [problem] = err.value.problems
    assert (problem.column, problem.file) == ("completed", "cp.csv")
    assert problem.rule.startswith("required column is missing")


def test_renamed_header_not_in_aliases_is_no_known_layout(tmp_path):
    path = write(tmp_path, "practice_code,period,package,element,denominator,numerator\n"
                           "A81001,2024-01,diabetes,hba1c,5,4\n")
    assert feed.detect(path) is None


@pytest.mark.parametrize("text, rule", [
    ("", "file is empty"),
    (HEADER + "\n", "file has a header but no data rows"),
    (HEADER + "\n,,,,,\n", "file has a header but no data rows"),
])
def test_empty_and_header_only_files(tmp_path, text, rule):
    path = write(tmp_path, text)
    with pytest.raises(FeedError) as err:
        feed.parse(path, "native")
    assert [(p.file, p.rule) for p in err.value.problems] == [("cp.csv", rule)]


def test_other_feeds_files_are_not_care_packages(tmp_path):
    other = write(tmp_path, "org_code,period,admissions_65_residential,admissions_65_nursing\n"
                            "E09000030,2024-01,3,4\n", "cha.csv")
    assert feed.detect(other) is None
    assert feed.detect(write(tmp_path, "", "empty.csv")) is None
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"PK\x03\x04" + bytes(100))
    assert feed.detect(binary) is None


def test_ragged_row_named(tmp_path):
    path = write(tmp_path, f"{HEADER}\nA81001,2024-01,diabetes,hba1c,5\n")
    with pytest.raises(FeedError) as err:
        feed.parse(path, "native")
    assert [(p.row, p.rule) for p in err.value.problems] == [(2, "row has 5 fields, expected 6")]


def test_frame_matches_plain_csv_reading(tmp_path):
    rows = [[f"A8{i:04d}", f"2023-{m:02d}", "diabetes", e, str(50 + i), str(40 + i % 7)]
            for i in range(30) for m in (1, 2) for e in ("hba1c", "bmi")]
    path = tmp_path / "cp.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        writer.writerows(rows)
    frame = feed.parse(path, feed.detect(path))
    assert len(frame) == len(rows)
    assert int(frame["register"].sum()) == sum(int(r[4]) for r in rows)
    assert int(frame["completed"].sum()) == sum(int(r[5]) for r in rows)
    assert problems_of(frame) == []
