"""validate_frame and check_duplicates: every failure said in words, pointing at the file row."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from etl.validate import check_duplicates, validate_frame

SCHEMA = pa.DataFrameSchema(
    {
        "practice_code": pa.Column(str, nullable=False),
        "period": pa.Column(str),
        "register": pa.Column("Int64", pa.Check.ge(0, error="count is negative"), nullable=True),
        "completed": pa.Column("Int64", pa.Check.ge(0, error="count is negative"), nullable=True),
        "source_row": pa.Column(int),
    },
    checks=[pa.Check(lambda d: ~(d["completed"] > d["register"]).fillna(False),
                     error="completed is greater than register")],
)
TODAY = date(2024, 6, 15)


def frame(**over) -> pd.DataFrame:
    base = {
        "practice_code": ["A81001", "A81002", "A81003"],
        "period": ["2024-01", "2024-01", "2024-02"],
        "register": pd.array([10, 5, 0], dtype="Int64"),
        "completed": pd.array([7, 5, 0], dtype="Int64"),
        "source_row": [2, 3, 4],
    }
    base.update(over)
    return pd.DataFrame(base)


def run(f: pd.DataFrame, **kw):
    return validate_frame(f, feed="care_packages", file="cp.csv", schema=SCHEMA, today=TODAY, **kw)


def test_clean_frame_has_no_problems():
    assert run(frame()) == []


def test_negative_count_names_row_column_value():
    problems = run(frame(register=pd.array([10, -5, 0], dtype="Int64"),
                         completed=pd.array([7, -6, 0], dtype="Int64")))
    assert {(q.rule, q.row, q.column, q.value) for q in problems} == {
        ("count is negative", 3, "register", "-5"),
        ("count is negative", 3, "completed", "-6"),
    }
    assert {q.file for q in problems} == {"cp.csv"}


def test_completed_greater_than_register_reported_once_per_row():
    problems = run(frame(completed=pd.array([11, 5, None], dtype="Int64"), source_row=[7, 8, 9]))
    assert len(problems) == 1
    p = problems[0]
    assert (p.rule, p.row, p.column) == ("completed is greater than register", 7, "completed")
    assert p.value == "completed=11, register=10"


def test_missing_column_is_one_problem_without_cascade():
    problems = run(frame().drop(columns=["register"]))
    assert [(p.rule, p.column, p.row) for p in problems] == [
        ("required column is missing", "register", None)]


def test_missing_code_is_reported():
    problems = run(frame(practice_code=["A81001", None, "A81003"]))
    assert [(p.rule, p.row, p.column) for p in problems] == [
        ("value is missing", 3, "practice_code")]


@pytest.mark.parametrize("bad", ["2024-13", "2024-00", "24-01", "2024-1", "January"])
def test_period_not_a_real_month(bad):
    problems = run(frame(period=["2024-01", bad, "2024-02"]))
    assert [(p.rule, p.row, p.column) for p in problems] == [
        ("period is not a real month in YYYY-MM form", 3, "period")]


def test_missing_period_is_said_once():
    problems = run(frame(period=["2024-01", None, "2024-02"]))
    assert [(p.rule, p.row, p.column) for p in problems] == [("value is missing", 3, "period")]


def test_future_period_relative_to_today():
    # June 2024 is the current month: allowed; July 2024 is in the future.
    problems = run(frame(period=["2024-06", "2024-07", "2025-01"]))
    assert [(p.row, p.value) for p in problems] == [(3, "2024-07"), (4, "2025-01")]
    assert all(p.rule.startswith("period is in the future") for p in problems)


def test_unknown_codes_reported_per_month_never_guessed():
    reference = {"2024-01": {"A81001"}, "2024-02": {"A81003"}}
    asked: list[str] = []

    def known(period: str) -> set[str]:
        asked.append(period)
        return reference.get(period, set())

    problems = run(frame(), known_codes=known, code_column="practice_code")
    assert sorted(asked) == ["2024-01", "2024-02"]  # once per month, not per row
    assert [(p.row, p.column, p.value) for p in problems] == [(3, "practice_code", "A81002")]
    assert "2024-01" in problems[0].rule


def test_unknown_codes_not_checked_for_bad_period_rows():
    problems = run(frame(period=["2024-01", "2099-01", "2024-02"]),
                   known_codes=lambda p: {"A81001", "A81003"}, code_column="practice_code")
    assert [p.row for p in problems] == [3]  # the future period only, not also an unknown code


def test_problems_capped_per_rule_with_summary():
    n = 1000
    f = pd.DataFrame({
        "practice_code": ["A81001"] * n, "period": ["2024-01"] * n,
        "register": pd.array([-1] * n, dtype="Int64"), "completed": pd.array([0] * n, "Int64"),
        "source_row": np.arange(n) + 2,
    })
    problems = validate_frame(f, feed="x", file="f.csv", schema=SCHEMA, today=TODAY,
                              max_per_rule=50)
    negative = [p for p in problems if p.rule == "count is negative"]
    completed = [p for p in problems if p.rule == "completed is greater than register"]
    assert len(negative) == 50 and len(completed) == 50
    summaries = [p.rule for p in problems if p.rule.startswith("...")]
    assert sorted(summaries) == sorted([
        "... and 950 more row(s): count is negative",
        "... and 950 more row(s): completed is greater than register",
    ])


def test_fast_on_half_a_million_rows():
    n = 500_000
    rng = np.random.default_rng(1)
    register = rng.integers(0, 500, n)
    completed = register.copy()
    completed[::1000] += 1  # 500 rows break completed <= register
    f = pd.DataFrame({
        "practice_code": pd.array(rng.choice(["A81001", "A81002", "Z99999"], n), dtype="str"),
        "period": pd.array(rng.choice(["2024-01", "2024-02"], n), dtype="str"),
        "register": pd.array(register, dtype="Int64"),
        "completed": pd.array(completed, dtype="Int64"),
        "source_row": np.arange(n) + 2,
    })
    start = time.perf_counter()
    problems = run(f, known_codes=lambda p: {"A81001", "A81002"}, code_column="practice_code")
    elapsed = time.perf_counter() - start
    unknown = int((f["practice_code"] == "Z99999").sum())
    by_rule = pd.Series([p.rule.split(" for ")[0] for p in problems]).value_counts()
    assert by_rule["completed is greater than register"] == 200
    assert "... and 300 more row(s): completed is greater than register" in by_rule.index
    assert by_rule["code is not in the organisation reference"] == 400  # 200 per month, capped
    assert unknown > 400
    assert elapsed < 20


def test_fast_when_every_row_fails():
    n = 500_000
    f = pd.DataFrame({
        "practice_code": pd.array(["A81001"] * n, dtype="str"),
        "period": pd.array(["2099-01"] * n, dtype="str"),
        "register": pd.array(np.full(n, -1), dtype="Int64"),
        "completed": pd.array(np.zeros(n), dtype="Int64"),
        "source_row": np.arange(n) + 2,
    })
    start = time.perf_counter()
    problems = run(f)
    assert time.perf_counter() - start < 30
    assert len(problems) == 3 * 201  # negative, completed > register, future period; each capped
    assert check_duplicates(f, ["practice_code", "period"], "f.csv")[-1].rule == (
        f"... and {n - 1 - 200} more row(s) repeating an earlier key")


def test_duplicates_name_both_rows():
    f = pd.DataFrame({
        "practice_code": ["A1", "A2", "A1", "A1"], "period": ["2024-01"] * 4,
        "source_row": [2, 3, 5, 9],
    })
    problems = check_duplicates(f, ["practice_code", "period"], "f.csv")
    assert [(p.row, p.rule, p.value) for p in problems] == [
        (5, "same practice_code, period as row 2", "A1 / 2024-01"),
        (9, "same practice_code, period as row 2", "A1 / 2024-01"),
    ]
    assert check_duplicates(f.iloc[:2], ["practice_code", "period"], "f.csv") == []
