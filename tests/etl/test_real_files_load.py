"""Every real public file loads into a fresh warehouse (SQLite and PostgreSQL), and the loaded
figures equal those read independently from the file."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from carekpi import warehouse as wh
from etl.load import load_file
from etl.reference import la_code_aliases
from tests.etl.test_feed_delayed_transfers import _authority
from tests.etl.test_feed_spells import _hes_independent, _mar_independent

TODAY = date(2026, 11, 1)
# Reference first (the others are checked against it), then each publication.
FILES = [
    ("organisations", "geography/QOF_MAPPING_NHS_GEOGRAPHIES_2021.csv"),
    ("organisations", "ods/ePCN_2022-05.xlsx"),
    ("organisations", "ods/epraccur_2023-02_first3000.csv"),
    ("population", "population/gp-reg-pat-prac-all_2021-01.csv"),
    ("delayed_transfers", "dtoc/LA_DTOC_by_reason_April_11.xls"),
    ("delayed_transfers", "dtoc/LA_DTOC_by_reason_Nov_15.xls"),
    ("spells", "hospital/MAR_commissioner_Apr_12.xls"),
    ("spells", "hospital/artificial_hes_apc_0102.csv"),
]


@pytest.fixture
def loaded(real_data, warehouse, tmp_path):
    results = {}
    for feed, relative in FILES:
        target = tmp_path / "inbox" / feed / Path(relative).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(real_data / relative, target)
        results[relative] = load_file(warehouse, target, archive=tmp_path / "archive",
                                      quarantine=tmp_path / "quarantine", feed_hint=feed,
                                      today=TODAY)
    return warehouse, results


def _scalar(engine, query):
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def test_every_real_file_loads(loaded):
    _, results = loaded
    assert {k: r.status for k, r in results.items()} == {k: "loaded" for _, k in FILES}


def test_geography_practices_and_networks(loaded, real_data):
    engine, _ = loaded
    qof = pd.read_csv(real_data / FILES[0][1], dtype=str)
    o = wh.organisation
    practices = set(qof["PRACTICE_CODE"])
    in_warehouse = _scalar(engine, select(func.count()).where(o.c.org_code.in_(practices),
                                                              o.c.level == "practice"))
    assert in_warehouse == len(practices) == 6571
    pcns = set(qof["PCN_ODS_CODE"]) - {"U"}  # 'U' is "unallocated", not a network
    networks = _scalar(engine, select(func.count()).where(o.c.org_code.in_(pcns),
                                                          o.c.level == "network"))
    assert networks == len(pcns)


def test_epcn_relationships_replace_memberships(loaded, real_data):
    engine, _ = loaded
    sheets = pd.read_excel(real_data / FILES[1][1], sheet_name=None, header=None, dtype=str)
    name = next(n for n in sheets if "core partner" in n.lower())
    cells = sheets[name]
    labels = cells.iloc[0].astype(str).str.replace("\n", " ").str.strip()
    table = cells.iloc[1:].set_axis(labels, axis=1).dropna(how="all")
    practice_col, pcn_col = "Partner Organisation Code", "PCN Code"
    start_col = "Practice to PCN Relationship Start Date"
    relationships = table[[practice_col, pcn_col, start_col]].drop_duplicates()
    m = wh.membership
    loaded_links = _scalar(engine, select(func.count()).where(
        m.c.child_code.in_(set(relationships[practice_col]))))
    assert loaded_links == len(relationships) == 7359


def test_epraccur_practices_with_their_close_dates(loaded, real_data):
    engine, _ = loaded
    with open(real_data / FILES[2][1], newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.reader(handle) if r[25] == "4"]  # prescribing setting 4: GP
    closed = next(r for r in rows if r[12] == "C" and r[11])
    o = wh.organisation
    assert _scalar(engine, select(func.count()).where(
        o.c.org_code.in_({r[0] for r in rows}))) == len(rows)
    assert _scalar(engine, select(o.c.close_date).where(o.c.org_code == closed[0])) == \
        date(int(closed[11][:4]), int(closed[11][4:6]), int(closed[11][6:]))


def test_total_list_size_of_the_practices_we_know(loaded, real_data):
    engine, _ = loaded
    pop = pd.read_csv(real_data / FILES[3][1], dtype={"CODE": str})
    known = _codes(engine, date(2021, 1, 1))  # the extract's month
    ours = pop[pop["CODE"].isin(known)]
    assert _scalar(engine, select(func.sum(wh.population.c.patients))) == \
        ours["NUMBER_OF_PATIENTS"].sum()
    outside = len(pop) - len(ours)
    assert outside > 0 and f"{outside} row(s)" in _note(engine, FILES[3][1])


def _codes(engine, month_start: date | None = None) -> set[str]:
    """Organisation codes in the warehouse (open during the month, when one is given)."""
    o = wh.organisation
    query = select(o.c.org_code)
    if month_start:
        month_end = (pd.Timestamp(month_start) + pd.offsets.MonthEnd(0)).date()
        query = query.where((o.c.close_date.is_(None)) | (o.c.close_date >= month_start),
                            (o.c.open_date.is_(None)) | (o.c.open_date <= month_end))
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def _note(engine, relative: str) -> str:
    return _scalar(engine, select(wh.etl_load.c.error_summary).where(
        wh.etl_load.c.file_name == Path(relative).name))


@pytest.mark.parametrize(("index", "name", "period"), [(4, "Barnet", "2011-04"),
                                                      (5, "Derby UA", "2015-11")])
def test_delayed_days_of_a_named_authority(loaded, real_data, index, name, period):
    engine, _ = loaded
    want = _authority(real_data / FILES[index][1], "LA - by responsible org", name)
    code = want.get("ONS Geography") or la_code_aliases()[str(want["Code"]).strip()]
    t = wh.delayed_transfer_fact
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.org_code == code, t.c.period == period)).one()
    assert (row.delayed_days_nhs, row.delayed_days_social_care, row.delayed_days_both) == (
        int(want["NHS"]), int(want["Social Care"]), int(want["Both"]))
    assert _scalar(engine, select(wh.organisation.c.level).where(
        wh.organisation.c.org_code == code)) == "place"


def test_non_elective_admissions_of_a_named_commissioner(loaded, real_data):
    engine, _ = loaded
    values, england = _mar_independent(real_data / FILES[6][1])
    t = wh.commissioner_admissions
    assert _scalar(engine, select(t.c.emergency_admissions).where(
        t.c.org_code == "5QQ", t.c.period == "2012-04")) == values["5QQ"] == 5862
    assert _scalar(engine, select(func.sum(t.c.emergency_admissions))) == england


def test_artificial_hes_spells_counted_once_and_undated_set_aside(loaded, real_data):
    engine, results = loaded
    records, sentinel_rows = _hes_independent(real_data / FILES[7][1])
    result = results[FILES[7][1]]
    assert sorted(p.row for p in result.problems) == sentinel_rows
    # Each row is its own spell here; one whose EPIORDER is 2 or more is a later episode of a
    # spell opened in an earlier extract: it adds no admission (docs/decisions/0003).
    dated = [r for i, r in enumerate(records) if i + 2 not in sentinel_rows
             and r["EPIORDER"] in ("1", "98", "99", "")]
    assert 0 < len(dated) < len(records) - len(sentinel_rows)
    # a practice counts when it is open in the admission month (others are out of area)
    known = {m: _codes(engine, date(int(m[:4]), int(m[5:7]), 1))
             for m in {r["ADMIDATE"][:7] for r in dated}}
    not_practice = [r for r in dated if r["GPPRAC"] in ("", "&") or r["GPPRAC"].startswith(
        ("V81", "V99")) or not (r["GPPRAC"][:1] in "ABCDEFGHIJKLMNOPY" and len(r["GPPRAC"]) == 6
                                and r["GPPRAC"][1:].isdigit())]
    ours = [r for r in dated if r not in not_practice and r["GPPRAC"] in known[r["ADMIDATE"][:7]]]
    f = wh.spell_fact
    assert _scalar(engine, select(func.sum(f.c.admissions))) == len(ours) + len(not_practice)
    assert _scalar(engine, select(func.sum(f.c.admissions)).where(
        f.c.practice_code == "UNATTRIBUTED")) == len(not_practice)
