"""Rolling practice-month counts up through the membership valid in each month."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from kpi.rollup import RollupError, assign_parents, rollup, rollup_levels

# P3 moves from N1 to N2 on 15 February; P4 closes on 20 February; P5 opens on 10 February.
MEMBERSHIP = pd.DataFrame(
    [
        ("P1", "N1", date(2020, 1, 1), None),
        ("P2", "N2", date(2020, 1, 1), None),
        ("P3", "N1", date(2020, 1, 1), date(2024, 2, 14)),
        ("P3", "N2", date(2024, 2, 15), None),
        ("P4", "N1", date(2020, 1, 1), date(2024, 2, 20)),
        ("P5", "N2", date(2024, 2, 10), None),
    ],
    columns=["child_code", "parent_code", "valid_from", "valid_to"],
)

# (practice, period, emergency_admissions, registered_patients)
FACTS = [
    ("P1", "2024-01", 10, 1000), ("P1", "2024-02", 11, 1000), ("P1", "2024-03", 12, 1010),
    ("P2", "2024-01", 20, 2000), ("P2", "2024-02", 21, 2000), ("P2", "2024-03", 22, 2000),
    ("P3", "2024-01", 30, 3000), ("P3", "2024-02", 31, 3000), ("P3", "2024-03", 32, 3000),
    ("P4", "2024-01", 40, 4000), ("P4", "2024-02", 41, 4000),
    ("P5", "2024-02", 5, 500), ("P5", "2024-03", 6, 600),
]


def facts() -> pd.DataFrame:
    return pd.DataFrame(
        FACTS, columns=["practice_code", "period", "emergency_admissions", "registered_patients"]
    ).astype({"emergency_admissions": "Int64", "registered_patients": "Int64"})


def test_moving_opening_and_closing_practices():
    got = rollup(facts(), MEMBERSHIP, measures=["emergency_admissions", "registered_patients"])
    # Expected by hand, month by month, from who was where on the 1st:
    #  Jan: N1 = P1 + P3 + P4, N2 = P2.  Feb: P3 still N1 on 1 Feb; P4 closes 20 Feb (counts);
    #  P5 opens 10 Feb: its first month goes to N2.  Mar: P3 in N2, P4 gone.
    expected = {
        ("N1", "2024-01"): (10 + 30 + 40, 1000 + 3000 + 4000),
        ("N2", "2024-01"): (20, 2000),
        ("N1", "2024-02"): (11 + 31 + 41, 1000 + 3000 + 4000),
        ("N2", "2024-02"): (21 + 5, 2000 + 500),
        ("N1", "2024-03"): (12, 1010),
        ("N2", "2024-03"): (22 + 32 + 6, 2000 + 3000 + 600),
    }
    assert list(got.columns) == [
        "parent_code", "period", "emergency_admissions", "registered_patients"]
    rows = {(r.parent_code, r.period): (r.emergency_admissions, r.registered_patients)
            for r in got.itertuples()}
    assert rows == expected
    # Nothing lost: the totals are those of the practices.
    assert got["emergency_admissions"].sum() == sum(f[2] for f in FACTS)


def test_breakdown_columns_are_kept_as_keys_and_rate_is_ratio_of_sums():
    f = facts().assign(sex="F")
    f = pd.concat([f, facts().assign(sex="M", emergency_admissions=1)], ignore_index=True)
    got = rollup(f, MEMBERSHIP, measures=["emergency_admissions", "registered_patients"],
                 by=["sex"])
    assert list(got.columns)[:3] == ["parent_code", "period", "sex"]
    jan_n1_m = got[(got.parent_code == "N1") & (got.period == "2024-01") & (got.sex == "M")]
    assert jan_n1_m["emergency_admissions"].item() == 3  # P1, P3, P4 one each
    # The network rate is sum/sum, not the mean of the practices' rates.
    jan_n1 = got[(got.parent_code == "N1") & (got.period == "2024-01") & (got.sex == "F")]
    assert jan_n1.emergency_admissions.item() / jan_n1.registered_patients.item() == 80 / 8000


def test_a_missing_child_value_makes_the_parent_missing():
    f = facts()
    f.loc[(f.practice_code == "P2") & (f.period == "2024-01"), "emergency_admissions"] = pd.NA
    got = rollup(f, MEMBERSHIP, measures=["emergency_admissions", "registered_patients"])
    n2_jan = got[(got.parent_code == "N2") & (got.period == "2024-01")]
    assert pd.isna(n2_jan.emergency_admissions.item())
    assert n2_jan.registered_patients.item() == 2000


def test_facts_after_closure_are_reported_or_dropped():
    f = pd.concat([facts(), pd.DataFrame(
        [("P4", "2024-03", 1, 4000)], columns=facts().columns)], ignore_index=True)
    with pytest.raises(RollupError, match="P4"):
        rollup(f, MEMBERSHIP, measures=["emergency_admissions", "registered_patients"])
    got = rollup(f, MEMBERSHIP, measures=["emergency_admissions", "registered_patients"],
                 unmatched="drop")
    assert got["emergency_admissions"].sum() == sum(x[2] for x in FACTS)


def test_a_column_neither_measure_nor_key_is_refused():
    with pytest.raises(RollupError, match="registered_patients"):
        rollup(facts(), MEMBERSHIP, measures=["emergency_admissions"])


def test_overlapping_memberships_are_refused():
    bad = pd.concat([MEMBERSHIP, pd.DataFrame(
        [("P1", "N2", date(2024, 1, 1), None)], columns=MEMBERSHIP.columns)])
    with pytest.raises(RollupError, match="overlapping"):
        assign_parents(facts(), bad)


def test_rollup_levels_chains_network_place_system():
    network_place = pd.DataFrame(
        [("N1", "L1", date(2020, 1, 1), None), ("N2", "L2", date(2020, 1, 1), None)],
        columns=MEMBERSHIP.columns,
    )
    place_system = pd.DataFrame(
        [("L1", "S1", None, None), ("L2", "S1", None, None)], columns=MEMBERSHIP.columns)
    got = rollup_levels(
        facts().drop(columns="registered_patients"),
        {"network": MEMBERSHIP, "place": network_place, "system": place_system},
        measures=["emergency_admissions"],
    )
    assert set(got["level"]) == {"practice", "network", "place", "system"}
    system = got[got.level == "system"].set_index("period")["emergency_admissions"]
    by_month = pd.Series({p: sum(x[2] for x in FACTS if x[1] == p)
                          for p in ("2024-01", "2024-02", "2024-03")})
    assert system.to_dict() == by_month.to_dict()
    place_mar = got[(got.level == "place") & (got.period == "2024-03")]
    assert dict(zip(place_mar.org_code, place_mar.emergency_admissions, strict=True)) == {
        "L1": 12, "L2": 22 + 32 + 6}
