"""The feed registry (etl.feeds.FEEDS) is complete and consistent with the warehouse, the layout
tables and the KPI catalogue."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import etl.feeds
from carekpi import warehouse as wh
from etl.feeds import CANONICAL_COLUMNS, FEEDS, FRAMES, family_tables
from etl.layouts import layouts_for
from kpi.catalogue import FAMILY_TITLES, load_catalogue

FEEDS_DIR = Path(etl.feeds.__file__).parent
LAYOUTS_DIR = FEEDS_DIR.parent / "layouts"


def test_every_feed_module_and_layout_table_is_listed():
    modules = {p.stem for p in FEEDS_DIR.glob("*.py")} - {"__init__", "record"}
    assert set(FEEDS) == modules == {p.stem for p in LAYOUTS_DIR.glob("*.toml")}
    assert all(name == feed.name for name, feed in FEEDS.items())


def test_every_fact_table_is_owned_by_exactly_one_feed():
    owners = Counter(t for feed in FEEDS.values() for t in feed.tables)
    assert {t: owners[t] for t in wh.FACT_TABLES} == dict.fromkeys(wh.FACT_TABLES, 1)
    # and every table a feed writes is a warehouse table
    assert set(owners) <= set(wh.metadata.tables)
    assert max(owners.values()) == 1


def test_every_layout_parses_to_a_frame_of_its_feed():
    for feed in FEEDS.values():
        names = {f.name for f in feed.frames}
        for layout, spec in layouts_for(feed.name).items():
            assert spec.get("frame", feed.frames[0].name) in names, (feed.name, layout)
            assert feed.frame_for(layout).name in names
    assert FEEDS["spells"].frame_for("mar_commissioner").name == "spells_commissioner"
    assert FEEDS["spells"].frame_for("native").name == "spells"


def test_frames_keys_and_codes_are_canonical_columns():
    for frame in FRAMES.values():
        assert set(frame.keys) <= set(frame.columns), frame.name
        assert frame.code_column is None or frame.code_column in frame.columns, frame.name
        if frame.schema is not None:  # the schema checks exactly the canonical columns
            named = {n for n, c in frame.schema.columns.items() if not c.regex}
            assert named == {*frame.columns, "source_row"}, frame.name
    assert CANONICAL_COLUMNS["population"] == [
        "practice_code", "period", "sex", "age_band", "patients"]


def test_every_catalogue_family_is_fed_by_a_fact_table():
    families = {k.family for k in load_catalogue()}
    assert families == set(FAMILY_TITLES)
    tables = family_tables()
    fact = set(wh.FACT_TABLES)
    assert {f for f in families if tables.get(f, set()) & fact} == families
    # the families each feed's declared tables rebuild (organisation changes rebuild them all)
    structural = {"organisation", "membership"}
    assert {f: t - structural for f, t in tables.items()} == {
        "care_packages": {"care_package_fact", "population"},
        "emergency_admissions": {"spell_fact", "population"},
        "length_of_stay": {"spell_fact", "population"},
        "delayed_transfers": {"delayed_transfer_fact", "delay_reason_fact", "population"},
        "reablement": {"reablement_fact"},
        "care_home_admissions": {"care_home_fact", "population"},
    }
    assert all(structural <= t for t in tables.values())
