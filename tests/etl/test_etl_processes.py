"""ETL processes against one warehouse: a load killed mid-transaction, and two loads at once.

Each test runs `python -m carekpi etl run` as a real process on SQLite and on PostgreSQL; the
helpers that write native feed files are shared with test_scheduler.py.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url

from carekpi import warehouse as wh
from carekpi.settings import Settings
from etl.load import content_hash
from etl.pipeline import run_inbox

REPO = Path(__file__).resolve().parents[2]
ELEMENTS = ["complete", "hba1c", "blood_pressure", "cholesterol", "serum_creatinine",
            "urine_albumin", "foot_surveillance", "bmi", "smoking_status", "retinal_screening"]


# --- native feed files ---------------------------------------------------------------------
def practice_codes(n: int) -> list[str]:
    return [f"P{i:05d}" for i in range(n)]


def write_organisations(inbox: Path, codes: list[str], name: str = "organisations.csv") -> Path:
    """A native organisations CSV: ten practices per network, all in one place and system."""
    frame = pd.DataFrame({
        "practice_code": codes,
        "practice_name": [f"Practice {c}" for c in codes],
        "network_code": [f"U{i // 10:05d}" for i in range(len(codes))],
        "network_name": [f"Network {i // 10}" for i in range(len(codes))],
        "place_code": "E09000030", "place_name": "Tower Hamlets",
        "system_code": "QMF", "system_name": "North East London",
        "valid_from": "2015-04-01", "valid_to": "",
    })
    path = inbox / "organisations" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def write_population(inbox: Path, codes: list[str], name: str = "population.csv") -> Path:
    """A registered-population file in NHS Digital's gp-reg-pat-prac-all layout (one month)."""
    frame = pd.DataFrame({
        "PUBLICATION": "GP_PRAC_PAT_LIST", "EXTRACT_DATE": "01JAN2021", "TYPE": "GP",
        "CCG_CODE": "08V", "ONS_CCG_CODE": "E38000186", "CODE": codes, "POSTCODE": "E1 1AA",
        "SEX": "ALL", "AGE": "ALL", "NUMBER_OF_PATIENTS": range(5000, 5000 + len(codes)),
    })
    path = inbox / "population" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def write_reference_files(inbox: Path, codes: list[str]) -> list[Path]:
    """The organisations and population files every other feed is checked against."""
    return [write_organisations(inbox, codes), write_population(inbox, codes)]


def months(first: str, count: int) -> list[str]:
    return [str(p) for p in pd.period_range(first, periods=count, freq="M")]


def write_care_packages(inbox: Path, name: str, codes: list[str], periods: list[str],
                        seed: int, elements: list[str] = ELEMENTS) -> pd.DataFrame:
    """A native care-packages CSV: every practice x period x diabetes element; returns its rows."""
    grid = pd.MultiIndex.from_product([codes, periods, elements],
                                      names=["practice_code", "period", "element"]).to_frame(
                                          index=False)
    rng = np.random.default_rng(seed)
    register = rng.integers(50, 400, len(grid))
    frame = grid.assign(package="diabetes", register=register,
                        completed=(register * rng.uniform(0, 1, len(grid))).astype(int))
    frame = frame[["practice_code", "period", "package", "element", "register", "completed"]]
    path = inbox / "care_packages" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame


def fact_totals(conn, load_id: int | None = None) -> tuple[int, int, int]:
    """(rows, sum of register, sum of completed) in care_package_fact, optionally of one load."""
    t = wh.care_package_fact
    query = select(func.count(), func.sum(t.c.register), func.sum(t.c.completed))
    if load_id is not None:
        query = query.where(t.c.load_id == load_id)
    rows, register, completed = conn.execute(query).one()
    return int(rows), int(register or 0), int(completed or 0)


def frame_totals(frame: pd.DataFrame) -> tuple[int, int, int]:
    return len(frame), int(frame["register"].sum()), int(frame["completed"].sum())


# --- running the command line as a process --------------------------------------------------
def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a carekpi process on the test's warehouse and folders only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREKPI_")}
    env |= {"CAREKPI_WAREHOUSE_URL": settings.database_url,
            "CAREKPI_DATA_DIR": str(settings.data_dir),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1"}
    return env | extra


def start_cli(settings: Settings, *args: str, cwd: Path, **extra_env: str) -> subprocess.Popen:
    """`python -m carekpi ARGS` started in the background (cwd keeps any .env out of reach)."""
    return subprocess.Popen([sys.executable, "-m", "carekpi", *args], cwd=cwd,
                            env=cli_env(settings, **extra_env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(condition: Callable[[], bool], timeout_s: float, every_s: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every_s)
    return condition()


def loaded_by_hash(conn) -> dict[str, int]:
    """Number of 'loaded' audit rows per content hash."""
    t = wh.etl_load
    rows = conn.execute(select(t.c.content_hash, func.count()).where(t.c.status == "loaded")
                        .group_by(t.c.content_hash)).all()
    return {h: int(n) for h, n in rows}


# --- telling that a load's transaction is open, from outside the loading process -------------
def _schema(engine: Engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT current_schema()")).scalar()


def _pg_audit_writers(engine: Engine) -> int:
    """Backends holding a write lock on this schema's etl_load: an uncommitted load's audit row."""
    query = text("""
        SELECT count(*) FROM pg_locks l
        JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = :schema AND c.relname = 'etl_load' AND l.mode = 'RowExclusiveLock'
          AND l.pid <> pg_backend_pid()""")
    with engine.connect() as conn:
        return int(conn.execute(query, {"schema": _schema(engine)}).scalar())


def _sqlite_writer_active(engine: Engine) -> bool:
    """True while another connection holds SQLite's write lock (a write transaction is open)."""
    con = sqlite3.connect(make_url(str(engine.url)).database, timeout=0)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        con.close()


def load_transaction_open(engine: Engine, waiting: Path) -> bool:
    """The loader is inside the file's transaction: it writes, and the file is not yet archived.

    The audit row is the transaction's first write and the file moves only after the commit, so
    a write in progress while the file still waits can only be that file's load.
    """
    if not waiting.exists():
        return False
    if engine.dialect.name == "postgresql":
        return _pg_audit_writers(engine) > 0
    return _sqlite_writer_active(engine) and waiting.exists()


# --- the tests -------------------------------------------------------------------------------
def test_killed_mid_load_leaves_warehouse_unchanged_and_next_run_loads_all(
        warehouse, settings, tmp_path):
    codes = practice_codes(200)
    write_reference_files(settings.inbox, codes)
    assert run_inbox(warehouse, settings).count("loaded") == 2

    # 200 practices x 10 elements x 30 months = 60,000 rows; doubled if the load beats the kill.
    count = 30
    for attempt in range(3):
        frame = write_care_packages(settings.inbox, f"care_packages_{attempt}.csv", codes,
                                    months("2019-01", count), seed=attempt)
        path = settings.inbox / "care_packages" / f"care_packages_{attempt}.csv"
        digest = content_hash(path)
        with warehouse.connect() as conn:
            before = wh.table_digest(conn)
        proc = start_cli(settings, "etl", "run", cwd=tmp_path)
        try:
            caught = wait_for(lambda p=proc, f=path: load_transaction_open(warehouse, f)
                              or p.poll() is not None, timeout_s=60, every_s=0.005)
            caught = caught and proc.poll() is None
            proc.send_signal(signal.SIGKILL)
        finally:
            _out, err = proc.communicate(timeout=30)
        if warehouse.dialect.name == "postgresql":  # the server ends the killed session's work
            assert wait_for(lambda: _pg_audit_writers(warehouse) == 0, timeout_s=30)
        with warehouse.connect() as conn:
            committed = loaded_by_hash(conn).get(digest, 0)
            after = wh.table_digest(conn)
        assert caught or committed, f"the run neither loaded nor was caught loading:\n{err}"
        if caught and not committed:
            break
        count *= 2  # the load committed before the kill: a larger file widens the window
    else:
        pytest.fail("the load always finished before it could be killed")

    assert proc.returncode == -signal.SIGKILL
    assert after == before, "a killed load changed the warehouse"
    assert path.exists(), "the file of a killed load must still wait in the inbox"

    done = subprocess.run([sys.executable, "-m", "carekpi", "etl", "run"], cwd=tmp_path,
                          env=cli_env(settings), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not path.exists()
    with warehouse.connect() as conn:
        assert loaded_by_hash(conn)[digest] == 1
        load = conn.execute(select(wh.etl_load).where(wh.etl_load.c.content_hash == digest,
                                                      wh.etl_load.c.status == "loaded")).one()
        assert load.rows_loaded == len(frame) == len(codes) * len(ELEMENTS) * count
        assert fact_totals(conn, load.load_id) == frame_totals(frame)


def test_two_processes_started_together_load_each_file_once(warehouse, settings, tmp_path):
    codes = practice_codes(200)
    files = write_reference_files(settings.inbox, codes)
    frames = []
    for i, first in enumerate(["2021-01", "2021-07", "2022-01"]):
        frames.append(write_care_packages(settings.inbox, f"cp_{first}.csv", codes,
                                          months(first, 6), seed=i))
        files.append(settings.inbox / "care_packages" / f"cp_{first}.csv")
    hashes = {content_hash(p) for p in files}

    procs = [start_cli(settings, "etl", "run", cwd=tmp_path) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err

    assert not any(p.exists() for p in files)
    with warehouse.connect() as conn:
        assert loaded_by_hash(conn) == {h: 1 for h in hashes}
        statuses = conn.execute(select(wh.etl_load.c.status)).scalars().all()
        assert sorted(statuses) == ["loaded"] * len(files)
        expected = frame_totals(pd.concat(frames))
        assert fact_totals(conn) == expected
        orgs = conn.execute(select(func.count()).select_from(wh.organisation)).scalar()
        assert orgs == len(codes) + len(codes) // 10 + 1 + 1  # practices, networks, place, system
