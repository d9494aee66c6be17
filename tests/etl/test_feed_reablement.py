"""Reablement feed: native CSV, provisional blanks, bad values and detection."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from etl.feeds import CANONICAL_COLUMNS, reablement
from etl.problems import FeedError
from etl.validate import validate_frame

HEADER = ("org_code,period,discharged_65_into_reablement,at_home_91_days,episodes_ended,"
          "no_further_support")
TODAY = date(2026, 1, 15)


def _csv(path: Path, *lines: str) -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))  # CRLF, as feeds.md allows
    return path


def test_first_submission_leaves_91_day_outcome_blank(tmp_path: Path) -> None:
    path = _csv(tmp_path / "r.csv", HEADER, "U00001,2024-01,12,,30,22", "716,2024-01,8,7,20,15")
    assert reablement.detect(path) == "native"
    frame = reablement.parse(path, "native")
    assert list(frame.columns) == [*CANONICAL_COLUMNS["reablement"], "source_row"]
    assert frame["org_code"].tolist() == ["U00001", "E09000002"]  # 716: old LA code aliased
    assert frame["at_home_91_days"].isna().tolist() == [True, False]  # provisional: null
    assert frame["discharged_65_into_reablement"].tolist() == [12, 8]
    assert validate_frame(frame, feed="reablement", file="r.csv", schema=reablement.SCHEMA,
                          today=TODAY) == []


def test_bad_values_each_reported(tmp_path: Path) -> None:
    path = _csv(tmp_path / "bad.csv", HEADER,
                "U00001,2024-01,12,x,30,22",  # text in a count
                "U00002,2024-01,5,7,3,-1",  # more at home than discharged; negative count
                "U00003,2024-01,,3,3,1")  # blank count that may not be blank
    with pytest.raises(FeedError) as caught:
        reablement.parse(path, "native")
    found = {(p.file, p.row, p.column, p.value) for p in caught.value.problems}
    assert found == {
        ("bad.csv", 2, "at_home_91_days", "x"),
        ("bad.csv", 3, "no_further_support", "-1"),
        ("bad.csv", 3, "at_home_91_days",
         "at_home_91_days=7, discharged_65_into_reablement=5"),
        ("bad.csv", 4, "discharged_65_into_reablement", None),
    }
    assert all(p.rule for p in caught.value.problems)


def test_future_period_is_a_validation_problem(tmp_path: Path) -> None:
    frame = reablement.parse(_csv(tmp_path / "f.csv", HEADER, "U00001,2099-01,12,,30,22"),
                             "native")
    [problem] = validate_frame(frame, feed="reablement", file="f.csv", schema=reablement.SCHEMA,
                               today=TODAY)
    assert (problem.row, problem.column, problem.value) == (2, "period", "2099-01")


def test_missing_column_and_unknown_layout(tmp_path: Path) -> None:
    path = _csv(tmp_path / "m.csv", HEADER.removesuffix(",no_further_support"),
                "U00001,2024-01,12,,30")
    assert reablement.detect(path) is None
    with pytest.raises(FeedError) as caught:
        reablement.parse(path, "native")
    assert [p.column for p in caught.value.problems] == ["no_further_support"]
    assert reablement.detect(_csv(tmp_path / "x.csv", "a,b", "1,2")) is None
