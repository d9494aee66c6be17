"""The mart builds from whatever has arrived: organisations alone, or without a population."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import func, select

from carekpi import warehouse as wh
from etl.demo import generate
from etl.pipeline import run_inbox


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
