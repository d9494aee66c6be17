"""Every bad file of `demo generate --faults` is refused with a report naming its defect, and
the warehouse content is unchanged (table digests before and after)."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from carekpi import warehouse as wh
from etl.demo import generate
from etl.load import load_file
from etl.pipeline import run_inbox

TODAY = date(2025, 7, 20)

# fault file -> what the report must say (case-insensitive regex over all its problems)
EXPECTED = {
    "care_packages/missing_column.csv": r"missing.*completed|completed.*missing",
    "care_packages/renamed_header.csv": r"register",
    "care_packages/completed_greater_than_register.csv": r"completed.*greater than.*register",
    "care_packages/unknown_practice_code.csv": r"Y99999",
    "care_packages/wrong_delimiter.csv": r"field|delimit|column",
    "population/empty.csv": r"empty",
    "population/text_in_number_column.csv": r"about 800",
    "organisations/non_utf8.csv": r"decode|utf-8|encoding",
    "spells/truncated.csv": r"field|truncat",
    "spells/unknown_layout.csv": r"no known layout",
    "care_home_admissions/header_only.csv": r"no data rows",
    "care_home_admissions/negative_counts.csv": r"negative",
    "reablement/future_period.csv": r"future",
    "delayed_transfers/duplicated_rows.csv": r"duplicat",
    "delayed_transfers/header_row_moved_and_renamed.xlsx": r"header",
}


@pytest.fixture(scope="module")
def demo_with_faults(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("faults")
    generate(out, scale="area", months=3, seed=3, end_month="2025-06", faults=True)
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
    for relative, pattern in EXPECTED.items():
        source = demo_with_faults / "faults" / relative
        feed = relative.split("/")[0]
        target = settings.inbox / feed / source.name
        shutil.copy(source, target)
        result = load_file(warehouse, target, archive=settings.archive / feed,
                           quarantine=settings.quarantine / feed, feed_hint=feed, today=TODAY)
        said = "\n".join(str(p) for p in result.problems)
        assert result.status == "refused", relative
        assert re.search(pattern, said, re.IGNORECASE), f"{relative}: {said}"
        assert source.name in said or all(p.file == source.name for p in result.problems)
        report = next((settings.quarantine / feed).glob(f"*{source.name}.report.txt"))
        assert re.search(pattern, report.read_text(), re.IGNORECASE)
        assert not target.exists()  # moved to quarantine, not left in the inbox
    with warehouse.connect() as conn:
        after = wh.table_digest(conn, [t for t in wh.metadata.sorted_tables
                                       if t.name not in ("etl_load", "etl_revision")])
    assert after == before
