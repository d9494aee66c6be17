"""Every bad file of `demo generate --faults` is refused with a report naming its defect, and
the warehouse content is unchanged (table digests before and after)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from carekpi import warehouse as wh
from carekpi_demo import generate
from etl.load import load_file
from etl.pipeline import run_inbox

TODAY = date(2025, 7, 20)

# fault file -> every problem the load must report: (rule, file row, column, value). Rows are
# those a person sees in the file (the header is row 1); None where the rule is about the file.
PERIOD = "2025-06"  # the month generate() ends on below
EXPECTED: dict[str, set[tuple[str, int | None, str | None, str | None]]] = {
    "care_packages/missing_column.csv": {
        ("required column is missing for layout care_packages/native (accepted headers: "
         "completed, completed count, done)", 1, "completed", None)},
    "care_packages/renamed_header.csv": {
        ("required column is missing for layout care_packages/native (accepted headers: "
         "register, register count, on register)", 1, "register", None)},
    "care_packages/completed_greater_than_register.csv": {
        ("completed is greater than register", 5, "completed", "completed=340, register=312")},
    "care_packages/unknown_practice_code.csv": {
        (f"code is not in the organisation reference for {PERIOD}", 6, "practice_code",
         "Y99999")},
    "care_packages/wrong_delimiter.csv": {
        ("row has 1 fields, expected 6", row, None, None) for row in (2, 3, 4, 5)},
    "population/empty.csv": {("file is empty", None, None, None)},
    "population/text_in_number_column.csv": {
        ("count is not a number", 2, "patients", "about 800")},
    "organisations/non_utf8.csv": {
        ("text is neither UTF-8 nor Windows-1252: bytes cannot be decoded", 2, "practice_name",
         "Albion Surgery \ufffd\ufffd\ufffd")},
    "spells/truncated.csv": {("row has 6 fields, expected 13 (the header's)", 4, None, None)},
    "spells/unknown_layout.csv": {
        ("file is in no known layout; expected one of: spells/native, spells/hes_apc, "
         "spells/mar_commissioner", None, None, None)},
    "care_home_admissions/header_only.csv": {
        ("file has a header but no data rows", None, None, None)},
    "care_home_admissions/negative_counts.csv": {
        ("count is negative", 3, "admissions_65_residential", "-3")},
    "reablement/future_period.csv": {
        (f"period is in the future (today is {TODAY.isoformat()})", 2, "period", "2099-01")},
    "delayed_transfers/duplicated_rows.csv": {
        ("same org_code, period as row 2", 4, "org_code", f"U00001 / {PERIOD}")},
    "delayed_transfers/header_row_moved_and_renamed.xlsx": {
        ("no sheet has a header row with the labels ['Name', 'NHS', 'Social Care', 'Both'] "
         "(delayed days by responsible organisation)", None, None, None)},
}


@pytest.fixture(scope="module")
def demo_with_faults(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("faults")
    generate(out, scale="area", months=3, seed=3, end_month=PERIOD, faults=True)
    return out


def test_the_generator_writes_every_fault_we_check(demo_with_faults):
    written = {p.relative_to(demo_with_faults / "faults").as_posix()
               for p in (demo_with_faults / "faults").rglob("*") if p.is_file()}
    assert set(EXPECTED) <= written


def test_every_fault_is_refused_and_changes_nothing(demo_with_faults, warehouse, settings):
    good = {p.name for p in demo_with_faults.iterdir() if p.is_dir() and p.name != "faults"}
    for feed in good:
        shutil.copytree(demo_with_faults / feed, settings.inbox / feed)
    assert not run_inbox(warehouse, settings, today=TODAY, progress=False).failed
    with warehouse.connect() as conn:
        before = wh.table_digest(conn, [t for t in wh.metadata.sorted_tables
                                        if t.name not in ("etl_load", "etl_revision")])
    for relative, expected in EXPECTED.items():
        source = demo_with_faults / "faults" / relative
        feed = relative.split("/")[0]
        target = settings.inbox / feed / source.name
        shutil.copy(source, target)
        result = load_file(warehouse, target, archive=settings.archive / feed,
                           quarantine=settings.quarantine / feed, feed_hint=feed, today=TODAY)
        assert result.status == "refused", relative
        said = {(p.rule, p.row, p.column, p.value) for p in result.problems}
        assert said == expected, relative
        assert len(result.problems) == len(expected), relative  # each said once
        assert {p.file for p in result.problems} == {source.name}
        report = next((settings.quarantine / feed).glob(f"*{source.name}.report.txt"))
        lines = report.read_text(encoding="utf-8").splitlines()
        assert {str(p) for p in result.problems} <= set(lines), relative
        assert not target.exists()  # moved to quarantine, not left in the inbox
    with warehouse.connect() as conn:
        after = wh.table_digest(conn, [t for t in wh.metadata.sorted_tables
                                       if t.name not in ("etl_load", "etl_revision")])
    assert after == before
