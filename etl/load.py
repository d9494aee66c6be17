"""Loading one feed file in one transaction: audit row, revisions, archive and quarantine."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Integer, insert, select, update
from sqlalchemy.engine import Connection, Engine

from carekpi import warehouse as wh
from carekpi.logs import LOAD_ID
from carekpi.periods import first_day, last_day
from etl.detect import detect_layout
from etl.facts import fact_rows_for
from etl.feeds import FEEDS
from etl.feeds.record import FactRows
from etl.problems import FeedError, Problem
from etl.reference import authorities_in, local_authorities

log = logging.getLogger(__name__)


@dataclass
class LoadResult:
    """What happened to one file."""

    file: str
    status: str  # loaded | duplicate | refused
    feed: str | None = None
    layout: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    problems: list[Problem] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    load_id: int | None = None
    affected: dict[str, set[str]] = field(default_factory=dict)  # fact table -> periods


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes: the identity of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def known_codes_reader(conn: Connection) -> Callable[[str], set[str]]:
    """Codes of organisations open in a month ('YYYY-MM'), read once and cached per month.

    English local authorities in force that month (shipped reference data) are always known:
    public returns at local-authority level (DToC) bring the area's peers with them.
    """
    orgs = wh.read_frame(conn, select(wh.organisation.c.org_code, wh.organisation.c.open_date,
                                      wh.organisation.c.close_date))
    cache: dict[str, set[str]] = {}

    def codes(period: str) -> set[str]:
        if period not in cache:
            start = pd.Timestamp(first_day(period))
            end = pd.Timestamp(last_day(period))
            opens, closes = pd.to_datetime(orgs["open_date"]), pd.to_datetime(orgs["close_date"])
            opened = opens.isna() | (opens <= end)
            not_closed = closes.isna() | (closes >= start)
            cache[period] = set(orgs.loc[opened & not_closed, "org_code"]) | set(
                authorities_in(period))
        return cache[period]

    return codes


def load_file(
    engine: Engine, path: Path, *, archive: Path, quarantine: Path,
    feed_hint: str | None = None, today: date | None = None,
) -> LoadResult:
    """Load one file whole or not at all; audit it; move it to archive/ or quarantine/."""
    path = Path(path)
    LOAD_ID.set(None)  # until this file's audit row exists
    started = datetime.now(UTC)
    clock = time.perf_counter()
    digest = content_hash(path)
    audit = {"file_name": path.name, "content_hash": digest, "started_at": started}

    with engine.begin() as conn:
        earlier = conn.execute(
            select(wh.etl_load.c.load_id).where(
                wh.etl_load.c.content_hash == digest, wh.etl_load.c.status == "loaded")
        ).first()
    if earlier is not None:
        result = LoadResult(path.name, "duplicate", load_id=earlier.load_id)
        _finish_audit(engine, audit | {"status": "duplicate",
                                       "error_summary": f"same content as load {earlier.load_id}"},
                      clock)
        _move(path, archive / f"{digest[:16]}__{path.name}")
        return result

    result = LoadResult(path.name, "refused")
    try:
        result.feed, result.layout = detect_layout(path, feed_hint)
        frame = FEEDS[result.feed].parse(path, result.layout)
        set_aside: list[Problem] = list(frame.attrs.get("set_aside", []))
        result.rows_read = len(frame) + len(set_aside)
        with engine.begin() as conn:
            rows = fact_rows_for(result.feed, result.layout, frame, path.name,
                                 today or date.today(), known_codes_reader(conn))
            result.periods = rows.periods
            set_aside += rows.set_aside
            notes = rows.notes + _set_aside_notes(set_aside)
            load_id = _insert_audit(conn, audit | {
                "feed": result.feed, "layout": result.layout, "status": "loaded",
                "periods": ",".join(rows.periods), "rows_read": result.rows_read,
                "rows_refused": len(set_aside), "error_summary": "; ".join(notes) or None})
            LOAD_ID.set(load_id)  # every log line from here on names the load
            _add_peer_authorities(conn, rows)
            result.rows_loaded = _replace_rows(conn, rows, load_id, started)
            result.affected = rows.affected
            archive_path = archive / f"{digest[:16]}__{path.name}"
            conn.execute(update(wh.etl_load).where(wh.etl_load.c.load_id == load_id).values(
                rows_loaded=result.rows_loaded, archive_path=str(archive_path),
                finished_at=datetime.now(UTC), duration_s=time.perf_counter() - clock))
        result.status, result.load_id, result.problems = "loaded", load_id, set_aside
        _move(path, archive_path)
        if set_aside:
            _write_report(archive_path, path.name, result,
                          f"Loaded, with {len(set_aside)} row(s) set aside:")
    except FeedError as exc:
        result.problems = exc.problems
        _refuse(engine, path, result, audit, quarantine / f"{digest[:16]}__{path.name}", clock)
    return result


def _set_aside_notes(set_aside: list[Problem], shown: int = 5) -> list[str]:
    """The audit's words for rows set aside: how many, and the first few with their reasons."""
    if not set_aside:
        return []
    listed = "; ".join(str(p) for p in set_aside[:shown])
    more = f"; ... and {len(set_aside) - shown} more" if len(set_aside) > shown else ""
    return [f"{len(set_aside)} row(s) set aside (see the report): {listed}{more}"]


def _add_peer_authorities(conn: Connection, rows: FactRows) -> None:
    """Local authorities a file names that the warehouse does not know yet become places: with
    the reference's name and dates, or, for one new to the reference, the file's name."""
    codes: set[str] = set()
    for part in rows.tables.values():
        if "org_code" in part.frame.columns:
            codes |= set(part.frame["org_code"].dropna())
    if not codes:
        return
    known = set(conn.execute(select(wh.organisation.c.org_code)
                             .where(wh.organisation.c.org_code.in_(codes))).scalars())
    reference = local_authorities().set_index("ons_code")
    new = sorted((codes - known) & (set(reference.index) | set(rows.described)))
    if not new:
        return
    found = reference.reindex(new)
    names = found["name"].fillna(pd.Series(rows.described)).to_numpy()
    dates = {column: [date.fromisoformat(v) if isinstance(v, str) and v else None
                      for v in found[source]]
             for column, source in (("open_date", "valid_from"), ("close_date", "valid_to"))}
    wh.bulk_insert(conn, wh.organisation, pd.DataFrame(
        {"org_code": new, "level": "place", "org_name": names, **dates}))


def _replace_rows(conn: Connection, rows: FactRows, load_id: int, when: datetime) -> int:
    """Write a file's rows, replacing what earlier loads held in the coverage it restates
    (its key units); rows of other coverage stay and add up. The coverage is recorded."""
    written = 0
    for name, part in rows.tables.items():
        table = wh.metadata.tables[part.table or name]
        if part.fill_only:
            written += wh.bulk_insert(conn, table, _not_yet_in(conn, table, part).assign(
                load_id=load_id))
            continue
        keys = part.coverage()
        if part.revise:
            _supersede(conn, table, keys, load_id, when)
        else:
            wh.delete_keys(conn, table, keys)
        _record_coverage(conn, table.name, keys, load_id)
        written += wh.bulk_insert(conn, table, part.frame.assign(load_id=load_id))
    return written


def _record_coverage(conn: Connection, table: str, keys: pd.DataFrame, load_id: int) -> None:
    """etl_coverage rows: the (organisation, period) units of `table` this load restates."""
    period_col = next((c for c in keys.columns if "period" in c), None)
    if period_col is None:  # reference tables (organisations): no monthly coverage
        return
    code_col = next(c for c in keys.columns if c != period_col)
    units = pd.DataFrame({"load_id": load_id, "table_name": table,
                          "org_code": keys[code_col].fillna("").to_numpy(),
                          "period": keys[period_col].to_numpy()}).drop_duplicates()
    wh.bulk_insert(conn, wh.etl_coverage, units)


def _not_yet_in(conn: Connection, table, part) -> pd.DataFrame:
    """The rows of `part` whose key the table does not hold yet."""
    column = part.keys[0]
    have = set(conn.execute(select(table.c[column]).distinct()).scalars())
    return part.frame[~part.frame[column].isin(have)]


def _supersede(conn: Connection, table, keys: pd.DataFrame, load_id: int, when: datetime) -> None:
    """Record the figures of rows about to be replaced (one revision per key), then delete them."""
    code_col, period_col = keys.columns[0], keys.columns[1]
    periods = sorted(keys[period_col].unique())
    existing = wh.read_frame(conn, select(table).where(table.c[period_col].in_(periods)))
    if existing.empty:
        return
    hit = existing.merge(keys, on=[code_col, period_col])
    if hit.empty:
        return
    measures = [c.name for c in table.columns  # the count columns, whatever pandas inferred
                if isinstance(c.type, Integer) and c.name != "load_id"]
    hit[measures] = hit[measures].apply(pd.to_numeric)
    grouped = hit.groupby([code_col, period_col], dropna=False)
    summary = grouped[measures].sum(min_count=1).join(grouped["load_id"].max())
    summary["rows"] = grouped.size()
    revisions = [
        {"table_name": table.name, "replaced_load_id": _int_or_none(r["load_id"]),
         "superseded_by_load_id": load_id, "superseded_at": when, "org_code": code,
         "period": period,
         "figures": json.dumps({k: _int_or_none(r[k]) for k in [*measures, "rows"]})}
        for (code, period), r in summary.iterrows()
    ]
    conn.execute(insert(wh.etl_revision), revisions)
    wh.delete_keys(conn, table, hit[[code_col, period_col]].drop_duplicates())


def _int_or_none(value) -> int | float | None:
    if value is None or pd.isna(value):
        return None
    return int(value) if float(value).is_integer() else float(value)


def _insert_audit(conn: Connection, values: dict) -> int:
    return conn.execute(insert(wh.etl_load).values(**values)).inserted_primary_key[0]


def _finish_audit(engine: Engine, values: dict, clock: float) -> None:
    with engine.begin() as conn:
        _insert_audit(conn, values | {"finished_at": datetime.now(UTC),
                                      "duration_s": time.perf_counter() - clock})


def _refuse(engine: Engine, path: Path, result: LoadResult, audit: dict, target: Path,
            clock: float) -> None:
    """Quarantine a refused file beside a report of every problem, and audit the refusal."""
    _move(path, target)
    _write_report(target, path.name, result, f"Refused: {len(result.problems)} problem(s); "
                  "nothing from this file was loaded.")
    bad_rows = {p.row for p in result.problems if p.row is not None}
    _finish_audit(engine, audit | {
        "feed": result.feed, "layout": result.layout, "status": "refused",
        "rows_read": result.rows_read, "rows_loaded": 0, "rows_refused": len(bad_rows),
        "error_summary": FeedError(path.name, result.problems).summary(limit=10),
        "archive_path": str(target)}, clock)


def _write_report(stored: Path, name: str, result: LoadResult, headline: str) -> None:
    """A plain-text report beside a stored file: every problem with file, row, column, rule."""
    stored.with_name(stored.name + ".report.txt").write_text(
        f"File: {name}\nFeed: {result.feed or 'unknown'}  Layout: {result.layout or '-'}\n"
        f"{headline}\n\n" + "\n".join(str(p) for p in result.problems) + "\n",
        encoding="utf-8",
    )


def _move(path: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(target))


def recent_loads(conn: Connection, limit: int = 20) -> pd.DataFrame:
    """The latest audit rows, newest first."""
    return wh.read_frame(
        conn, select(wh.etl_load).order_by(wh.etl_load.c.load_id.desc()).limit(limit))
