"""The command line in-process (CliRunner): upgrade, generate, load, export, status."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from carekpi.cli import cli
from carekpi.migrate import alembic_config
from etl.export import EXPORT_COLUMNS


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> dict[str, str]:
    """Environment of a fresh embedded workspace with four months of demo feeds loaded."""
    root = tmp_path_factory.mktemp("cli")
    env = {"CAREKPI_DATA_DIR": str(root / "data")}
    runner = CliRunner()
    upgraded = runner.invoke(cli, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"revision {head}" in upgraded.output
    generated = runner.invoke(cli, ["demo", "generate", "--out", str(root / "data" / "inbox"),
                                    "--months", "4", "--end-month", "2025-06"], env=env)
    assert generated.exit_code == 0, generated.output
    loaded = runner.invoke(cli, ["etl", "run"], env=env)
    assert loaded.exit_code == 0, loaded.output
    assert " 0 refused" in loaded.output
    env["ROOT"] = str(root)
    return env


def test_export_has_the_documented_columns_in_order(workspace):
    out = Path(workspace["ROOT"]) / "ea.csv"
    result = CliRunner().invoke(cli, ["export", "--out", str(out), "--kpi", "ea_rate",
                                      "--level", "network"], env=workspace)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame.columns[: len(EXPORT_COLUMNS)]) == EXPORT_COLUMNS
    assert set(frame["level"]) == {"network"} and set(frame["kpi_id"]) == {"ea_rate"}
    assert len(frame) == 8 * 4  # eight networks, four months


def test_export_suppresses_small_counts_unless_asked_not_to(workspace):
    root = Path(workspace["ROOT"])
    runner = CliRunner()
    runner.invoke(cli, ["export", "--out", str(root / "s.csv"), "--level", "practice"],
                  env=workspace)
    runner.invoke(cli, ["export", "--out", str(root / "raw.csv"), "--level", "practice",
                        "--no-suppress"], env=workspace)
    shown = pd.read_csv(root / "s.csv", dtype=str, keep_default_na=False)
    raw = pd.read_csv(root / "raw.csv", dtype=str, keep_default_na=False)
    small = pd.to_numeric(raw["numerator"]).between(1, 7)
    assert small.any(), "the demo should have some small practice counts"
    assert (shown.loc[small, "numerator"] == "*").all()
    assert (shown.loc[small, "value"] == "*").all()
    assert (shown.loc[small, "suppressed"] == "True").all()
    zero = pd.to_numeric(raw["numerator"]) == 0
    assert (shown.loc[zero, "numerator"] == raw.loc[zero, "numerator"]).all()


def test_bad_month_is_a_clear_error_not_a_traceback(workspace):
    result = CliRunner().invoke(cli, ["export", "--out", "x.csv", "--from", "2025-13"],
                                env=workspace)
    assert result.exit_code == 2
    assert "not a month written YYYY-MM" in result.output
    assert "Traceback" not in result.output


def test_status_lists_loads_and_quarantine(workspace):
    result = CliRunner().invoke(cli, ["etl", "status"], env=workspace)
    assert result.exit_code == 0, result.output
    assert "loaded" in result.output and "Quarantined" in result.output


def test_payments_follow_network_values_at_quarter_ends(workspace):
    root = Path(workspace["ROOT"])
    result = CliRunner().invoke(cli, ["payments", "--out", str(root / "pay.csv")], env=workspace)
    assert result.exit_code == 0, result.output
    view = pd.read_csv(root / "pay.csv", dtype={"quarter": int})
    export = root / "cp.csv"
    CliRunner().invoke(cli, ["export", "--out", str(export), "--level", "network",
                             "--no-suppress"], env=workspace)
    mart = pd.read_csv(export)
    headline = mart[mart["kpi_id"].str.fullmatch(r"cp_[a-z_]+_complete")
                    & mart["period"].isin(["2025-03", "2025-06"])]
    assert len(view) == len(headline) == 8 * 4 * 2  # networks x packages x quarter ends
    merged = view.merge(headline, on=["kpi_id", "org_code", "value"])
    assert len(merged) == len(view)
    # all-or-nothing by default: a quarter earns 1 when the value reaches the target
    expected = (merged["value"] >= merged["target_y"]).astype(float)
    assert merged["share_earned"].tolist() == expected.tolist()
    q4 = merged[merged["quarter"] == 4]  # March closes 2024/25; June is Q1 of 2025/26
    assert set(q4["year"]) == {"2024/25"}
    assert (merged.loc[merged["quarter"] == 1, "share_to_date"] == expected[
        merged["quarter"] == 1] / 4).all()


def test_annotations_load_and_bad_rows_named(workspace):
    root = Path(workspace["ROOT"])
    good = root / "notes.csv"
    good.write_text("org_code,period,text,rebase\nU00002,2025-05,rapid response team started,"
                    "true\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["annotations", "load", str(good)], env=workspace)
    assert result.exit_code == 0, result.output
    assert "1 annotations loaded" in result.output
    bad = root / "bad_notes.csv"
    bad.write_text("org_code,period,text,rebase\nZZZ999,2025-5,x,maybe\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["annotations", "load", str(bad)], env=workspace)
    assert result.exit_code == 1
    for said in ("row 2, column 'org_code'", "column 'period'", "column 'rebase'"):
        assert said in result.output
    assert "Traceback" not in result.output
