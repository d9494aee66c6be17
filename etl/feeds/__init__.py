"""The feed registry: one module per inbox folder, each declaring its record (etl.feeds.record).

A record says how the feed's files are recognised and parsed, the canonical frame(s) the parser
returns (codes text, `period` 'YYYY-MM' text, dates datetime.date or None, counts Int64), their
row keys and organisation-code column, the warehouse tables they become and the KPI families
those tables feed. Parsers never touch the database. Adding a feed is one module listed below
plus its layout table (etl/layouts/<feed>.toml); adding an edition is an entry in that table.
"""

from __future__ import annotations

from etl.feeds import (
    care_home_admissions,
    care_packages,
    delayed_transfers,
    organisations,
    population,
    reablement,
    spells,
)
from etl.feeds.record import Feed, Frame

# In detection order: a file is offered to its folder's feed first, then to these in turn.
FEEDS: dict[str, Feed] = {f.name: f for f in (
    organisations.RECORD,
    population.RECORD,
    care_packages.RECORD,
    spells.RECORD,
    delayed_transfers.RECORD,
    reablement.RECORD,
    care_home_admissions.RECORD,
)}
FEED_NAMES = tuple(FEEDS)

FRAMES: dict[str, Frame] = {frame.name: frame for f in FEEDS.values() for frame in f.frames}
CANONICAL_COLUMNS: dict[str, list[str]] = {name: list(f.columns) for name, f in FRAMES.items()}


def family_tables() -> dict[str, set[str]]:
    """The tables each KPI family's measures come from: a load rebuilds only the KPIs it touches."""
    out: dict[str, set[str]] = {}
    for frame in FRAMES.values():
        for family in frame.families:
            out.setdefault(family, set()).update(frame.tables)
    return out
