"""Turning a parsed, validated feed frame into the warehouse rows it stands for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd

from etl.authorities import place_authorities
from etl.feeds import FEEDS
from etl.feeds.record import FactRows
from etl.problems import FeedError, Problem
from etl.validate import check_duplicates, validate_frame


def fact_rows_for(
    feed: str, layout: str, frame: pd.DataFrame, file: str, today: date,
    known_codes: Callable[[str], set[str]],
) -> FactRows:
    """Validate a parsed frame and build its warehouse rows; FeedError lists every problem."""
    record = FEEDS[feed]
    kind = record.frame_for(layout)
    spec = record.layouts.get(layout, {})
    notes: list[str] = list(frame.attrs.get("notes", []))
    parsed = frame  # before national rows are filtered: a file's coverage is all it restates
    placed = None
    if spec.get("scope") == "national" and not frame.empty:
        if spec.get("describes") == "authorities":
            placed = place_authorities(frame, file, known_codes, frame.attrs.get("described", {}))
            frame, notes = placed.frame, notes + placed.notes
            known_codes = _also_known(known_codes, set(placed.described))
        else:
            frame, skipped = _keep_our_organisations(frame, kind.code_column, known_codes)
            notes += skipped
    problems: list[Problem] = []
    if frame.empty:
        problems.append(Problem(file, "file has a header but no data rows"))
    else:
        if kind.schema is not None:
            problems += validate_frame(
                frame, feed=feed, file=file, schema=kind.schema, today=today,
                known_codes=known_codes if kind.code_column else None,
                code_column=kind.code_column)
        if kind.keys:
            problems += check_duplicates(frame, list(kind.keys), file)
    if problems:
        raise FeedError(file, problems)
    rows = kind.build(frame, spec)
    rows.notes = notes
    if placed is not None:
        rows.described, rows.set_aside = placed.described, placed.set_aside
    if kind.coverage is not None:
        cover = kind.coverage(parsed)
        for table in rows.tables.values():
            table.cover = cover
    return rows


def _also_known(
    known_codes: Callable[[str], set[str]], extra: set[str],
) -> Callable[[str], set[str]]:
    """`known_codes` widened by codes known in every month (authorities a file introduces)."""
    def codes(period: str) -> set[str]:
        return known_codes(period) | extra

    return codes


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
