"""The ETL schedule: jobs kept in the warehouse, missed runs made up once, the lock, stopping."""

from __future__ import annotations

import logging
import signal
import time
from datetime import datetime, timedelta

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import delete, func, select, text

import etl.pipeline
import etl.scheduler as sched
from carekpi import warehouse as wh
from carekpi.settings import Settings
from etl.lock import etl_lock
from etl.pipeline import run_inbox
from tests.etl.test_etl_processes import (
    fact_totals,
    frame_totals,
    loaded_by_hash,
    months,
    practice_codes,
    start_cli,
    wait_for,
    write_care_packages,
    write_reference_files,
)


@pytest.fixture(autouse=True)
def _no_stop_left_over():
    sched._stop.clear()
    yield
    sched._stop.clear()


def _with(settings: Settings, **changes) -> Settings:
    return Settings(**settings.model_dump(exclude_none=True) | changes)


def _stored_jobs(engine) -> dict[str, float]:
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, next_run_time FROM {sched.JOB_TABLE}")).all()
    return {job_id: stamp for job_id, stamp in rows}


def _inbox_with_care_packages(settings: Settings, files: int, practices: int = 50):
    """Reference files plus `files` care-packages files of distinct months; their frames."""
    codes = practice_codes(practices)
    write_reference_files(settings.inbox, codes)
    frames = {}
    for i in range(files):
        name = f"cp_{i}.csv"
        frames[name] = write_care_packages(settings.inbox, name, codes,
                                           months(f"{2019 + i}-01", 12), seed=i)
    return frames


def test_run_missed_while_down_runs_once_on_restart(warehouse, settings, tmp_path, monkeypatch):
    calls = tmp_path / "calls.txt"
    monkeypatch.setattr(sched, "poll_inbox", lambda dump: calls.open("a").write("poll\n"))
    monkeypatch.setattr(sched, "nightly_check", lambda dump: calls.open("a").write("nightly\n"))
    now = datetime.now().astimezone()
    # Hourly at a minute half an hour away, so no run falls due by the clock during the test.
    minute = (now.minute + 30) % 60
    settings = _with(settings, poll_cron=f"{minute} * * * *", nightly_cron=f"{minute} 3 1 1 *",
                     misfire_grace_seconds=86_400)

    first = sched.build_scheduler(warehouse, settings, blocking=False)
    first.start(paused=True)
    first.shutdown(wait=True)
    # The service went down 5 h 40 min ago, when the job was due: six hourly runs missed since.
    down_since = now - timedelta(hours=5, minutes=40)
    store = SQLAlchemyJobStore(engine=warehouse, tablename=sched.JOB_TABLE)
    store.start(first, "default")
    job = store.lookup_job(sched.POLL_JOB_ID)
    job._modify(next_run_time=down_since)
    store.update_job(job)
    assert _stored_jobs(warehouse)[sched.POLL_JOB_ID] == pytest.approx(down_since.timestamp())

    restarted = sched.build_scheduler(warehouse, settings, blocking=False)
    restarted.start()
    try:
        assert wait_for(calls.exists, timeout_s=10)
        time.sleep(1.0)  # room for a second, wrong, run to show up
    finally:
        restarted.shutdown(wait=True)

    assert calls.read_text().splitlines() == ["poll"]
    due = datetime.fromtimestamp(_stored_jobs(warehouse)[sched.POLL_JOB_ID]).astimezone()
    assert due > now and due.minute == minute and due - now <= timedelta(hours=1)


def test_job_store_keeps_one_row_per_job_and_takes_a_changed_cron(warehouse, settings):
    sched.build_scheduler(warehouse, settings, blocking=False).start(paused=True)
    changed = _with(settings, nightly_cron="15 4 * * *")
    scheduler = sched.build_scheduler(warehouse, changed, blocking=False)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert set(_stored_jobs(warehouse)) == {sched.POLL_JOB_ID, sched.NIGHTLY_JOB_ID}
    nightly = jobs[sched.NIGHTLY_JOB_ID]
    assert (nightly.next_run_time.hour, nightly.next_run_time.minute) == (4, 15)
    assert nightly.coalesce and nightly.max_instances == 1
    assert nightly.misfire_grace_time == settings.misfire_grace_seconds
    stored = Settings(**nightly.args[0])  # the stored job rebuilds the settings it was given
    assert stored.database_url.split("?")[0] == changed.database_url.split("?")[0]
    assert stored.nightly_cron == "15 4 * * *"
    assert "secret_key" not in nightly.args[0]


def test_poll_skips_while_another_etl_holds_the_lock(warehouse, settings, caplog):
    frames = _inbox_with_care_packages(settings, files=1)
    dump = sched.settings_dump(settings)
    with etl_lock(warehouse, settings), caplog.at_level(logging.INFO, logger="etl"):
        sched.poll_inbox(dump)
    assert "poll: skipped, another ETL process holds the lock" in caplog.text
    assert (settings.inbox / "care_packages" / "cp_0.csv").exists()
    with warehouse.connect() as conn:
        assert conn.execute(select(func.count()).select_from(wh.etl_load)).scalar() == 0

    sched.poll_inbox(dump)  # the lock is free again
    with warehouse.connect() as conn:
        assert sorted(loaded_by_hash(conn).values()) == [1, 1, 1]
        assert fact_totals(conn) == frame_totals(frames["cp_0.csv"])


def test_stop_request_stops_between_files(warehouse, settings, monkeypatch):
    frames = _inbox_with_care_packages(settings, files=3)
    real_load = etl.pipeline.load_file

    def load_then_stop(engine, path, **kwargs):
        result = real_load(engine, path, **kwargs)
        if path.name == "cp_0.csv":
            sched.request_stop()  # as SIGTERM does while this file loads
        return result

    monkeypatch.setattr(etl.pipeline, "load_file", load_then_stop)
    sched.poll_inbox(sched.settings_dump(settings))

    waiting = sorted(p.name for p in (settings.inbox / "care_packages").iterdir())
    assert waiting == ["cp_1.csv", "cp_2.csv"]
    with warehouse.connect() as conn:
        loads = conn.execute(select(wh.etl_load.c.file_name, wh.etl_load.c.status,
                                    wh.etl_load.c.rows_loaded, wh.etl_load.c.load_id)).all()
        assert sorted((f, s) for f, s, _n, _i in loads) == [
            ("cp_0.csv", "loaded"), ("organisations.csv", "loaded"), ("population.csv", "loaded")]
        cp = next(row for row in loads if row.file_name == "cp_0.csv")
        assert cp.rows_loaded == len(frames["cp_0.csv"])
        assert fact_totals(conn) == fact_totals(conn, cp.load_id) == frame_totals(
            frames["cp_0.csv"])


def test_nightly_check_rebuilds_the_whole_mart(warehouse, settings):
    _inbox_with_care_packages(settings, files=1)
    run_inbox(warehouse, settings)
    with warehouse.begin() as conn:
        built = wh.table_digest(conn, [wh.kpi_mart])
        assert conn.execute(select(func.count()).select_from(wh.kpi_mart)).scalar() > 0
        conn.execute(delete(wh.kpi_mart))
    sched.nightly_check(sched.settings_dump(settings))
    with warehouse.connect() as conn:
        assert wh.table_digest(conn, [wh.kpi_mart]) == built


def test_sigterm_stops_the_schedule_between_files(warehouse, settings, tmp_path):
    frames = _inbox_with_care_packages(settings, files=4, practices=200)
    proc = start_cli(settings, "etl", "schedule", cwd=tmp_path,
                     CAREKPI_POLL_CRON="* * * * * *", CAREKPI_NIGHTLY_CRON="0 0 1 1 *")

    def loaded() -> int:
        with warehouse.connect() as conn:
            return sum(loaded_by_hash(conn).values())

    try:
        # organisations, population and the first care-packages file: a poll is mid-inbox.
        assert wait_for(lambda: loaded() >= 3 or proc.poll() is not None, timeout_s=60,
                        every_s=0.02)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 0, err
    assert "stopping after the current file" in err
    waiting = {p.name for p in (settings.inbox / "care_packages").iterdir()}
    assert waiting, "the schedule should have stopped before the last file"
    with warehouse.connect() as conn:
        loads = {row.file_name: row for row in conn.execute(select(wh.etl_load)).all()}
        for name, frame in frames.items():
            if name in waiting:  # untouched: nothing of it loaded
                assert name not in loads
            else:  # loaded whole
                assert loads[name].status == "loaded"
                assert fact_totals(conn, loads[name].load_id) == frame_totals(frame)
