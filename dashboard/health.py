"""What GET /healthz answers: the warehouse reachable, its migrations current, the last
successful load and its age, the scheduler's heartbeat; unhealthy means HTTP 503."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from carekpi import warehouse as wh
from carekpi.migrate import alembic_config, current_revision
from carekpi.settings import Settings

HEARTBEAT_STALE_S = 180  # the scheduler touches its file every 30 s


def _head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def check(engine: Engine, settings: Settings, *, scheduler_expected: bool) -> tuple[dict, int]:
    """(report, HTTP status): 200 when every check passes, else 503 naming what failed."""
    report: dict = {}
    problems: list[str] = []
    try:
        revision = current_revision(engine)
        with engine.connect() as conn:
            last = conn.execute(select(func.max(wh.etl_load.c.finished_at), func.max(
                wh.etl_load.c.load_id)).where(wh.etl_load.c.status == "loaded")).one()
    except Exception as exc:  # any driver error: monitoring must get an answer, not a 500
        report["warehouse"] = "unreachable"
        report["error"] = exc.__class__.__name__
        return {**report, "status": "unhealthy", "problems": ["warehouse unreachable"]}, 503
    report["warehouse"] = "ok"
    report["migrations"] = {"current": revision, "head": _head_revision()}
    if revision != report["migrations"]["head"]:
        problems.append("migrations not current (run `carekpi db upgrade`)")
    report["latest_load_id"] = int(last[1]) if last[1] is not None else None
    report["last_load_at"] = _as_utc(last[0]).isoformat() if last[0] else None
    if last[0]:
        age_h = (datetime.now(UTC) - _as_utc(last[0])).total_seconds() / 3600
        report["last_load_age_hours"] = round(age_h, 2)
        if settings.max_load_age_hours and age_h > settings.max_load_age_hours:
            problems.append(f"last successful load is older than {settings.max_load_age_hours} h")
    try:
        beat_age = time.time() - settings.heartbeat.stat().st_mtime
        report["scheduler_heartbeat_age_s"] = round(beat_age, 1)
    except OSError:
        beat_age = None
        report["scheduler_heartbeat_age_s"] = None
    if scheduler_expected and (beat_age is None or beat_age > HEARTBEAT_STALE_S):
        problems.append("scheduler heartbeat missing or stale")
    report["status"] = "unhealthy" if problems else "ok"
    report["problems"] = problems
    return report, 503 if problems else 200
