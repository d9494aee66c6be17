"""The payment view: quarterly shares and money under each part-achievement rule, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from kpi.payment import (
    PackageTerms,
    PartRule,
    PaymentTerms,
    earned_by_year,
    payment_view,
    quarter_end_values,
    read_payment_terms,
    share_earned,
)

# Network U1, diabetes package 2024/25: target 75%, budget 100,000, 70/30 split, so 70,000
# upfront and a 30,000 performance pot worth 7,500 a quarter.
QUARTERS = pd.DataFrame({
    "org_code": ["U1"] * 4,
    "kpi_id": ["cp_diabetes_complete"] * 4,
    "year": ["2024/25"] * 4,
    "quarter": [1, 2, 3, 4],
    "value": [70.0, 76.0, 60.0, 75.0],
    "target": [75.0] * 4,
})


def view(rule: PartRule, **kw) -> pd.DataFrame:
    terms = PaymentTerms(terms=(PackageTerms(
        kpi_id="cp_diabetes_complete", year="2024/25", budget=100_000, rule=rule, **kw),))
    return payment_view(QUARTERS, terms)


def test_all_or_nothing():
    v = view(PartRule(kind="none"))
    assert v["met"].tolist() == [False, True, False, True]
    assert v["share_earned"].tolist() == [0, 1, 0, 1]
    assert v["share_to_date"].tolist() == pytest.approx([0, 0.25, 0.25, 0.5])
    assert v["earned_to_date"].tolist() == pytest.approx([0, 7500, 7500, 15000])
    assert v["paid_to_date"].tolist() == pytest.approx([70000, 77500, 77500, 85000])
    assert v["upfront"].iloc[0] == pytest.approx(70000)


def test_pro_rata_between_floor_and_target():
    v = view(PartRule(kind="pro_rata", floor=60))
    # Q1: (70 - 60) / (75 - 60) = 2/3 of 7,500 = 5,000; Q3 at the floor earns nothing.
    assert v["share_earned"].tolist() == pytest.approx([2 / 3, 1, 0, 1])
    assert v["earned_quarter"].tolist() == pytest.approx([5000, 7500, 0, 7500])
    assert v["earned_to_date"].tolist() == pytest.approx([5000, 12500, 12500, 20000])


def test_tiers():
    v = view(PartRule(kind="tiers", tiers=((65, 0.5), (70, 0.75))))
    # Q1 reaches the 70 tier (0.75 x 7,500 = 5,625); Q2 and Q4 meet the target; Q3 reaches none.
    assert v["share_earned"].tolist() == pytest.approx([0.75, 1, 0, 1])
    assert v["earned_to_date"].tolist() == pytest.approx([5625, 13125, 13125, 20625])


def test_sixty_forty_split_and_year_specific_terms():
    terms = PaymentTerms(terms=(
        PackageTerms(kpi_id="cp_diabetes_complete", budget=50_000),
        PackageTerms(kpi_id="cp_diabetes_complete", year="2024/25", budget=100_000,
                     performance_share=0.4),
    ))
    v = payment_view(QUARTERS, terms)
    # 40,000 pot, 10,000 a quarter, all-or-nothing: Q2 and Q4 earned.
    assert v["upfront"].iloc[0] == pytest.approx(60000)
    assert v["earned_to_date"].tolist() == pytest.approx([0, 10000, 10000, 20000])
    other = QUARTERS.assign(year="2023/24")
    assert payment_view(other, terms)["budget"].iloc[0] == 50_000
    totals = earned_by_year(v)
    assert totals[["earned_to_date", "paid_to_date"]].iloc[0].tolist() == pytest.approx(
        [20000, 80000])


def test_lower_is_better_and_missing_values():
    rule = PartRule(kind="pro_rata", floor=14)
    # Target 10 (lower is better), floor 14: 12 is half way; 9 meets it; 15 earns nothing.
    got = share_earned(np.array([12.0, 9.0, 15.0, np.nan]), 10.0, rule, "lower")
    assert got[:3].tolist() == pytest.approx([0.5, 1.0, 0.0]) and np.isnan(got[3])
    with pytest.raises(ValueError, match="floor"):
        share_earned(np.array([12.0]), 10.0, PartRule(kind="pro_rata", floor=8), "lower")
    q = QUARTERS.copy()
    q.loc[1, "value"] = np.nan
    v = payment_view(q, PaymentTerms(terms=(PackageTerms(
        kpi_id="cp_diabetes_complete", budget=100_000),)))
    assert pd.isna(v["met"].iloc[1]) and np.isnan(v["share_earned"].iloc[1])
    assert v["earned_to_date"].tolist() == pytest.approx([0, 0, 0, 7500])


def test_packages_without_terms_are_left_out_and_money_needs_a_budget():
    v = payment_view(QUARTERS, PaymentTerms(terms=(PackageTerms(kpi_id="cp_cvd_complete"),)))
    assert v.empty
    v = payment_view(QUARTERS, PaymentTerms(terms=(PackageTerms(kpi_id="cp_diabetes_complete"),)))
    assert v["share_to_date"].iloc[-1] == pytest.approx(0.5)
    assert v["earned_to_date"].isna().all()


def test_quarter_ends_follow_the_financial_year():
    monthly = pd.DataFrame({
        "kpi_id": "cp_diabetes_complete", "org_code": "U1",
        "period": ["2024-03", "2024-04", "2024-06", "2024-09", "2024-12", "2025-03"],
        "value": 1.0, "target": 2.0,
    })
    q = quarter_end_values(monthly)
    assert list(zip(q["period"], q["year"], q["quarter"], strict=True)) == [
        ("2024-03", "2023/24", 4), ("2024-06", "2024/25", 1), ("2024-09", "2024/25", 2),
        ("2024-12", "2024/25", 3), ("2025-03", "2024/25", 4)]


def test_settings_are_checked(tmp_path):
    with pytest.raises(ValidationError, match="floor"):
        PartRule(kind="pro_rata")
    with pytest.raises(ValidationError, match="between 0 and 1"):
        PartRule(kind="tiers", tiers=((70, 1.5),))
    with pytest.raises(ValidationError):
        PackageTerms(kpi_id="cp_diabetes_complete", performance_share=1.3)
    with pytest.raises(ValidationError, match="cp_nothing"):
        PackageTerms(kpi_id="cp_nothing")
    path = tmp_path / "payment.toml"
    path.write_text(
        '[[terms]]\nkpi_id = "cp_copd_complete"\nyear = "2024/25"\nbudget = 9000\n'
        'rule = { kind = "tiers", tiers = [[60, 0.5]] }\n')
    (t,) = read_payment_terms(path).terms
    assert t.rule.tiers == ((60.0, 0.5),) and t.performance_share == 0.3
    path.write_text('[[terms]]\nkpi_id = "cp_nothing"\n')
    with pytest.raises(ValueError, match="payment.toml"):
        read_payment_terms(path)
