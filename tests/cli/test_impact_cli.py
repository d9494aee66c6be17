"""`carekpi impact` on a designed series in the mart (SQLite and PostgreSQL): the CSV has one row
per month with the documented columns, the start can come from an annotation, the cost uses the
settings' tariff, and refusals are clear errors, not tracebacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from carekpi import warehouse as wh
from carekpi.cli import cli
from kpi.impact import COLUMNS

ORG = "U00009"
START = "2024-01"


@pytest.fixture
def env(warehouse, settings) -> dict[str, str]:
    """A network with 30 months of emergency admissions (a 15% step from START) and an
    annotation at START; the environment pointing the CLI at it, with a tariff of £2,000."""
    periods = [str(p) for p in pd.period_range("2022-01", periods=30, freq="M")]
    t = np.arange(30)
    population = 20000.0 + 20 * t
    mean = population * 0.009 * np.exp(0.08 * np.cos(2 * np.pi * t / 12))
    counts = np.round(mean * np.where(np.asarray(periods) >= START, 0.85, 1.0))
    mart = pd.DataFrame({"kpi_id": "ea_rate", "org_code": ORG, "period": periods,
                         "form": "month", "level": "network", "numerator": counts,
                         "denominator": population, "value": counts / population * 1000,
                         "provisional": False, "carried_forward": False, "suppressed": False})
    with warehouse.begin() as conn:
        wh.bulk_insert(conn, wh.kpi_mart, mart)
        conn.execute(wh.annotation.insert(), [
            {"org_code": ORG, "period": "2023-06", "text": "an earlier note", "rebase": False},
            {"org_code": ORG, "period": START, "text": "frailty team started", "rebase": False}])
    return {"CAREKPI_DATA_DIR": str(settings.data_dir),
            "CAREKPI_WAREHOUSE_URL": settings.database_url,
            "CAREKPI_TARIFF_EMERGENCY_ADMISSION": "2000"}


def test_impact_csv_from_the_latest_annotation(env, tmp_path):
    out = tmp_path / "impact.csv"
    result = CliRunner().invoke(cli, ["impact", "--kpi", "ea_rate", "--org", ORG,
                                      "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert f"from {START} to 2024-06" in result.output and "significant" in result.output
    csv = pd.read_csv(out)
    assert list(csv.columns) == [*COLUMNS, "suppressed"]
    assert len(csv) == 30 and csv["phase"].value_counts().to_dict() == {
        "baseline": 24, "programme": 6}
    programme = csv[csv["phase"] == "programme"]
    # each month's difference is actual - expected; the cumulative is their running sum
    assert programme["difference"].tolist() == pytest.approx(
        (programme["actual"] - programme["expected"]).tolist(), abs=0.11)
    assert programme["cumulative_difference"].iloc[-1] == pytest.approx(
        programme["difference"].sum(), abs=0.35)
    assert programme["cumulative_cost"].iloc[-1] == pytest.approx(
        programme["cumulative_difference"].iloc[-1] * 2000, abs=100)
    # a 15% step is clearly outside the interval of no change
    assert programme["cumulative_upper"].iloc[-1] < 0


def test_impact_start_from_an_annotation_id_and_to_stdout(env):
    result = CliRunner().invoke(cli, ["impact", "--kpi", "ea_rate", "--org", ORG,
                                      "--annotation", "1"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ",".join([*COLUMNS, "suppressed"])
    assert len(lines) == 31
    assert sum(",programme," in line for line in lines) == 13  # 2023-06 .. 2024-06
    missing = CliRunner().invoke(cli, ["impact", "--kpi", "ea_rate", "--org", ORG,
                                       "--annotation", "99"], env=env)
    assert missing.exit_code == 1 and "there is no annotation 99" in missing.output


def test_impact_refusals_are_clear_errors(env):
    runner = CliRunner()
    short = runner.invoke(cli, ["impact", "--kpi", "ea_rate", "--org", ORG, "--start", "2022-09"],
                          env=env)
    assert short.exit_code == 1
    assert "only 8 month(s) of data before the programme start 2022-09" in short.output
    assert "at least 12 are needed" in short.output
    not_count = runner.invoke(cli, ["impact", "--kpi", "cp_diabetes_complete", "--org", ORG,
                                    "--start", START], env=env)
    assert not_count.exit_code == 1 and "is not a count KPI" in not_count.output
    no_data = runner.invoke(cli, ["impact", "--kpi", "ea_rate", "--org", "ZZZ", "--start",
                                  START], env=env)
    assert no_data.exit_code == 1 and "no ea_rate data for organisation 'ZZZ'" in no_data.output
    for result in (short, not_count, no_data):
        assert "Traceback" not in result.output
