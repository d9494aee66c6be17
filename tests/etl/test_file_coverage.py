"""File coverage: hospital extracts split by the month their episodes end give exactly what the
same episodes give in one file; a resubmission replaces only what it restates; the audit keeps
both loads. Runs on SQLite and PostgreSQL (the `warehouse` fixture)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from carekpi import warehouse as wh
from etl.load import load_file
from etl.measures import spell_measures
from tests.etl.test_etl_processes import write_organisations

TODAY = date(2024, 7, 15)
HEADER = ["EPIKEY", "PSEUDO_HESID", "PROCODE3", "ADMIDATE", "DISDATE", "EPISTART", "EPIEND",
          "EPIORDER", "ADMIMETH", "STARTAGE", "SEX", "DIAG_4_01", "GPPRAC"]
EMERGENCY = {"21", "22"}
ACSC = ("I50", "J45")  # heart failure, asthma (etl/reference/acsc_icd10.csv)


@dataclass(frozen=True)
class Spell:
    """A spell as the hospital knows it: the truth the test counts from."""

    patient: str
    provider: str
    admitted: date
    ends: tuple[int, ...]  # days from admission each episode ends; the last is the discharge
    method: str
    age: int
    practice: str
    diagnosis: str
    before_window: int = 0  # episodes that ended before the first extract (never loaded)


SPELLS = [
    # Spans two files: episode 1 ends in March, episode 2 (the discharge) in April.
    Spell("H1", "RWE", date(2024, 3, 10), (10, 26), "21", 70, "P00000", "I500"),
    Spell("H2", "RWE", date(2024, 3, 1), (2,), "22", 40, "P00001", "J45X"),
    # Admitted in April, its only episode ends in May: the admission arrives in May's file.
    Spell("H3", "RHQ", date(2024, 4, 28), (4,), "21", 85, "P00000", "S720"),
    Spell("H4", "RHQ", date(2024, 4, 2), (2,), "11", 30, "P00001", "K409"),
    # Admitted in February: its first episode was in February's extract (not loaded here).
    Spell("H5", "RWE", date(2024, 2, 25), (2, 19), "21", 90, "P00001", "I500", before_window=1),
    Spell("H6", "RWE", date(2024, 4, 10), (2, 20, 40), "21", 66, "P00002", "S720"),
    Spell("H7", "RHQ", date(2024, 3, 5), (1,), "21", 50, "V81999", "J450"),
    Spell("H8", "RHQ", date(2024, 3, 20), (3,), "22", 77, "P00002", "I501"),
]
MONTHS = ["2024-03", "2024-04", "2024-05"]


def episodes(spells: list[Spell]) -> list[dict[str, str]]:
    """HES episode rows of the spells (those ending in the extracts' months)."""
    rows = []
    for number, spell in enumerate(spells):
        starts = (0, *spell.ends[:-1])
        for order, (start, end) in enumerate(zip(starts, spell.ends, strict=True), start=1):
            if order <= spell.before_window:
                continue
            last = order == len(spell.ends)
            rows.append({
                "EPIKEY": str(1000 + 10 * number + order), "PSEUDO_HESID": spell.patient,
                "PROCODE3": spell.provider, "ADMIDATE": spell.admitted.isoformat(),
                "DISDATE": (spell.admitted + timedelta(end)).isoformat() if last else "",
                "EPISTART": (spell.admitted + timedelta(start)).isoformat(),
                "EPIEND": (spell.admitted + timedelta(end)).isoformat(), "EPIORDER": str(order),
                "ADMIMETH": spell.method, "STARTAGE": str(spell.age), "SEX": "1",
                "DIAG_4_01": spell.diagnosis, "GPPRAC": spell.practice,
            })
    return rows


def write_extract(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def monthly(folder: Path, spells: list[Spell], month: str, provider: str | None = None,
            name: str | None = None) -> Path:
    """The extract of the episodes ending in `month` (of one provider when given)."""
    rows = [r for r in episodes(spells) if r["EPIEND"][:7] == month
            and provider in (None, r["PROCODE3"])]
    return write_extract(folder / (name or f"hes_{month}.csv"), rows)


def expected(spells: list[Spell]) -> dict[tuple[str, str, str], int]:
    """(practice, month, measure) -> count, straight from the spells: admissions in the
    admission month (when the first episode is loaded), discharges in the discharge month."""
    out: dict[tuple[str, str, str], int] = {}

    def add(practice: str, when: date, measure: str, value: int) -> None:
        key = (practice if practice.startswith("P") else "UNATTRIBUTED", f"{when:%Y-%m}",
               measure)
        out[key] = out.get(key, 0) + value

    for s in spells:
        if s.method not in EMERGENCY:
            continue
        old = s.age >= 65
        if not s.before_window:
            add(s.practice, s.admitted, "emergency_admissions", 1)
            add(s.practice, s.admitted, "emergency_admissions_65", int(old))
            add(s.practice, s.admitted, "acsc_emergency_admissions",
                int(s.diagnosis.startswith(ACSC)))
        stay, left = s.ends[-1], s.admitted + timedelta(s.ends[-1])
        for measure, value in [
            ("emergency_spells_ended", 1), ("emergency_bed_days", stay),
            ("emergency_length_sq_sum", stay * stay), ("emergency_spells_ended_65", int(old)),
            ("emergency_spells_ended_65_los21plus", int(old and stay >= 21)),
            ("emergency_bed_days_65", stay if old else 0),
            ("emergency_bed_days_65_los_over10", stay if old and stay > 10 else 0),
        ]:
            add(s.practice, left, measure, value)
    return {k: v for k, v in out.items() if v}


def measures(engine) -> dict[tuple[str, str, str], int]:
    with engine.connect() as conn:
        long = spell_measures(conn)
    return {(r.org_code, r.period, r.measure): int(r.value) for r in long.itertuples() if r.value}


def load(engine, path: Path, tmp_path: Path, feed: str = "spells"):
    result = load_file(engine, path, archive=tmp_path / "archive",
                       quarantine=tmp_path / "quarantine", feed_hint=feed, today=TODAY)
    assert result.status == "loaded", [str(p) for p in result.problems]
    return result


@pytest.fixture
def area(warehouse, tmp_path):
    load(warehouse, write_organisations(tmp_path / "in", ["P00000", "P00001", "P00002"]),
         tmp_path, "organisations")
    return warehouse


def test_the_hand_count_is_what_the_spells_say() -> None:
    counts = expected(SPELLS)
    # P00001 in March: H2 (2 days) and H5 (19 days, admitted in February) end.
    assert counts[("P00001", "2024-03", "emergency_spells_ended")] == 2
    assert counts[("P00001", "2024-03", "emergency_bed_days")] == 21
    assert ("P00001", "2024-02", "emergency_admissions") not in counts
    assert counts[("P00000", "2024-04", "emergency_admissions")] == 1  # H3, from May's file
    assert counts[("P00000", "2024-04", "emergency_bed_days")] == 26  # H1 across two files


@pytest.mark.parametrize("split", [False, True], ids=["one_file", "split_by_episode_end"])
def test_split_extracts_count_exactly_what_one_file_counts(area, tmp_path, split) -> None:
    folder = tmp_path / "in" / "spells"
    if split:
        for month in MONTHS:
            load(area, monthly(folder, SPELLS, month), tmp_path)
    else:
        load(area, write_extract(folder / "all.csv", episodes(SPELLS)), tmp_path)
    assert measures(area) == expected(SPELLS)
    with area.connect() as conn:
        revisions = conn.execute(select(wh.etl_revision)).fetchall()
        coverage = wh.read_frame(conn, select(wh.etl_coverage))
    assert revisions == []  # nothing restated twice: files of different coverage add up
    units = set(zip(coverage["org_code"], coverage["period"], strict=True))
    assert units == {("RWE", "2024-03"), ("RWE", "2024-04"), ("RWE", "2024-05"),
                     ("RHQ", "2024-03"), ("RHQ", "2024-04"), ("RHQ", "2024-05")}


def test_a_resubmitted_month_replaces_only_that_months_contribution(area, tmp_path) -> None:
    folder = tmp_path / "in" / "spells"
    first_ids = [load(area, monthly(folder, SPELLS, m), tmp_path).load_id for m in MONTHS]
    # March again, corrected: H2 was an elective admission, H8 is withdrawn.
    corrected = [replace(s, method="11") if s.patient == "H2" else s
                 for s in SPELLS if s.patient != "H8"]
    resub = load(area, monthly(folder, corrected, "2024-03", name="hes_2024-03_resub.csv"),
                 tmp_path)
    # H1's March episode is restated unchanged, so its April discharge still stands; H8 was
    # admitted and discharged in March: both its counts go.
    assert measures(area) == expected(corrected)
    with area.connect() as conn:
        loads = wh.read_frame(conn, select(wh.etl_load).where(wh.etl_load.c.feed == "spells"))
        revisions = wh.read_frame(conn, select(wh.etl_revision))
        coverage = wh.read_frame(conn, select(wh.etl_coverage).where(
            wh.etl_coverage.c.table_name == "spell_fact"))
    assert loads["file_name"].tolist() == [*(f"hes_{m}.csv" for m in MONTHS),
                                           "hes_2024-03_resub.csv"]
    assert (loads["status"] == "loaded").all()
    # The audit: one revision per restated unit, March only, replacing the first March load.
    assert sorted(zip(revisions["org_code"], revisions["period"], strict=True)) == [
        ("RHQ", "2024-03"), ("RWE", "2024-03")]
    assert set(revisions["replaced_load_id"]) == {first_ids[0]}
    assert set(revisions["superseded_by_load_id"]) == {resub.load_id}
    rhq = json.loads(revisions.set_index("org_code").loc["RHQ", "figures"])
    assert rhq["emergency_admissions"] == 2 and rhq["emergency_bed_days"] == 1 + 3  # H7, H8
    by_load = coverage.groupby("load_id")["period"].apply(set).to_dict()
    assert by_load == {first_ids[0]: {"2024-03"}, first_ids[1]: {"2024-04"},
                       first_ids[2]: {"2024-05"}, resub.load_id: {"2024-03"}}


def test_one_providers_resubmission_leaves_the_other_providers(area, tmp_path) -> None:
    folder = tmp_path / "in" / "spells"
    ids = [load(area, monthly(folder, SPELLS, m), tmp_path).load_id for m in MONTHS]
    # RHQ resubmits April: H4 was an emergency admission after all.
    corrected = [replace(s, method="21") if s.patient == "H4" else s for s in SPELLS]
    resub = load(area, monthly(folder, corrected, "2024-04", provider="RHQ",
                               name="rhq_2024-04.csv"), tmp_path)
    assert measures(area) == expected(corrected)
    with area.connect() as conn:
        facts = wh.read_frame(conn, select(wh.spell_fact))
        revisions = wh.read_frame(conn, select(wh.etl_revision))
    april = facts[facts["coverage_period"] == "2024-04"]
    assert april.groupby("coverage_org")["load_id"].apply(set).to_dict() == {
        "RHQ": {resub.load_id}, "RWE": {ids[1]}}
    assert list(zip(revisions["org_code"], revisions["period"], strict=True)) == [
        ("RHQ", "2024-04")]
    assert int(facts["admissions"].sum()) == len(SPELLS) - 1  # H5 opened in February


def test_loading_twice_or_in_another_order_gives_the_same_facts(area, tmp_path) -> None:
    folder = tmp_path / "in" / "spells"
    for month in reversed(MONTHS):
        load(area, monthly(folder, SPELLS, month), tmp_path)
    assert measures(area) == expected(SPELLS)
    # April again with its rows in another order: new content, the same coverage.
    april = [r for r in episodes(SPELLS) if r["EPIEND"][:7] == "2024-04"]
    again = load(area, write_extract(folder / "again.csv", april[::-1]), tmp_path)
    assert measures(area) == expected(SPELLS)
    with area.connect() as conn:
        facts = wh.read_frame(conn, select(wh.spell_fact))
    assert set(facts.loc[facts["coverage_period"] == "2024-04", "load_id"]) == {again.load_id}
    assert pd.Series(facts["load_id"]).notna().all()
