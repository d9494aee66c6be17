"""Hospital spells feed: HES APC episodes, native CSV, MAR commissioner workbook, aggregation."""

from __future__ import annotations

import csv
import os
import random
from collections import defaultdict
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import xlrd

from etl.feeds import CANONICAL_COLUMNS, spells
from etl.problems import FeedError
from etl.reference import acsc_prefixes
from etl.validate import validate_frame
from tests.conftest import REQUIRE_REAL_DATA, require_or_skip

REPO = Path(__file__).resolve().parents[2]
REAL = Path(os.environ.get("CAREKPI_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
HES = REAL / "hospital" / "artificial_hes_apc_0102.csv"
MAR = REAL / "hospital" / "MAR_commissioner_Apr_12.xls"
TODAY = date(2026, 1, 15)


def _need(path: Path) -> Path:
    if not path.exists():
        require_or_skip(f"real public file not present: {path}", REQUIRE_REAL_DATA)
    return path


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- HES APC subset (what the demo writes): several episodes per spell, any column order ------

HES_HEADER = ["EPIKEY", "PSEUDO_HESID", "PROCODE3", "ADMIDATE", "DISDATE", "EPISTART", "EPIEND",
              "EPIORDER", "ADMIMETH", "STARTAGE", "SEX", "DIAG_4_01", "GPPRAC"]


def _hes_rows() -> list[list[object]]:
    # EPIKEY, patient, provider, ADMIDATE, DISDATE, EPISTART, EPIEND, EPIORDER, ADMIMETH,
    # STARTAGE, SEX, DIAG_4_01, GPPRAC
    return [
        # spell 1: three episodes, written out of order; first episode (order 1) gives the fields,
        # the last (order 3) the discharge date.
        ["103", "P1", "RWE", "2024-03-30", "2024-04-25", "", "", "3", "11", "80", "2", "Z999",
         "B82005"],
        ["101", "P1", "RWE", "2024-03-30", "", "", "", "1", "21", "79", "1", "I500", "A81001"],
        ["102", "P1", "RWE", "2024-03-30", "", "", "", "2", "13", "79", "1", "J459", "A81001"],
        # spell 2: same patient, other provider, same day: a different spell
        ["201", "P1", "RHQ", "2024-03-30", "2024-03-30", "", "", "1", "2A", "79", "1", "J45",
         "A81001"],
        # spell 3: baby (STARTAGE 7003 = 7 to 28 days), unknown practice, sex not known
        ["301", "P2", "RWE", "2024-04-02", "1800-01-01", "", "", "1", "82", "7003", "0", "P599",
         "V81999"],
        # spell 4: '&' practice and an unknown episode order (99) after a real one
        ["402", "P3", "RWE", "2024-04-05", "2024-04-20", "", "", "99", "22", "66", "2", "E119",
         "C81001"],
        ["401", "P3", "RWE", "2024-04-05", "", "", "", "1", "22", "66", "2", "E105", "&"],
    ]


def test_hes_subset_collapses_episodes_into_spells(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "extract.csv", HES_HEADER, _hes_rows())
    assert spells.detect(path) == "hes_apc"
    frame = spells.parse(path, "hes_apc")
    assert list(frame.columns) == [*CANONICAL_COLUMNS["spells"], "source_row"]
    assert len(frame) == 4
    by_row = frame.set_index("source_row")
    # Spell 1's first episode is file row 3 (EPIKEY 101); its discharge is the last episode's.
    first = by_row.loc[3]
    assert first["practice_code"] == "A81001"
    assert first["sex"] == "M" and first["age"] == 79
    assert first["admission_method"] == "21" and first["primary_diagnosis"] == "I500"
    assert first["admission_date"] == date(2024, 3, 30)
    assert first["discharge_date"] == date(2024, 4, 25)
    assert by_row.loc[5, "discharge_date"] == date(2024, 3, 30)  # other provider, own spell
    baby = by_row.loc[6]
    assert baby["age"] == 0 and baby["sex"] is None and baby["practice_code"] is None
    assert baby["discharge_date"] is None  # 1800-01-01 sentinel = null
    ampersand = by_row.loc[8]
    assert ampersand["practice_code"] is None and ampersand["primary_diagnosis"] == "E105"
    assert ampersand["discharge_date"] == date(2024, 4, 20)
    # Every spell opens here (its first episode is order 1). Discharges count under their own
    # month; without EPIEND a lone episode ends at its discharge, a spell's first of several in
    # the file under the latest month the file shows (April).
    assert frame["opens"].all()
    assert by_row["coverage_org"].to_dict() == {3: "RWE", 5: "RHQ", 6: "RWE", 8: "RWE"}
    assert by_row["admission_coverage"].to_dict() == {
        3: "2024-04", 5: "2024-03", 6: "2024-04", 8: "2024-04"}
    assert by_row["discharge_coverage"].to_dict() == {
        3: "2024-04", 5: "2024-03", 6: None, 8: "2024-04"}
    assert validate_frame(frame, feed="spells", file="extract.csv", schema=spells.SCHEMA,
                          today=TODAY) == []


def test_hes_extra_columns_and_any_order(tmp_path: Path) -> None:
    header = ["FYEAR", *reversed(HES_HEADER), "MAINSPEF"]
    rows = [["2324", *reversed(r), "300"] for r in _hes_rows()]
    reordered = spells.parse(_write_csv(tmp_path / "wide.csv", header, rows), "hes_apc")
    plain = spells.parse(_write_csv(tmp_path / "plain.csv", HES_HEADER, _hes_rows()), "hes_apc")
    pd.testing.assert_frame_equal(reordered, plain)


def test_hes_without_patient_id_groups_by_provider(tmp_path: Path) -> None:
    keep = [i for i, c in enumerate(HES_HEADER) if c != "PSEUDO_HESID"]
    rows = [[r[i] for i in keep] for r in _hes_rows()]
    path = _write_csv(tmp_path / "noid.csv", [HES_HEADER[i] for i in keep], rows)
    assert spells.detect(path) == "hes_apc"
    # Without the patient, spells are provider x admission date: RWE 30 Mar, RHQ 30 Mar,
    # RWE 2 Apr, RWE 5 Apr.
    assert len(spells.parse(path, "hes_apc")) == 4


def test_hes_missing_column_is_refused_naming_it(tmp_path: Path) -> None:
    header = [c if c != "DIAG_4_01" else "DIAG_4_1ST" for c in HES_HEADER]
    path = _write_csv(tmp_path / "renamed.csv", header, _hes_rows())
    assert spells.detect(path) is None
    with pytest.raises(FeedError) as caught:
        spells.parse(path, "hes_apc")
    [problem] = caught.value.problems
    assert problem.file == "renamed.csv" and problem.column == "primary_diagnosis"
    assert "DIAG_4_01" in problem.rule


def test_hes_sentinel_admission_and_bad_values_reported_per_row(tmp_path: Path) -> None:
    rows = _hes_rows()
    rows[4][3] = "1801-01-01"  # spell 3's admission date: invalid-date sentinel
    rows[5][9] = "sixty"  # text age on spell 4's episode 99 (not its first): ignored
    rows[6][9] = "sixty"  # text age on spell 4's first episode
    rows[1][4] = "30/02/2024"  # discharge of a non-final episode: ignored
    rows[0][4] = "2024-13-01"  # spell 1's final discharge date: unreadable
    path = _write_csv(tmp_path / "bad.csv", HES_HEADER, rows)
    with pytest.raises(FeedError) as caught:
        spells.parse(path, "hes_apc")
    found = {(p.file, p.row, p.column, p.value) for p in caught.value.problems}
    assert found == {
        ("bad.csv", 3, "discharge_date", "2024-13-01"),  # reported on the spell's first row
        ("bad.csv", 8, "age", "sixty"),
    }  # the sentinel admission is set aside, not refused (next test)
    assert all(p.rule for p in caught.value.problems)


def test_hes_spell_without_admission_date_is_set_aside_and_listed(tmp_path: Path) -> None:
    rows = _hes_rows()
    rows[4][3] = "1801-01-01"  # spell 3's admission date: invalid-date sentinel
    path = _write_csv(tmp_path / "undated.csv", HES_HEADER, rows)
    whole = spells.parse(_write_csv(tmp_path / "whole.csv", HES_HEADER, _hes_rows()), "hes_apc")
    frame = spells.parse(path, "hes_apc")
    assert len(frame) == len(whole) - 1
    assert 6 not in set(frame["source_row"])
    [problem] = frame.attrs["set_aside"]
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "undated.csv", 6, "admission_date", "1801-01-01")


def test_schema_reports_discharge_before_admission_and_bad_codes(tmp_path: Path) -> None:
    rows = _hes_rows()
    rows[3][4] = "2024-03-01"  # spell 2 discharged before it was admitted
    rows[4][8] = "X"  # spell 3: admission method not a HES code
    path = _write_csv(tmp_path / "odd.csv", HES_HEADER, rows)
    problems = validate_frame(spells.parse(path, "hes_apc"), feed="spells", file="odd.csv",
                              schema=spells.SCHEMA, today=TODAY)
    assert {(p.row, p.column) for p in problems} == {(5, "discharge_date"),
                                                    (6, "admission_method")}
    assert all(p.file == "odd.csv" and p.value for p in problems)


def test_unknown_layout_is_not_detected(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "x.csv", ["a", "b"], [[1, 2]])
    assert spells.detect(path) is None
    (tmp_path / "empty.csv").write_bytes(b"")
    assert spells.detect(tmp_path / "empty.csv") is None


# --- the real artificial HES file ------------------------------------------------------------

def _hes_independent(path: Path) -> tuple[list[dict], list[int]]:
    """Rows of the real file read with the csv module, and the rows with a sentinel ADMIDATE."""
    with open(path, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    sentinel_rows = [i + 2 for i, r in enumerate(records)
                     if r["ADMIDATE"] in ("1800-01-01", "1801-01-01")]
    return records, sentinel_rows


def test_real_artificial_hes_sets_aside_undated_spells() -> None:
    path = _need(HES)
    assert spells.detect(path) == "hes_apc"
    records, sentinel_rows = _hes_independent(path)
    frame = spells.parse(path, "hes_apc")
    # Each episode of this artificial file is its own spell (its fields were generated
    # independently): every row is a spell, less those with no usable admission date.
    assert sentinel_rows
    assert len(frame) == len(records) - len(sentinel_rows)
    assert sorted(p.row for p in frame.attrs["set_aside"]) == sentinel_rows
    assert all(p.file == HES.name and p.column == "admission_date" and p.value
               for p in frame.attrs["set_aside"])


def test_real_artificial_hes_spells_and_unattributed(tmp_path: Path) -> None:
    path = _need(HES)
    records, _ = _hes_independent(path)
    good = [r for r in records if r["ADMIDATE"] not in ("1800-01-01", "1801-01-01")]
    copy = tmp_path / "hes_no_sentinel.csv"
    with open(copy, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(good)
    # Independent count: distinct (patient, provider, admission date); the first episode (lowest
    # EPIORDER) of each says whether the patient's practice is a real English practice code.
    first: dict[tuple, dict] = {}
    for r in good:
        key = (r["PSEUDO_HESID"], r["PROCODE3"], r["ADMIDATE"])
        if key not in first or int(r["EPIORDER"]) < int(first[key]["EPIORDER"]):
            first[key] = r
    unattributed = sum(
        1 for r in first.values()
        if not (len(r["GPPRAC"]) == 6 and r["GPPRAC"][0] in "ABCDEFGHIJKLMNOPY"
                and r["GPPRAC"][1:].isdigit() and r["GPPRAC"] not in ("V81999", "V81998")))
    frame = spells.parse(copy, "hes_apc")
    assert len(frame) == len(first) == 2074
    assert int(frame["practice_code"].isna().sum()) == unattributed == 56
    assert int((frame["age"] == 0).sum()) == sum(
        1 for r in first.values() if r["STARTAGE"].startswith("700"))


# --- native CSV --------------------------------------------------------------------------------

NATIVE_HEADER = ["spell_id", "practice_code", "age", "sex", "admission_date", "discharge_date",
                 "admission_method", "primary_diagnosis"]


def test_native_csv(tmp_path: Path) -> None:
    rows = [
        ["S1", "A81001", "67", "F", "2024-05-01", "2024-05-09", "21", "J44.1"],
        ["S2", "", "40", "M", "2024-05-02", "", "11", "K40.9"],
        ["S3", "a81002", "", "", "2024-05-03", "2024-05-03", "28", ""],
    ]
    path = _write_csv(tmp_path / "spells.csv", NATIVE_HEADER, rows)
    assert spells.detect(path) == "native"
    frame = spells.parse(path, "native")
    assert frame["practice_code"].tolist() == ["A81001", None, "A81002"]
    assert frame["primary_diagnosis"].tolist() == ["J441", "K409", None]
    assert frame["age"].tolist()[:2] == [67, 40] and pd.isna(frame["age"].iloc[2])
    assert frame["discharge_date"].tolist() == [date(2024, 5, 9), None, date(2024, 5, 3)]
    assert frame["source_row"].tolist() == [2, 3, 4]
    assert validate_frame(frame, feed="spells", file="spells.csv", schema=spells.SCHEMA,
                          today=TODAY) == []


def test_native_negative_age_fails_schema(tmp_path: Path) -> None:
    rows = [["S1", "A81001", "-3", "F", "2024-05-01", "2024-05-09", "21", "J441"]]
    frame = spells.parse(_write_csv(tmp_path / "neg.csv", NATIVE_HEADER, rows), "native")
    [problem] = validate_frame(frame, feed="spells", file="neg.csv", schema=spells.SCHEMA,
                               today=TODAY)
    assert (problem.row, problem.column, problem.value) == (2, "age", "-3")


# --- aggregation ---------------------------------------------------------------------------------

def _naive_aggregate(frame: pd.DataFrame, acsc: tuple[str, ...]) -> dict[tuple, dict[str, int]]:
    """The same counts computed one spell at a time, written without pandas."""
    emergency_codes = {"21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D"}
    out: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in frame.to_dict("records"):
        age = r["age"]
        if age is None or pd.isna(age):
            band = "UNKNOWN"
        elif age >= 95:
            band = "95+"
        else:
            low = int(age) // 5 * 5
            band = f"{low}_{low + 4}"
        adm, dis = r["admission_date"], r["discharge_date"]
        # A spell-level frame: both parts count under the admission month, for every provider.
        key = (r["practice_code"] or "UNATTRIBUTED", f"{adm:%Y-%m}",
               None if dis is None else f"{dis:%Y-%m}", r["sex"] or "U", band, f"{adm:%Y-%m}", "")
        cell = out[key]
        cell["admissions"] += 1
        if r["admission_method"] in emergency_codes:
            cell["emergency_admissions"] += 1
            diag = (r["primary_diagnosis"] or "").replace(".", "")
            if any(diag.startswith(p) for p in acsc):
                cell["acsc_emergency_admissions"] += 1
            if dis is not None:
                days = (dis - adm).days
                cell["emergency_discharges"] += 1
                cell["emergency_bed_days"] += days
                cell["emergency_los_sq_sum"] += days * days
                cell["emergency_stays_7plus"] += days >= 7
                cell["emergency_stays_21plus"] += days >= 21
                cell["emergency_long_stay_bed_days"] += days if days > 10 else 0
    return out


def _as_dict(table: pd.DataFrame) -> dict[tuple, dict[str, int]]:
    out = {}
    for r in table.to_dict("records"):
        key = tuple(r[c] for c in spells.GROUP_COLUMNS)
        out[key] = {m: r[m] for m in spells.MEASURES if r[m]}
    return out


def _random_spells(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        adm = date(2024, 1, 1).fromordinal(date(2024, 1, 1).toordinal() + rng.randrange(120))
        stay = rng.choice([None, 0, 0, 1, 3, 6, 7, 10, 11, 20, 21, 35])
        rows.append({
            "practice_code": rng.choice(["A81001", "A81002", None]),
            "age": rng.choice([None, 0, 4, 5, 64, 65, 94, 95, 104]),
            "sex": rng.choice(["M", "F", None]),
            "admission_date": adm,
            "discharge_date": None if stay is None else date.fromordinal(adm.toordinal() + stay),
            "admission_method": rng.choice(["11", "12", "21", "22", "28", "2A", "2D", "31", "81"]),
            "primary_diagnosis": rng.choice(["I500", "J45.9", "E119", "E105", "Z380", None]),
        })
    frame = pd.DataFrame(rows)
    frame["age"] = frame["age"].astype("Int64")
    for c in ("practice_code", "sex", "admission_date", "discharge_date", "primary_diagnosis"):
        frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame


def test_aggregate_matches_naive_recount() -> None:
    frame = _random_spells(3000, seed=7)
    acsc = acsc_prefixes()
    table = spells.aggregate_spells(frame, acsc)
    assert list(table.columns) == [*spells.GROUP_COLUMNS, *spells.MEASURES]
    assert all(table[m].dtype == "int64" for m in spells.MEASURES)
    naive = {k: {m: int(v) for m, v in cell.items() if v} for k, cell in
             _naive_aggregate(frame, acsc).items()}
    assert _as_dict(table) == naive
    assert int(table["admissions"].sum()) == 3000


def test_aggregate_edge_cases_by_hand() -> None:
    frame = pd.DataFrame({
        "practice_code": [None, "A81001", "A81001", "A81001"],
        "age": pd.array([None, 95, 67, 67], dtype="Int64"),
        "sex": [None, "F", "M", "M"],
        "admission_date": [date(2024, 1, 31), date(2024, 1, 1), date(2024, 1, 5),
                           date(2024, 1, 5)],
        "discharge_date": [None, date(2024, 1, 1), date(2024, 2, 5), date(2024, 1, 16)],
        "admission_method": ["21", "2B", "22", "11"],
        "primary_diagnosis": ["J45", None, "I500", "I500"],
    })
    table = spells.aggregate_spells(frame, ("J45", "I50"))
    assert set(zip(table["coverage_period"], table["coverage_org"], strict=True)) == {
        ("2024-01", "")}  # a spell-level frame restates its admission months
    rows = {tuple(r[:5]): r[7:] for r in table.itertuples(index=False, name=None)}
    # admissions, emergency, acsc, bed days, sum of squares, 7+, 21+, long-stay bed days,
    # emergency discharges
    assert rows[("UNATTRIBUTED", "2024-01", None, "U", "UNKNOWN")] == (1, 1, 1, 0, 0, 0, 0, 0, 0)
    assert rows[("A81001", "2024-01", "2024-01", "F", "95+")] == (1, 1, 0, 0, 0, 0, 0, 0, 1)
    assert rows[("A81001", "2024-01", "2024-02", "M", "65_69")] == (1, 1, 1, 31, 961, 1, 1, 31, 1)
    # An elective stay of 11 days adds an admission but no emergency bed days.
    assert rows[("A81001", "2024-01", "2024-01", "M", "65_69")] == (1, 0, 0, 0, 0, 0, 0, 0, 0)


def test_aggregate_of_parsed_hes_subset(tmp_path: Path) -> None:
    frame = spells.parse(_write_csv(tmp_path / "e.csv", HES_HEADER, _hes_rows()), "hes_apc")
    table = spells.aggregate_spells(frame, acsc_prefixes())
    # Four spells: 21 (I500, heart failure: ACSC, 26 days), 2A (J45 asthma, same day),
    # 82 (birth: not emergency), 22 (E105 diabetes complication: ACSC, 15 days).
    assert int(table["admissions"].sum()) == 4
    assert int(table["emergency_admissions"].sum()) == 3
    assert int(table["acsc_emergency_admissions"].sum()) == 3
    assert int(table["emergency_bed_days"].sum()) == 26 + 0 + 15
    assert int(table["emergency_long_stay_bed_days"].sum()) == 26 + 15
    assert int(table["emergency_stays_21plus"].sum()) == 1
    assert set(table["practice_code"]) == {"A81001", "UNATTRIBUTED"}


# --- MAR commissioner workbook ------------------------------------------------------------------

def _mar_independent(path: Path) -> tuple[dict[str, int], int]:
    """Commissioner code -> non-elective FFCEs, and the England row's figure (read with xlrd)."""
    sheet = xlrd.open_workbook(str(path)).sheet_by_name("Commissioner")
    target = "Total Non-elective G&A Admissions (FFCEs)"
    header = next(i for i in range(sheet.nrows)
                  if target in [str(v).strip() for v in sheet.row_values(i)])
    labels = [str(v).strip() for v in sheet.row_values(header)]
    col, code_col, name_col = (labels.index(x) for x in (target, "Org Code", "Org Name"))
    values, england = {}, None
    for i in range(header + 1, sheet.nrows):
        code = str(sheet.cell_value(i, code_col)).strip()
        value = sheet.cell_value(i, col)
        if sheet.cell_value(i, name_col) == "England":
            england = int(value)
        elif code and isinstance(value, float):
            values[code] = int(value)
    return values, england


def test_real_mar_commissioner() -> None:
    path = _need(MAR)
    assert spells.detect(path) == "mar_commissioner"
    frame = spells.parse(path, "mar_commissioner")
    assert list(frame.columns) == [*CANONICAL_COLUMNS["spells_commissioner"], "source_row"]
    values, england = _mar_independent(path)
    assert set(frame["period"]) == {"2012-04"}  # title block "Period: April 2012"
    by_code = dict(zip(frame["org_code"], frame["emergency_admissions"], strict=True))
    # Devon PCT (5QQ), read straight from the sheet with xlrd; every commissioner matches too.
    assert by_code["5QQ"] == values["5QQ"] == 5862
    assert by_code == values
    # The England row is skipped, and the commissioners add up to it.
    assert int(frame["emergency_admissions"].sum()) == england
    assert frame.loc[frame["org_code"] == "5D7", "source_row"].item() == 17  # as Excel shows
    schema = spells.RECORD.frame_for("mar_commissioner").schema
    assert validate_frame(frame, feed="spells", file=path.name, schema=schema, today=TODAY) == []


def test_truncated_file_is_refused_naming_the_row(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "cut.csv", HES_HEADER, _hes_rows())
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rindex(",RWE,")], encoding="utf-8")  # cut mid-row
    with pytest.raises(FeedError) as caught:
        spells.parse(path, "hes_apc")
    [problem] = caught.value.problems
    assert (problem.file, problem.row) == ("cut.csv", 8)
    assert "fields" in problem.rule


def test_counting_block_by_block_equals_counting_at_once() -> None:
    frame = _random_spells(3000, seed=11)
    acsc = acsc_prefixes()
    whole = spells.aggregate_spells(frame, acsc, block=len(frame))
    pd.testing.assert_frame_equal(spells.aggregate_spells(frame, acsc, block=7), whole)
    assert int(whole["admissions"].sum()) == 3000


def test_hes_read_in_small_chunks_equals_one_read(tmp_path: Path, monkeypatch) -> None:
    from etl import readers

    path = _write_csv(tmp_path / "e.csv", HES_HEADER, _hes_rows())
    whole = spells.parse(path, "hes_apc")
    read = readers.read_csv_columns
    monkeypatch.setattr(spells, "read_csv_columns",
                        lambda p, columns: read(p, columns, chunk_rows=2))
    pd.testing.assert_frame_equal(spells.parse(path, "hes_apc"), whole)
    chunks = list(readers.read_csv_chunks(path, ["EPIKEY", "GPPRAC"], chunk_rows=3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    assert pd.concat(chunks)["source_row"].tolist() == list(range(2, 9))
    assert pd.concat(chunks)["EPIKEY"].tolist() == [r[0] for r in _hes_rows()]
