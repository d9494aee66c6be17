"""Targets (defaults, per-organisation and per-year overrides, bad files) and RAG status."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl.problems import FeedError
from etl.targets_file import load_targets
from kpi.rag import rag, rag_frame, rag_one
from kpi.targets import financial_year, financial_years, targets_frame

CSV = """kpi_id,org_code,year,target,note
cp_diabetes_complete,,2024/25,80,area target raised for the year
cp_diabetes_complete,U00001,,70,network allowed lower
cp_diabetes_complete,U00001,2024/25,72.5,
ea_rate,,,8.0,set per area
"""


@pytest.fixture
def targets(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_text(CSV)
    return load_targets(path)


@pytest.mark.parametrize(
    ("period", "year"),
    [("2024-03", "2023/24"), ("2024-04", "2024/25"), ("2025-03", "2024/25"),
     ("1999-12", "1999/00")],
)
def test_financial_year(period, year):
    assert financial_year(period) == year
    assert financial_years(pd.Series([period])).tolist() == [year]


def test_without_a_file_the_catalogue_defaults_apply():
    t = load_targets(None)
    assert t.for_("cp_diabetes_complete", "U00001", "2024-06") == 75.0
    assert t.for_("dtoc_rate", None, "2019-01") == 9.4
    assert t.for_("ea_rate", "U00001", "2024-06") is None
    with pytest.raises(KeyError, match="nope"):
        t.for_("nope", None, "2024-06")


@pytest.mark.parametrize(
    ("org", "period", "expected"),
    [
        ("U00001", "2024-06", 72.5),  # org + year
        ("U00001", "2024-03", 70.0),  # org only (2023/24 has no org+year row)
        ("U00002", "2024-06", 80.0),  # year only
        ("U00002", "2024-03", 75.0),  # catalogue default
        (None, "2025-03", 80.0),      # the area itself, in 2024/25
    ],
)
def test_precedence(targets, org, period, expected):
    assert targets.for_("cp_diabetes_complete", org, period) == expected


def test_area_wide_override_beats_the_catalogue_default(targets):
    assert targets.for_("ea_rate", "U00009", "2020-01") == 8.0
    assert targets.for_("dtoc_rate", "U00009", "2020-01") == 9.4


def test_targets_frame_matches_the_scalar_lookup(targets):
    rows = [
        (k, o, p)
        for k in ("cp_diabetes_complete", "ea_rate", "dtoc_rate", "cp_cvd_complete")
        for o in ("U00001", "U00002", None)
        for p in ("2024-03", "2024-04", "2025-03", "2025-04")
    ]
    frame = pd.DataFrame(rows, columns=["kpi_id", "org_code", "period"], index=range(100, 148))
    got = targets.targets_frame(frame)
    expected = [targets.for_(k, o, p) for k, o, p in rows]
    assert got.index.tolist() == list(range(100, 148))
    assert got.tolist() == pytest.approx(
        [np.nan if e is None else e for e in expected], nan_ok=True)
    assert targets_frame(frame).tolist() == pytest.approx(
        [load_targets(None).for_(k, o, p) or np.nan for k, o, p in rows], nan_ok=True)


def test_bad_file_lists_every_problem_with_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "kpi_id,org_code,year,target\n"
        "ea_rate,,2024/25,8\n"
        "ea_rat,,,8\n"                      # unknown KPI
        "ea_rate,,2024/26,8\n"              # not a financial year
        "cp_diabetes_complete,,,120\n"      # percentage over 100
        "ea_rate,,,lots\n"                  # not a number
        "ea_rate,,2024-25,9\n"              # duplicate of row 2 once normalised
    )
    with pytest.raises(FeedError) as err:
        load_targets(path)
    found = {(p.row, p.column, p.value) for p in err.value.problems}
    assert found == {
        (3, "kpi_id", "ea_rat"), (4, "year", "2024/26"), (5, "target", "120"),
        (6, "target", "lots"), (7, "kpi_id", "ea_rate"),
    }
    assert "bad.csv, row 3, column 'kpi_id'" in str(err.value)
    assert "duplicate of row 2" in str(err.value)


def test_missing_and_unknown_columns(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("kpi,org_code,target\nea_rate,,8\n")
    with pytest.raises(FeedError) as err:
        load_targets(path)
    assert {(p.column, p.rule.split(" ")[0]) for p in err.value.problems} == {
        ("kpi_id", "required"), ("kpi", "unknown")}


def test_yaml_file(tmp_path):
    pytest.importorskip("yaml", reason="PyYAML not installed: YAML targets are optional")
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n  - {kpi_id: ea_rate, org_code: U1, year: 2024/25, target: 7}\n")
    assert load_targets(path).for_("ea_rate", "U1", "2024-05") == 7.0


def test_rag_by_polarity_and_tolerance():
    values = pd.Series([80.0, 75.0, 71.25, 71.2, np.nan, 50.0], index=list("abcdef"))
    targets = [75.0, 75.0, 75.0, 75.0, 75.0, np.nan]
    # Higher is better: amber down to 75 - 5% x 75 = 71.25.
    assert rag(values, targets, "higher").tolist() == [
        "green", "green", "amber", "red", None, None]
    assert rag(values, targets, "higher").index.tolist() == list("abcdef")
    # Lower is better (target 10): amber up to 10.5.
    assert rag([9.0, 10.0, 10.5, 10.6], 10.0, "lower").tolist() == [
        "green", "green", "amber", "red"]
    assert rag([9.0, 10.6], 10.0, "lower", tolerance=0.1).tolist() == ["green", "amber"]
    assert rag_one(74.0, 75.0, "higher") == "amber"
    assert rag_one(None, 75.0, "higher") is None
    assert rag_one(74.0, None, "higher") is None
    with pytest.raises(ValueError, match="polarity"):
        rag([1.0], 1.0, "up")


def test_rag_frame_takes_polarity_from_the_catalogue():
    frame = pd.DataFrame({
        "kpi_id": ["cp_diabetes_complete", "ea_rate", "reablement_home_91"],
        "value": [70.0, 7.0, 90.0],
        "target": [75.0, 8.0, 82.0],
    })
    assert rag_frame(frame).tolist() == ["red", "green", "green"]
