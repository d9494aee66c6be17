"""Turning a parsed, validated feed frame into the warehouse rows it stands for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from etl.authorities import place_authorities
from etl.detect import feed_module
from etl.layouts import layouts_for
from etl.problems import FeedError, Problem
from etl.validate import check_duplicates, validate_frame

# Unknown or open-ended membership starts are stored as this date (it is part of the key).
EARLIEST = date(1900, 1, 1)
# A spells fact row whose practice code is not a practice (HES V81999 etc.).
UNATTRIBUTED = "UNATTRIBUTED"


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
    set_aside: list[Problem] = field(default_factory=list)  # rows reported, not loaded

    @property
    def affected(self) -> dict[str, set[str]]:
        """Periods each table gained or changed: what the mart must rebuild."""
        out: dict[str, set[str]] = {}
        for name, rows in self.tables.items():
            name = rows.table or name
            period_col = next((k for k in rows.keys if "period" in k), None)
            out[name] = set(rows.frame[period_col].dropna()) if period_col else set()
        return out


# feed -> (key columns for duplicate detection, organisation code column checked per period)
_KEYS: dict[str, tuple[list[str], str | None]] = {
    "population": (["practice_code", "period", "sex", "age_band"], "practice_code"),
    "care_packages": (["practice_code", "period", "package", "element"], "practice_code"),
    "delayed_transfers": (["org_code", "period"], "org_code"),
    "reablement": (["org_code", "period"], "org_code"),
    "care_home_admissions": (["org_code", "period"], "org_code"),
    "spells_commissioner": (["org_code", "period"], None),  # commissioners: no local reference
    "spells": ([], "practice_code"),
    "organisations": (["practice_code", "network_code", "valid_from"], None),
}


def frame_kind(feed: str, frame: pd.DataFrame) -> str:
    """The canonical frame a parse produced (spells files may be record- or commissioner-level)."""
    if feed == "spells" and "admission_date" not in frame.columns:
        return "spells_commissioner"
    return feed


def fact_rows_for(
    feed: str, layout: str, frame: pd.DataFrame, file: str, today: date,
    known_codes: Callable[[str], set[str]],
) -> FactRows:
    """Validate a parsed frame and build its warehouse rows; FeedError lists every problem."""
    kind = frame_kind(feed, frame)
    module = feed_module(feed)
    spec = layouts_for(feed).get(layout, {})
    notes: list[str] = list(frame.attrs.get("notes", []))
    parsed = frame  # before national rows are filtered: a file's coverage is all it restates
    placed = None
    if spec.get("scope") == "national" and not frame.empty:
        if spec.get("describes") == "authorities":
            placed = place_authorities(frame, file, known_codes, frame.attrs.get("described", {}))
            frame, notes = placed.frame, notes + placed.notes
            known_codes = _also_known(known_codes, set(placed.described))
        else:
            frame, skipped = _keep_our_organisations(frame, _KEYS[kind][1], known_codes)
            notes += skipped
    schema = getattr(module, "SCHEMAS", {}).get(layout) or getattr(module, "SCHEMA", None)
    keys, code_column = _KEYS[kind]
    check_codes = code_column is not None and kind != "organisations"
    problems: list[Problem] = []
    if frame.empty:
        problems.append(Problem(file, "file has a header but no data rows"))
    else:
        if schema is not None:
            problems += validate_frame(
                frame, feed=feed, file=file, schema=schema, today=today,
                known_codes=known_codes if check_codes else None,
                code_column=code_column if check_codes else None)
        if keys:
            problems += check_duplicates(frame, keys, file)
    if problems:
        raise FeedError(file, problems)
    rows = _BUILDERS[kind](frame)
    rows.notes = notes
    if placed is not None:
        rows.described, rows.set_aside = placed.described, placed.set_aside
    if kind == "spells":
        rows.tables["spell_fact"].cover = spell_coverage(parsed)
    if kind == "organisations" and layouts_for(feed).get(layout, {}).get("place_is_commissioner"):
        _commissioner_places_fill_only(rows, set(frame["practice_code"].dropna()))
    return rows


def _also_known(
    known_codes: Callable[[str], set[str]], extra: set[str],
) -> Callable[[str], set[str]]:
    """`known_codes` widened by codes known in every month (authorities a file introduces)."""
    def codes(period: str) -> set[str]:
        return known_codes(period) | extra

    return codes


def _commissioner_places_fill_only(rows: FactRows, practices: set[str]) -> None:
    """Network->place links from a commissioner column are added only where none exists."""
    links = rows.tables.get("membership")
    if links is None:
        return
    higher = ~links.frame["child_code"].isin(practices)
    rows.tables["membership"] = TableRows(links.frame[~higher], links.keys, revise=False)
    rows.tables["membership_fill"] = TableRows(links.frame[higher], links.keys, revise=False,
                                               table="membership", fill_only=True)


def _keep_our_organisations(
    frame: pd.DataFrame, code_column: str, known_codes: Callable[[str], set[str]],
) -> tuple[pd.DataFrame, list[str]]:
    """Rows of a national publication for organisations in the reference (the others are out
    of area: skipped and counted, not refused)."""
    if "period" in frame.columns:
        period = frame["period"].astype(str)
    else:  # record-level spells: the admission month
        period = pd.to_datetime(frame["admission_date"]).dt.strftime("%Y-%m")
    codes = frame[code_column]
    ours = codes.isna()  # spells of unknown practice are kept as unattributed
    for month, index in frame.groupby(period).groups.items():
        ours.loc[index] |= codes.loc[index].isin(known_codes(str(month)))
    skipped = int((~ours).sum())
    if not skipped:
        return frame, []
    outside = codes[~ours].nunique()
    note = (f"{skipped} row(s) of {outside} organisation(s) outside the organisation reference "
            f"skipped (out of area)")
    return frame[ours.to_numpy()], [note]


def _periods(*series: pd.Series) -> list[str]:
    values: set[str] = set()
    for s in series:
        values |= set(s.dropna().astype(str))
    return sorted(v for v in values if v)


def _population(frame: pd.DataFrame) -> FactRows:
    rows = frame[["practice_code", "period", "sex", "age_band", "patients"]]
    return FactRows({"population": TableRows(rows, ["practice_code", "period"])},
                    _periods(rows["period"]))


def _care_packages(frame: pd.DataFrame) -> FactRows:
    rows = frame[["practice_code", "period", "package", "element", "register", "completed"]]
    return FactRows({"care_package_fact": TableRows(rows, ["practice_code", "period"])},
                    _periods(rows["period"]))


SPELL_COVERAGE = ["coverage_org", "coverage_period"]


def _spells(frame: pd.DataFrame) -> FactRows:
    """Spell counts keyed by the coverage they came from: a later file of the same coverage
    (HES: episode-end month x provider) replaces them, files of other coverage add up."""
    from etl.feeds.spells import aggregate_spells
    from etl.reference import acsc_prefixes

    rows = aggregate_spells(frame, acsc_prefixes())
    rows["practice_code"] = rows["practice_code"].fillna(UNATTRIBUTED)
    rows["discharge_period"] = rows["discharge_period"].fillna("")
    rows["admission_period"] = rows["admission_period"].fillna("")
    return FactRows({"spell_fact": TableRows(rows, SPELL_COVERAGE)},
                    _periods(rows["coverage_period"]))


def spell_coverage(frame: pd.DataFrame) -> pd.DataFrame:
    """coverage_org, coverage_period: every unit a parsed spells frame restates (before rows of
    other areas are skipped)."""
    units = pd.concat([
        pd.DataFrame({"coverage_org": frame["coverage_org"], "coverage_period": frame[column]})
        for column in ("admission_coverage", "discharge_coverage")])
    return units.dropna().drop_duplicates().reset_index(drop=True)


def _commissioner(frame: pd.DataFrame) -> FactRows:
    rows = frame[["org_code", "period", "emergency_admissions"]]
    return FactRows({"commissioner_admissions": TableRows(rows, ["org_code", "period"])},
                    _periods(rows["period"]))


def _delayed_transfers(frame: pd.DataFrame) -> FactRows:
    base = frame[["org_code", "period", "delayed_days_nhs", "delayed_days_social_care",
                  "delayed_days_both"]]
    reasons = [c for c in frame.columns if c.startswith("reason_")]
    by_reason = frame.melt(["org_code", "period"], reasons, "reason_code", "delayed_days")
    by_reason["reason_code"] = by_reason["reason_code"].str.removeprefix("reason_")
    by_reason = by_reason.dropna(subset=["delayed_days"])
    tables = {"delayed_transfer_fact": TableRows(base, ["org_code", "period"])}
    if reasons:
        tables["delay_reason_fact"] = TableRows(by_reason, ["org_code", "period"])
    return FactRows(tables, _periods(base["period"]))


def _org_period_table(table: str, columns: list[str]) -> Callable[[pd.DataFrame], FactRows]:
    def build(frame: pd.DataFrame) -> FactRows:
        rows = frame[["org_code", "period", *columns]]
        return FactRows({table: TableRows(rows, ["org_code", "period"])}, _periods(rows["period"]))

    return build


def _organisations(frame: pd.DataFrame) -> FactRows:
    """Organisations of every level and child->parent memberships with their dates."""
    f = frame.copy()
    f["valid_from"] = f["valid_from"].where(f["valid_from"].notna(), EARLIEST)
    f["valid_to"] = f["valid_to"].astype(object).where(f["valid_to"].notna(), None)
    levels = [("practice", "network"), ("network", "place"), ("place", "system"), ("system", None)]
    orgs, links = [], []
    for level, parent in levels:
        code, name = f"{level}_code", f"{level}_name"
        has = f[f[code].notna() & (f[code] != "")]
        if has.empty:
            continue
        span = has.groupby(code).agg(org_name=(name, "last"), open_date=("valid_from", "min"))
        open_ended = has["valid_to"].isna().groupby(has[code]).any()
        last_end = has.groupby(code)["valid_to"].max()
        span["close_date"] = last_end.where(~open_ended, None)
        span["open_date"] = span["open_date"].where(span["open_date"] != EARLIEST, None)
        orgs.append(span.reset_index().rename(columns={code: "org_code"}).assign(level=level))
        if parent:
            pcode = f"{parent}_code"
            linked = has[has[pcode].notna() & (has[pcode] != "")]
            if level == "practice":
                link = linked[[code, pcode, "valid_from", "valid_to"]]
            else:  # higher levels: one open membership, to the parent most of its rows name
                link = linked.groupby([code, pcode], as_index=False).agg(
                    valid_from=("valid_from", "min"), rows=("valid_from", "size"))
                # A network can span places (PCNs crossing CCG borders): it belongs to the
                # place of most of its practices (ties: the first code), never to two at once.
                link = link.sort_values([code, "rows", pcode], ascending=[True, False, True])
                link = link.drop_duplicates(code)[[code, pcode, "valid_from"]]
                link["valid_to"] = None
            links.append(link.set_axis(["child_code", "parent_code", "valid_from", "valid_to"],
                                       axis=1).drop_duplicates(["child_code", "parent_code",
                                                                "valid_from"]))
    org_rows = pd.concat(orgs, ignore_index=True)
    tables = {"organisation": TableRows(org_rows, ["org_code"], revise=False)}
    if links:
        tables["membership"] = TableRows(pd.concat(links, ignore_index=True), ["child_code"],
                                         revise=False)
    return FactRows(tables, [])


_BUILDERS: dict[str, Callable[[pd.DataFrame], FactRows]] = {
    "population": _population,
    "care_packages": _care_packages,
    "spells": _spells,
    "spells_commissioner": _commissioner,
    "delayed_transfers": _delayed_transfers,
    "reablement": _org_period_table("reablement_fact", [
        "discharged_65_into_reablement", "at_home_91_days", "episodes_ended",
        "no_further_support"]),
    "care_home_admissions": _org_period_table("care_home_fact", [
        "admissions_65_residential", "admissions_65_nursing"]),
    "organisations": _organisations,
}
