"""What a feed declares about itself (its record), and the warehouse rows a parsed file becomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from etl.layouts import layouts_for


@dataclass
class TableRows:
    """Rows for one table, the key columns they replace by, and whether replacements are audited."""

    frame: pd.DataFrame
    keys: list[str]
    revise: bool = True  # keep the replaced figures in etl_revision
    table: str | None = None  # the warehouse table, when not the entry's own name
    fill_only: bool = False  # add rows only for keys the table does not have yet
    # The (organisation, period) units the file restates, when more than its rows' keys (a unit
    # whose rows all fell out of area is still restated, so an earlier file's rows there go).
    cover: pd.DataFrame | None = None

    def coverage(self) -> pd.DataFrame:
        """The key units this file restates: what replaces an earlier file's contribution."""
        own = self.frame[self.keys].drop_duplicates()
        if self.cover is None:
            return own
        return pd.concat([own, self.cover[self.keys]]).drop_duplicates().reset_index(drop=True)


@dataclass
class FactRows:
    tables: dict[str, TableRows] = field(default_factory=dict)
    periods: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was skipped, for the audit
    described: dict[str, str] = field(default_factory=dict)  # new authorities: code -> file's name
    set_aside: list = field(default_factory=list)  # Problems: rows reported, not loaded

    @property
    def affected(self) -> dict[str, set[str]]:
        """Periods each table gained or changed: what the mart must rebuild."""
        out: dict[str, set[str]] = {}
        for name, rows in self.tables.items():
            name = rows.table or name
            period_col = next((k for k in rows.keys if "period" in k), None)
            out[name] = set(rows.frame[period_col].dropna()) if period_col else set()
        return out


# build(valid frame, its layout's spec) -> the warehouse rows the file stands for
Builder = Callable[[pd.DataFrame, dict], FactRows]


@dataclass(frozen=True)
class Frame:
    """One canonical frame a feed's parser returns, and how it becomes warehouse rows."""

    name: str
    columns: tuple[str, ...]  # exactly these first (more may follow, e.g. source_row)
    schema: pa.DataFrameSchema | None
    keys: tuple[str, ...]  # a row's identity in one file: duplicates are refused
    code_column: str | None  # checked against the organisation reference month by month
    tables: tuple[str, ...]  # the warehouse tables `build` writes
    build: Builder
    # Catalogue families whose KPIs read those tables: a load rebuilds only these.
    families: tuple[str, ...] = ()
    # The units a file restates beyond its own rows' keys, from the frame as parsed (before rows
    # of other areas are skipped); None when its rows' keys say it all.
    coverage: Callable[[pd.DataFrame], pd.DataFrame] | None = None


@dataclass(frozen=True)
class Feed:
    """One inbox folder: how its files are recognised and read, and the frames they give."""

    name: str
    detect: Callable[[Path], str | None]  # the layout a file is in, else None
    parse: Callable[[Path, str], pd.DataFrame]  # a canonical frame; FeedError on bad cells
    frames: tuple[Frame, ...]  # the first unless a layout names another (`frame = "..."`)

    @property
    def layouts(self) -> dict[str, dict]:
        """The feed's layout table (etl/layouts/<feed>.toml), one entry per edition."""
        return layouts_for(self.name)

    def frame_for(self, layout: str) -> Frame:
        """The canonical frame files of `layout` parse to."""
        name = self.layouts.get(layout, {}).get("frame", self.frames[0].name)
        return next(f for f in self.frames if f.name == name)

    @property
    def tables(self) -> tuple[str, ...]:
        """Every warehouse table the feed writes."""
        return tuple(t for f in self.frames for t in f.tables)


def period_list(*series: pd.Series) -> list[str]:
    """The distinct non-blank periods of some Series, sorted."""
    values: set[str] = set()
    for s in series:
        values |= set(s.dropna().astype(str))
    return sorted(v for v in values if v)


def org_period_rows(table: str, columns: tuple[str, ...]) -> Builder:
    """A builder storing (org_code, period, *columns) in `table`, replaced per org and month."""
    def build(frame: pd.DataFrame, _spec: dict) -> FactRows:
        rows = frame[["org_code", "period", *columns]]
        return FactRows({table: TableRows(rows, ["org_code", "period"])},
                        period_list(rows["period"]))

    return build
