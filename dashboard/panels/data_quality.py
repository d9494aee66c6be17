"""The data-quality page's content: feeds' freshness, recent loads, refused files and rows with
their reasons, quarantined files, practices missing a month and provisional months, each as rows
for a table (and the frame behind it for the CSV download).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from dash import html

from dashboard import queries, state, theme
from dashboard.components.download import send_csv
from dashboard.components.freshness import FEED_NAMES
from dashboard.figures.common import org_label
from kpi.catalogue import get_kpi

REPORT_SUFFIX = ".report.txt"


def _when(value) -> str:
    """'30 Nov 2026 00:22' for a timestamp; '–' when missing."""
    if value is None or pd.isna(value):
        return "–"
    return pd.Timestamp(value).strftime("%d %b %Y %H:%M")


def _month(period) -> str:
    return theme.month_label(period) if isinstance(period, str) and period else "–"


def _feed(feed, stored_at: str | None = None) -> str:
    """The feed's name; for a file no layout recognised, the inbox folder it arrived in."""
    if isinstance(feed, str):
        return FEED_NAMES.get(feed, feed)
    folder = Path(stored_at).parent.name if isinstance(stored_at, str) and stored_at else None
    return f"not recognised (arrived in {folder}/)" if folder else "not recognised"


def _names() -> pd.Series:
    return queries.organisations(with_data=False).set_index("org_code")["org_name"]


def freshness_rows() -> list[dict]:
    """Each feed's last successful load and the newest month it brought."""
    return [{"feed": _feed(r.feed), "loaded": _when(r.finished_at),
             "latest_month": _month(r.latest_period)}
            for r in queries.feed_freshness().itertuples(index=False)]


def load_rows(limit: int = 100) -> list[dict]:
    """The latest loads, newest first."""
    return [{"load_id": int(r.load_id), "finished": _when(r.finished_at), "feed": _feed(r.feed),
             "file_name": r.file_name, "months": r.periods or "–", "status": r.status,
             "rows_loaded": int(r.rows_loaded or 0), "rows_refused": int(r.rows_refused or 0)}
            for r in queries.recent_loads(limit).itertuples(index=False)]


def refused_items() -> list:
    """Each refused file, or loaded file with rows refused, with every reason the ETL gave."""
    refused = queries.refused_loads()
    if refused.empty:
        return [html.P("No file or row has been refused.", className="caption")]
    items = []
    for r in refused.itertuples(index=False):
        what = ("Refused: nothing loaded" if r.status == "refused"
                else f"Loaded, {int(r.rows_refused)} row(s) refused")
        items.append(html.Li([
            html.Strong(r.file_name),
            html.Span(f" · {_feed(r.feed, r.archive_path)} · {_when(r.finished_at)} · {what}"),
            html.Pre(r.error_summary or "No reason recorded.", className="reason",
                     style={"whiteSpace": "pre-wrap"}),
        ]))
    return [html.Ul(items, className="refused-list")]


def quarantined_files(folder: Path) -> pd.DataFrame:
    """Files in the quarantine folder: feed (its sub-folder), file_name (as it arrived),
    stored_as, size_bytes, quarantined_at, report (the ETL's report beside it, if any)."""
    columns = ["feed", "file_name", "stored_as", "size_bytes", "quarantined_at", "report"]
    if not folder.is_dir():
        return pd.DataFrame(columns=columns)
    rows = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()
                       and not p.name.endswith(REPORT_SUFFIX)):
        report = path.with_name(path.name + REPORT_SUFFIX)
        stat = path.stat()
        rows.append({
            "feed": path.parent.name if path.parent != folder else None,
            # stored as '<hash prefix>__<name>' so two files of one name never collide
            "file_name": path.name.split("__", 1)[-1],
            "stored_as": str(path.relative_to(folder)),
            "size_bytes": stat.st_size,
            "quarantined_at": datetime.fromtimestamp(stat.st_mtime, tz=UTC),
            "report": report.read_text(encoding="utf-8", errors="replace")
            if report.is_file() else None})
    return pd.DataFrame(rows, columns=columns)


def quarantine_items(folder: Path) -> list:
    """The quarantined files with their reports, or a line saying there are none."""
    files = quarantined_files(folder)
    if files.empty:
        return [html.P(f"No file is in quarantine ({folder}).", className="caption")]
    return [html.P(f"{len(files)} file(s) in {folder}; move a corrected file back to the inbox "
                   f"to load it.", className="caption"),
            html.Ul([html.Li([
                html.Strong(r.file_name),
                html.Span(f" · {_feed(r.feed)} · {_when(r.quarantined_at)} · "
                          f"{r.size_bytes:,} bytes · stored as {r.stored_as}"),
                html.Details([html.Summary("The ETL's report"),
                              html.Pre(r.report or "No report beside the file.",
                                       className="reason", style={"whiteSpace": "pre-wrap"})]),
            ]) for r in files.itertuples(index=False)], className="quarantine-list")]


def missing_frame() -> pd.DataFrame:
    """Practices missing a month of a feed every practice submits, with names."""
    missing = queries.missing_submissions()
    names = _names()
    missing["practice_name"] = missing["practice_code"].map(names)
    missing["network_name"] = missing["parent_code"].map(names)
    return missing


def missing_rows() -> list[dict]:
    """Rows of the missing-submissions table, newest month first."""
    frame = missing_frame().sort_values(["period", "feed", "practice_code"],
                                        ascending=[False, True, True])
    return [{"month": _month(r.period), "feed": _feed(r.feed),
             "practice": org_label(r.practice_code, r.practice_name),
             "network": org_label(r.parent_code, r.network_name)
             if isinstance(r.parent_code, str) else "no network"}
            for r in frame.itertuples(index=False)]


def provisional_frame() -> pd.DataFrame:
    """The area's provisional KPI months with their reasons (org_code, kpi_id, form, period,
    provisional_reason), newest first."""
    parts = [queries.provisional_months(code).assign(org_code=code)
             for code in queries.area_codes()]
    columns = ["org_code", "kpi_id", "form", "period", "provisional_reason"]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True)[columns]
    return frame.sort_values(["period", "kpi_id"], ascending=[False, True]).reset_index(
        drop=True)


def provisional_rows() -> list[dict]:
    """Rows of the provisional-months table."""
    names = _names()
    rows = []
    for r in provisional_frame().itertuples(index=False):
        try:
            kpi = state.kpi_label(get_kpi(r.kpi_id))
        except KeyError:
            kpi = r.kpi_id
        rows.append({"month": _month(r.period), "kpi": kpi,
                     "organisation": org_label(r.org_code, names.get(r.org_code)),
                     "reason": r.provisional_reason if isinstance(r.provisional_reason, str)
                     and r.provisional_reason else "Within the KPI's provisional period"})
    return rows


def summary(folder: Path) -> str:
    """One sentence of counts, so the page says at once whether anything needs doing."""
    refused = queries.refused_loads()
    files = int((refused["status"] == "refused").sum())
    rows = int(refused.loc[refused["status"] != "refused", "rows_refused"].fillna(0).sum())
    waiting = len(quarantined_files(folder))
    missing = missing_frame()
    late = missing[["practice_code", "period", "feed"]].drop_duplicates().shape[0]
    provisional = provisional_frame()
    months = provisional[["kpi_id", "period"]].drop_duplicates().shape[0]
    return (f"{files} file(s) refused and {rows} row(s) refused in loaded files; {waiting} "
            f"file(s) in quarantine; {late} practice month(s) missing from a feed; {months} "
            f"KPI month(s) provisional.")


CSV_TABLES = {
    "loads": lambda: queries.recent_loads(100),
    "refused": queries.refused_loads,
    "missing": missing_frame,
    "provisional": provisional_frame,
}


def csv_for(table: str) -> dict:
    """The CSV download of one of the page's tables."""
    stamp = datetime.now(tz=UTC).strftime("%Y-%m-%d")
    return send_csv(CSV_TABLES[table](), f"data_quality_{table}_{stamp}.csv")
