"""When the ETL runs: an inbox poll and a nightly full check, on cron schedules in the warehouse.

`carekpi etl schedule` runs `run_schedule`: APScheduler 3 with its SQLAlchemy job store in the
warehouse itself (table `apscheduler_jobs`), so a run missed while the service was down is made
up once, coalesced, when it starts again (within `misfire_grace_seconds`). Jobs take the ETL lock
without waiting, so a poll never queues behind another ETL process; SIGTERM and SIGINT stop the
service between files, never inside a file's transaction.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import utc_timestamp_to_datetime
from sqlalchemy import column, create_engine, inspect, select, table
from sqlalchemy.engine import Engine, make_url

from carekpi.settings import Settings
from etl.lock import LockBusy, etl_lock

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"  # excluded from Alembic in sql/migrations/env.py
POLL_JOB_ID = "carekpi-poll-inbox"
NIGHTLY_JOB_ID = "carekpi-nightly-check"
# Textual references, so the job store keeps "module:function" and a restarted process (or a test
# that patches the function) resolves them afresh.
POLL_FUNC = f"{__name__}:poll_inbox"
NIGHTLY_FUNC = f"{__name__}:nightly_check"
# Fields the jobs never need and that must not sit pickled in a table: secrets and the cache URL.
_NOT_STORED = {"secret_key", "cache_url", "auth"}
# How often a nightly check waiting for the lock looks again (seconds).
LOCK_RETRY_SECONDS = 30.0
HEARTBEAT_SECONDS = 30.0  # how often a running scheduler touches settings.heartbeat

# Set by SIGTERM/SIGINT (or request_stop); the running job stops after its current file.
_stop = threading.Event()
# engine and settings of this process's scheduler, keyed by warehouse URL without its password:
# jobs use them rather than rebuilding from the stored dump, which holds no password.
_live: dict[str, tuple[Engine, Settings]] = {}


def request_stop() -> None:
    """Ask a running job to stop after the file it is loading (what SIGTERM does)."""
    _stop.set()


def cron_trigger(expression: str, timezone: Any = None) -> CronTrigger:
    """A trigger from a crontab line: 5 fields, or 6 with seconds first (`*/10 * * * * *`)."""
    fields = expression.split()
    if len(fields) == 6:
        second, minute, hour, day, month, day_of_week = fields
        return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                           day_of_week=day_of_week, timezone=timezone)
    return CronTrigger.from_crontab(expression, timezone=timezone)


def settings_dump(settings: Settings) -> dict[str, Any]:
    """What a stored job needs to rebuild its settings: plain values, no secrets, no password."""
    dump = settings.model_dump(mode="json", exclude_none=True, exclude=_NOT_STORED)
    dump["warehouse_url"] = _url_key(settings.database_url)
    return dump


def _url_key(url: str) -> str:
    return make_url(url).set(password=None).render_as_string(hide_password=False)


def _context(dump: dict[str, Any]) -> tuple[Engine, Settings, bool]:
    """(engine, settings, owned) for a job: this process's own when it built the scheduler."""
    live = _live.get(dump.get("warehouse_url", ""))
    if live is not None:
        return live[0], live[1], False
    from carekpi.warehouse import make_engine

    settings = Settings(**dump)  # a password left out comes from PGPASSWORD or ~/.pgpass
    return make_engine(settings.database_url), settings, True


def poll_inbox(dump: dict[str, Any]) -> None:
    """Job: load the files waiting in the inbox once, unless another ETL holds the lock."""
    _run_job("poll", dump, full_check=False, patience_s=0.0)


def nightly_check(dump: dict[str, Any]) -> None:
    """Job: the poll's run, then the whole KPI mart rebuilt from the facts.

    Waits for the lock (up to the misfire grace time) rather than skipping: a night missed is a
    day of a stale mart.
    """
    _run_job("nightly", dump, full_check=True, patience_s=None)


def _run_job(name: str, dump: dict[str, Any], *, full_check: bool,
             patience_s: float | None) -> None:
    from etl.mart import rebuild_mart
    from etl.pipeline import run_inbox

    engine, settings, owned = _context(dump)

    def work() -> None:
        summary = run_inbox(engine, settings, stop=_stop.is_set)
        log.info("%s: %s", name, summary.describe())
        if full_check and not _stop.is_set():
            rows = rebuild_mart(engine, None, settings=settings)
            log.info("%s: whole mart rebuilt, %d rows", name, rows)

    try:
        grace = float(settings.misfire_grace_seconds) if patience_s is None else patience_s
        _with_lock(name, engine, settings, grace, work)
    finally:
        if owned:
            engine.dispose()


def _with_lock(name: str, engine: Engine, settings: Settings, patience_s: float,
               work: Callable[[], None]) -> bool:
    """Run `work` under the ETL lock; False (with a log line) when it stayed busy."""
    deadline = time.monotonic() + patience_s
    while True:
        with ExitStack() as held:
            try:
                held.enter_context(etl_lock(engine, settings, wait=False))
            except LockBusy:
                if time.monotonic() >= deadline or _stop.is_set():
                    log.warning("%s: skipped, another ETL process holds the lock", name)
                    return False
                log.info("%s: another ETL process holds the lock; trying again", name)
                _stop.wait(min(LOCK_RETRY_SECONDS, max(deadline - time.monotonic(), 0.0)))
                continue
            work()
            return True


def _jobstore_engine(engine: Engine) -> Engine:
    """The engine the job store writes through.

    On SQLite a separate one with a long busy timeout: the scheduler's own bookkeeping must wait
    behind a long load's write transaction instead of failing in its main loop after 60 s.
    """
    if engine.dialect.name == "sqlite":
        return create_engine(engine.url, connect_args={"timeout": 3600})
    return engine


def _stored_next_run(engine: Engine, job_id: str) -> datetime | None:
    """When the job store last said a job was due (None when not stored yet)."""
    if not inspect(engine).has_table(JOB_TABLE):
        return None
    jobs = table(JOB_TABLE, column("id"), column("next_run_time"))
    with engine.connect() as conn:
        stamp = conn.execute(select(jobs.c.next_run_time).where(jobs.c.id == job_id)).scalar()
    return utc_timestamp_to_datetime(stamp)


def build_scheduler(engine: Engine, settings: Settings, *, blocking: bool = True) -> BaseScheduler:
    """A scheduler (not started) holding the poll and nightly jobs in the warehouse's job store.

    Jobs are stored under stable ids and replaced on every start, so a changed cron takes
    effect; a run that fell due while no scheduler was running keeps its due time, so it runs once
    on start (several missed runs coalesce into one) when still within the grace time.
    """
    store_engine = _jobstore_engine(engine)
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(
        jobstores={"default": SQLAlchemyJobStore(engine=store_engine, tablename=JOB_TABLE)},
        # One ETL job at a time in this process; other processes are kept out by the ETL lock.
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": settings.misfire_grace_seconds},
    )
    dump = settings_dump(settings)
    _live[dump["warehouse_url"]] = (engine, settings)
    for job_id, func, setting, name in (
        (POLL_JOB_ID, POLL_FUNC, "poll_cron", "poll the inbox"),
        (NIGHTLY_JOB_ID, NIGHTLY_FUNC, "nightly_cron", "nightly full check"),
    ):
        expression = getattr(settings, setting)
        try:
            trigger = cron_trigger(expression, scheduler.timezone)
        except ValueError as exc:
            raise ValueError(f"CAREKPI_{setting.upper()} = {expression!r} is not a cron "
                             f"expression (minute hour day month weekday): {exc}") from exc
        now = datetime.now(scheduler.timezone)
        missed = _stored_next_run(store_engine, job_id)
        extra = {}
        # replace_existing would otherwise overwrite a missed due time with the next one.
        if missed is not None and missed <= now:
            extra["next_run_time"] = missed
        scheduler.add_job(func, trigger, args=[dump], id=job_id, name=name,
                          replace_existing=True, **extra)
    return scheduler


def run_schedule(engine: Engine, settings: Settings) -> None:
    """Run the schedule in the foreground until SIGTERM or SIGINT, then stop between files."""
    _plain_logging()
    _stop.clear()
    scheduler = build_scheduler(engine, settings, blocking=False)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.warning("signal %d: stopping after the current file", signum)
        request_stop()
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start()
        _beat(settings, scheduler)
        for job in scheduler.get_jobs():
            log.info("scheduled %s (%s): next run %s", job.name, job.trigger, job.next_run_time)
        last_beat = time.monotonic()
        while not stopping.wait(1.0):
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                _beat(settings, scheduler)
                last_beat = time.monotonic()
    finally:
        # Waits for a running job, which stops after its current file (it watches the flag).
        if scheduler.running:
            scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.warning("scheduler stopped")


def _beat(settings: Settings, scheduler: BaseScheduler) -> None:
    """Touch the heartbeat file while the scheduler runs (dashboard /healthz reads its age)."""
    if scheduler.running:
        try:
            settings.heartbeat.parent.mkdir(parents=True, exist_ok=True)
            settings.heartbeat.touch()
        except OSError as exc:  # a read-only folder must not stop the ETL
            log.warning("heartbeat %s not written: %s", settings.heartbeat, exc)


def _plain_logging() -> None:
    """A service's log: the ETL's own INFO lines shown, plainly, even when the CLI is quiet."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if logging.getLogger("etl").getEffectiveLevel() > logging.INFO:
        logging.getLogger("etl").setLevel(logging.INFO)
