"""`carekpi etl status`: recent loads, files waiting in the inbox, files in quarantine."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from carekpi.settings import Settings
from etl.load import recent_loads
from etl.pipeline import waiting_files


def describe_status(engine: Engine, settings: Settings, limit: int = 20) -> str:
    """A plain-text report for a data manager."""
    with engine.connect() as conn:
        loads = recent_loads(conn, limit)
    lines = [f"Recent loads (newest first, up to {limit}):"]
    if loads.empty:
        lines.append("  none yet")
    for row in loads.itertuples():
        when = row.finished_at.strftime("%Y-%m-%d %H:%M") if row.finished_at else "-"
        lines.append(f"  #{row.load_id} {when} {row.status:<9} {row.feed or '?':<20} "
                     f"{row.file_name} rows={row.rows_loaded or 0} periods={row.periods or '-'}")
        # a refusal's first problem; for a load with rows set aside, what was set aside
        if row.error_summary and (row.status == "refused" or (row.rows_refused or 0) > 0):
            lines.append("      " + row.error_summary.splitlines()[0])
    waiting = waiting_files(settings.inbox)
    lines.append(f"Waiting in {settings.inbox}: {len(waiting)} file(s)")
    lines += [f"  {feed}/{path.name}" for feed, path in waiting[:50]]
    quarantined = sorted(p for p in settings.quarantine.rglob("*")
                         if p.is_file() and not p.name.endswith(".report.txt")) \
        if settings.quarantine.is_dir() else []
    lines.append(f"Quarantined in {settings.quarantine}: {len(quarantined)} file(s)")
    lines += [f"  {p.relative_to(settings.quarantine)} (report: {p.name}.report.txt)"
              for p in quarantined[:50]]
    return "\n".join(lines)
