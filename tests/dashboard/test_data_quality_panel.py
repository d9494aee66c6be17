"""The data-quality page's helpers without a browser: the quarantine folder read as a table, and
the warehouse's refusals, missing months and provisional months turned into rows (both dialects,
on the read side's hand-built warehouse)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pandas as pd

from dashboard import queries
from dashboard.panels import data_quality as panel
from tests.dashboard.test_read import K, wh_filled  # noqa: F401  (the shared warehouse fixture)


def test_quarantined_files_come_with_their_reports(tmp_path):
    folder = tmp_path / "quarantine"
    assert panel.quarantined_files(folder).empty
    (folder / "care_packages").mkdir(parents=True)
    stored = folder / "care_packages" / "97ce7ee143d12749__missing_column.csv"
    stored.write_text("practice_code,period\n", encoding="utf-8")
    stored.with_name(stored.name + ".report.txt").write_text("row 1: column missing\n",
                                                             encoding="utf-8")
    (folder / "odd.xlsx").write_bytes(b"xx")
    os.utime(stored, (1_790_000_000, 1_790_000_000))
    files = panel.quarantined_files(folder)
    assert files[["file_name", "stored_as", "size_bytes"]].values.tolist() == [
        ["missing_column.csv", "care_packages/97ce7ee143d12749__missing_column.csv", 21],
        ["odd.xlsx", "odd.xlsx", 2]]
    assert files["feed"].iloc[0] == "care_packages" and pd.isna(files["feed"].iloc[1])
    assert files["report"].iloc[0] == "row 1: column missing\n"
    assert pd.isna(files["report"].iloc[1])
    assert files["quarantined_at"].iloc[0] == datetime.fromtimestamp(1_790_000_000, tz=UTC)


def test_rows_of_the_tables(wh_filled, tmp_path):  # noqa: F811
    queries.configure(wh_filled)
    assert panel.summary(tmp_path / "none") == (
        "1 file(s) refused and 2 row(s) refused in loaded files; 0 file(s) in quarantine; "
        "12 practice month(s) missing from a feed; 1 KPI month(s) provisional.")
    refused = panel.refused_items()[0]
    texts = [str(item.children[1].children) for item in refused.children]
    assert texts == [" · Hospital spells · 05 Apr 2025 10:00 · Loaded, 2 row(s) refused",
                     " · not recognised · 04 Apr 2025 10:00 · Refused: nothing loaded"]
    missing = panel.missing_rows()
    assert missing[0] == {"month": "Mar 2025", "feed": "Care packages",
                          "practice": "Bravo (B)", "network": "North (N1)"}
    assert len(missing) == 12
    # the area is the place with networks; its provisional month says why
    assert panel.provisional_rows() == [{"month": "Mar 2025",
                                         "kpi": "Diabetes care package complete",
                                         "organisation": "Place (P)",
                                         "reason": "practice B has not submitted"}]
    assert panel.provisional_frame()["kpi_id"].tolist() == [K]
    assert [r["feed"] for r in panel.freshness_rows()] == [
        "Care packages", "Registered population", "Hospital spells"]
