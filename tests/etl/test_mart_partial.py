"""The mart builds from whatever has arrived: organisations alone, or without a population."""

from __future__ import annotations

import shutil
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select

from carekpi import warehouse as wh
from carekpi_demo import generate
from etl.pipeline import run_inbox
from tests.etl import demo_truth


@pytest.mark.parametrize("feeds", [("organisations",), ("organisations", "care_packages"),
                                   ("organisations", "delayed_transfers")])
def test_mart_builds_from_partial_feeds(feeds, tmp_path, warehouse, settings):
    generate(tmp_path / "demo", months=2, seed=2, end_month="2025-06")
    for feed in feeds:
        shutil.copytree(tmp_path / "demo" / feed, settings.inbox / feed)
    summary = run_inbox(warehouse, settings, today=date(2025, 7, 20), progress=False)
    assert not summary.failed
    with warehouse.connect() as conn:
        kpis = set(conn.execute(select(wh.kpi_mart.c.kpi_id).distinct()).scalars())
        rows = conn.execute(select(func.count()).select_from(wh.kpi_mart)).scalar()
    if feeds == ("organisations", "care_packages"):
        assert "cp_diabetes_complete" in kpis and not any(k.startswith("ea_") for k in kpis)
    elif feeds == ("organisations", "delayed_transfers"):
        # no population: the share needs none, the rate per adult cannot be built
        assert kpis == {"dtoc_social_care_share"}
    else:
        assert rows == 0


def test_a_late_submission_leaves_its_network_provisional_until_it_arrives(
        tmp_path, warehouse, settings):
    generate(tmp_path / "demo", months=15, seed=4, end_month="2025-06")
    late = next((tmp_path / "demo" / "care_packages").glob("*_late_*.csv"))
    practice = late.stem.rsplit("_", 1)[-1]
    month = late.stem.split("_")[2]  # care_packages_<YYYY-MM>_late_<code>
    for feed in ("organisations", "population", "care_packages"):
        shutil.copytree(tmp_path / "demo" / feed, settings.inbox / feed)
    shutil.move(settings.inbox / "care_packages" / late.name, tmp_path / late.name)
    assert not run_inbox(warehouse, settings, today=date(2025, 7, 20), progress=False).failed

    def provisional() -> dict[str, bool]:
        return {org: flag for org, (flag, _) in marked().items()}

    def marked() -> dict[str, tuple[bool, str | None]]:
        m = wh.kpi_mart
        with warehouse.connect() as conn:
            rows = conn.execute(select(m.c.org_code, m.c.provisional, m.c.provisional_reason)
                                .where(m.c.kpi_id == "cp_diabetes_complete",
                                       m.c.period == month,
                                       m.c.level.in_(["network", "place"]))).all()
        return {org: (flag, reason) for org, flag, reason in rows}

    orgs = pd.read_csv(tmp_path / "demo" / "organisations" / "organisations.csv", dtype=str)
    network = orgs.set_index("practice_code").loc[practice, "network_code"]
    before = provisional()
    assert before[network] is True and before["E09000099"] is True
    assert sum(before.values()) == 2  # the other networks are complete
    # the reason names how many practices' returns are missing of how many
    listed = demo_truth.list_sizes(tmp_path / "demo")
    listed = set(listed.loc[listed["period"] == month, "practice_code"])
    members = demo_truth.network_on_first_day(demo_truth.organisations(tmp_path / "demo"),
                                              [month])
    in_network = len(listed & set(members.loc[members["network_code"] == network,
                                              "practice_code"]))
    reasons = {org: reason for org, (_, reason) in marked().items()}
    assert reasons[network] == (f"provisional: 1 of {in_network} practices' returns not yet "
                                "received")
    assert reasons["E09000099"] == (f"provisional: 1 of {len(listed)} practices' returns not "
                                    "yet received")
    assert sum(r is not None for r in reasons.values()) == 2
    shutil.move(tmp_path / late.name, settings.inbox / "care_packages" / late.name)
    assert not run_inbox(warehouse, settings, today=date(2025, 7, 20), progress=False).failed
    assert not any(provisional().values())
