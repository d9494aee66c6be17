"""Care-home admissions feed: native CSV, bad values and detection."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from etl.feeds import CANONICAL_COLUMNS, care_home_admissions
from etl.problems import FeedError
from etl.validate import validate_frame

HEADER = "org_code,period,admissions_65_residential,admissions_65_nursing"
TODAY = date(2026, 1, 15)


def _csv(path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_native_csv(tmp_path: Path) -> None:
    path = _csv(tmp_path / "c.csv", HEADER, "U00001,2024-02,4,2", "E09000030,2024-02-01,0,1")
    assert care_home_admissions.detect(path) == "native"
    frame = care_home_admissions.parse(path, "native")
    assert list(frame.columns) == [*CANONICAL_COLUMNS["care_home_admissions"], "source_row"]
    assert frame["period"].tolist() == ["2024-02", "2024-02"]
    assert frame["admissions_65_residential"].tolist() == [4, 0]
    assert frame["source_row"].tolist() == [2, 3]
    assert validate_frame(frame, feed="care_home_admissions", file="c.csv",
                          schema=care_home_admissions.SCHEMA, today=TODAY) == []


def test_windows_1252_header_aliases(tmp_path: Path) -> None:
    header = "Org Code,Month,Residential admissions 65,Nursing admissions 65,Note"
    path = _csv(tmp_path / "w.csv", header, "U00001,2024-02,4,2,caf\u00e9", encoding="cp1252")
    assert care_home_admissions.detect(path) == "native"
    assert care_home_admissions.parse(path, "native")["admissions_65_nursing"].tolist() == [2]


def test_bad_values_each_reported(tmp_path: Path) -> None:
    path = _csv(tmp_path / "bad.csv", HEADER, "U00001,2024-02,4,2", "U00002,2024-02,-3,1",
                "U00003,2024-02,1.5,two")
    with pytest.raises(FeedError) as caught:
        care_home_admissions.parse(path, "native")
    found = {(p.file, p.row, p.column, p.value) for p in caught.value.problems}
    assert found == {("bad.csv", 3, "admissions_65_residential", "-3"),
                     ("bad.csv", 4, "admissions_65_residential", "1.5"),
                     ("bad.csv", 4, "admissions_65_nursing", "two")}


def test_renamed_header_and_unknown_layout(tmp_path: Path) -> None:
    path = _csv(tmp_path / "r.csv", HEADER.replace("admissions_65_nursing", "nursing_beds"),
                "U00001,2024-02,4,2")
    assert care_home_admissions.detect(path) is None
    with pytest.raises(FeedError) as caught:
        care_home_admissions.parse(path, "native")
    [problem] = caught.value.problems
    assert (problem.file, problem.column) == ("r.csv", "admissions_65_nursing")
    assert care_home_admissions.detect(_csv(tmp_path / "e.csv", "")) is None
