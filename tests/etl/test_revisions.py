"""Revisions: a resubmitted month replaces the earlier figures, the mart follows, and the audit
keeps both loads and the earlier version's figures."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pandas as pd
from sqlalchemy import select

from carekpi import warehouse as wh
from carekpi_demo import generate
from etl.pipeline import run_inbox

TODAY = date(2025, 12, 20)  # more than 91 days after every month loaded here


def test_a_resubmitted_month_replaces_the_first_submission(tmp_path, warehouse, settings):
    demo = tmp_path / "demo"
    generate(demo, months=8, seed=9, end_month="2025-06")
    resub = sorted((demo / "reablement").glob("*_resub_*.csv"))[0]
    month = resub.stem.rsplit("_", 1)[-1]
    first = demo / "reablement" / f"reablement_{month}.csv"
    for feed in ("organisations", "population"):
        shutil.copytree(demo / feed, settings.inbox / feed)
    (settings.inbox / "reablement").mkdir()
    shutil.copy(first, settings.inbox / "reablement" / first.name)
    assert not run_inbox(warehouse, settings, today=TODAY, progress=False).failed

    def state() -> tuple[pd.DataFrame, pd.DataFrame]:
        f, m = wh.reablement_fact, wh.kpi_mart
        with warehouse.connect() as conn:
            facts = wh.read_frame(conn, select(f).where(f.c.period == month))
            mart = wh.read_frame(conn, select(m.c.org_code, m.c.numerator, m.c.value,
                                              m.c.provisional).where(
                m.c.kpi_id == "reablement_home_91", m.c.period == month,
                m.c.level == "network"))
        return facts.set_index("org_code"), mart.set_index("org_code")

    facts, mart = state()
    assert facts["at_home_91_days"].isna().all()  # the first submission leaves it blank
    assert mart["value"].isna().all() and mart["provisional"].all()

    shutil.copy(resub, settings.inbox / "reablement" / resub.name)
    assert not run_inbox(warehouse, settings, today=TODAY, progress=False).failed
    facts, mart = state()
    raw = pd.read_csv(resub, dtype={"org_code": str}).set_index("org_code")
    assert facts["at_home_91_days"].astype(int).to_dict() == raw["at_home_91_days"].to_dict()
    expected = raw["at_home_91_days"] / raw["discharged_65_into_reablement"] * 100
    pd.testing.assert_series_equal(mart["value"].sort_index(), expected.sort_index(),
                                   check_names=False, rtol=1e-12)
    assert not mart["provisional"].any()

    with warehouse.connect() as conn:
        loads = wh.read_frame(conn, select(wh.etl_load).where(wh.etl_load.c.feed == "reablement"))
        revisions = wh.read_frame(conn, select(wh.etl_revision))
    assert loads["file_name"].tolist() == [first.name, resub.name]
    assert (loads["status"] == "loaded").all()
    first_id, resub_id = loads["load_id"].tolist()
    assert len(revisions) == len(raw)  # one per network: the figures that were replaced
    assert set(revisions["replaced_load_id"]) == {first_id}
    assert set(revisions["superseded_by_load_id"]) == {resub_id}
    assert revisions["superseded_at"].notna().all()
    earlier = pd.read_csv(first, dtype={"org_code": str}).set_index("org_code")
    for row in revisions.itertuples():
        figures = json.loads(row.figures)
        assert figures["at_home_91_days"] is None
        assert figures["discharged_65_into_reablement"] == earlier.loc[
            row.org_code, "discharged_65_into_reablement"]
